// A break-glass is asked for only on a protected branch. Whoever starts a run is its requester, and what a dispatch on
// a ref runs is the workflow file on that ref: on a ref that is no protected branch that file is anyone's with write
// access. alice rewrites a workflow file on her own branch (alice/preview) so that it calls the platform's break-glass
// workflow, commits her change there with bob's e-mail as its author (GitHub links it to bob), and asks bob to "run the
// preview on my branch": bob dispatches it (workflow_dispatch, the run's first attempt), so bob is its requester and
// the change's author, and alice, a reviewer of the break-glass environment, releases the break-glass herself — an
// approver distinct from both, and nobody but her stood behind it (threat model row 147).
//
// Built as its attacker would build it: the genuine build, break-glass and deploy actions on the loopback Sigstore
// stack, the OIDC issuer and the GitHub fake. The break-glass workflow refuses to sign on her branch (its token's
// ref); one a workflow that did not check signed there, the deploy gate and `twokey verify` refuse (its certificate's
// Source Repository Ref); the honest one, dispatched on main, is used.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BreakGlassPredicate, breakGlassRunSubject, type DeployReport, readDeployReport } from '@twokey/core';
import { signStatement } from '@twokey/sigstore';
import {
  type ActionRun,
  aCommit,
  aGitHubState,
  anApprovedChange,
  aUser,
  type FakeAccount,
  type FakeRepository,
  type FakeUser,
  type GitHubFake,
  identity,
  type OidcIssuer,
  pushCommit,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';

const ISSUER = 'https://token.actions.githubusercontent.com';
const PLATFORM = 'acme/platform/.github/workflows';
const BUILD_WORKFLOW = `${PLATFORM}/twokey-build.yml@refs/tags/v1.0.0`;
const SIGN_WORKFLOW = `${PLATFORM}/twokey-sign.yml@refs/tags/v1.0.0`;
const DEPLOY_WORKFLOW = `${PLATFORM}/twokey-deploy.yml@refs/tags/v1.0.0`;
const BREAK_GLASS_WORKFLOW = `${PLATFORM}/twokey-break-glass.yml@refs/tags/v1.0.0`;
const san = (workflow: string) => `https://github.com/${workflow}`;
/** The repository's release workflow on main, as the platform team reviewed it. */
const ON_MAIN = { path: '.github/workflows/release.yml', ref: 'refs/heads/main' };
/** alice's own workflow file on her own branch, calling the break-glass workflow. */
const ON_ALICES_BRANCH = { path: '.github/workflows/preview.yml', ref: 'refs/heads/alice/preview' };
/** Why a break-glass is asked for on a protected branch only. */
const WHY =
  'what a dispatch runs is the workflow file on its ref, and that of any other branch is anyone\'s with write access: whoever had someone else dispatch it there ("run the preview on my branch") is not its requester, and may release it herself';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let repository: FakeRepository;
let workspace: string;
/** alice's hotfix on main, nobody reviewed it; and alice's change on alice/preview, its author field bob's. */
let hotfix: string;
let preview: string;
/** Each artifact's build provenance, in a directory of its own; the honest break-glass beside the hotfix's. */
let hotfixEvidence: string;
let previewEvidence: string;
let breakGlassBundle: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
/** A job of acme/app at `sha` running a platform workflow, called by `caller`; each run gets its own run id. */
function job(
  workflow: string,
  sha: string,
  overrides: Partial<WorkflowIdentity> = {},
  caller = ON_MAIN,
): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', caller.path, caller.ref, sha, {
    job_workflow_ref: workflow,
    // A break-glass is asked for by hand: its run is dispatched (the certificate's Build Trigger).
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(8500 + runs),
    ...overrides,
  });
}
const ids = new Map<string, number>();
function aUserId(login: string): number {
  if (!ids.has(login)) ids.set(login, 9_500_000 + ids.size);
  return ids.get(login)!;
}
const accountOf = (login: string): FakeAccount => ({ login, id: aUserId(login), type: 'User' });
const people = new Map<string, FakeUser>(
  ['alice', 'bob', 'carol', 'dave', 'erin'].map((login) => [login, aUser(login, { id: aUserId(login) })]),
);
/** The run's environment approvals, as GitHub records them once its reviewers acted. */
function approve(run: WorkflowIdentity, environment: string, ...logins: string[]): void {
  repository.workflowRunApprovals[run.run_id] = logins.map((login) => ({
    state: 'approved',
    comment: `ok from ${login}`,
    environments: [environment],
    user: accountOf(login),
  }));
}

/** The org policy; `review` adds review keys (review.protected-branches). */
function policy(review: string[] = []): string {
  return [
    'version: 1',
    'identities:',
    `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
    `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
    `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
    `  break-glass: { issuer: ${ISSUER}, san: ${san(BREAK_GLASS_WORKFLOW)} }`,
    ...(review.length ? ['review:', ...review.map((line) => `  ${line}`)] : []),
    'deploy:',
    `  trusted-root: ${stack.trustedRootPath}`,
    '  approvals: { min: 1, require-prevent-self-review: true }',
    '  break-glass: { max-duration: 24h, min-approvers: 1 }',
    '',
  ].join('\n');
}

async function build(sha: string, subject: string, caller = ON_MAIN): Promise<string> {
  const run = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': subject, ...endpoints() },
    identity: job(BUILD_WORKFLOW, sha, {}, caller),
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  return run.outputs['bundle-path']!;
}

async function runBreakGlass(who: WorkflowIdentity, subject: string, incident: string): Promise<ActionRun> {
  return runAction(join(repoRoot, 'actions', 'break-glass'), {
    with: {
      'subject-path': subject,
      reason: 'checkout is down for every customer',
      incident,
      environment: 'production',
      duration: '2h',
      ...endpoints(),
    },
    identity: who,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_break_glass_job',
    workspace,
  });
}

/** The deploy job (the root action) on main in production, started by erin, approved by carol. */
async function deploy(subject: string, bundles: string): Promise<{ run: ActionRun; report: DeployReport }> {
  const who = job(DEPLOY_WORKFLOW, hotfix, { environment: 'production', actor: 'erin' });
  approve(who, 'production', 'carol');
  const run = await runAction(repoRoot, {
    with: { 'subject-path': subject, bundles, policy: 'org-policy.yml', 'store-attestations': 'true', ...endpoints() },
    identity: who,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_deploy_job',
    workspace,
  });
  const path = run.outputs['report-path'];
  expect(path, run.log).toBeDefined();
  return { run, report: readDeployReport(readFileSync(path!, 'utf8'), path!) };
}

/** `twokey verify --json` of `subject` with the bundles of `dir`, under the policy file `policyFile`. */
async function verify(subject: string, dir: string, policyFile = 'org-policy.yml') {
  const run = await runCli(
    ['verify', '--repo', 'acme/app', subject, '--policy', policyFile, '--bundle', dir, '--json'],
    workspace,
  );
  return { status: run.status, output: run.stdout + run.stderr, report: readDeployReport(run.stdout, 'verify') };
}

function check(report: DeployReport, id: string) {
  return report.artifacts[0]!.checks.find((c) => c.id === id)!;
}

/**
 * A break-glass statement over `subject`, signed by the break-glass identity in the job `who` (its certificate's
 * Source Repository Ref is that job's ref, its Run Invocation URI that job's run): what a release of the break-glass
 * workflow that did not check the ref would have signed, or one signed before it recorded the default branch. Its
 * predicate is the honest one's with `change` over it; written beside `evidence`'s provenance in a directory of its own.
 */
async function handMadeBreakGlass(
  name: string,
  who: WorkflowIdentity,
  subject: string,
  evidence: string,
  change: Partial<BreakGlassPredicate> & { defaultBranch?: string | undefined },
): Promise<string> {
  const genuine = JSON.parse(readFileSync(breakGlassBundle, 'utf8'));
  const statement = JSON.parse(Buffer.from(genuine.dsseEnvelope.payload, 'base64').toString('utf8'));
  const predicate = {
    ...statement.predicate,
    run: {
      id: Number(who.run_id),
      attempt: Number(who.run_attempt),
      uri: `https://github.com/acme/app/actions/runs/${who.run_id}/attempts/${who.run_attempt}`,
    },
    ...change,
  };
  if (predicate.defaultBranch === undefined) delete predicate.defaultBranch;
  const digest = createHash('sha256')
    .update(readFileSync(join(workspace, subject)))
    .digest('hex');
  const bundle = await signStatement(
    // With the run subject of its run, as the workflow computes it (buildBreakGlassStatement).
    {
      ...statement,
      subject: [{ name: subject, digest: { sha256: digest } }, breakGlassRunSubject(predicate.run.uri)],
      predicate,
    },
    {
      endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
      identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
    },
  );
  const dir = join(workspace, 'attacks', name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(evidence, 'provenance.sigstore.json'), join(dir, 'provenance.sigstore.json'));
  writeFileSync(join(dir, 'break-glass.sigstore.json'), JSON.stringify(bundle));
  return dir;
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  repository = anApprovedChange('acme/app', 'Add the parser').repository;
  // alice's hotfix, pushed straight to main: nobody reviewed it.
  hotfix = pushCommit(repository, aCommit({ author: people.get('alice')!, message: 'Hotfix: stop the outage' }));
  // alice's branch: her change, its author field set to bob's e-mail (GitHub links the commit to bob), pushed by her
  // together with a workflow file that calls the platform's break-glass workflow.
  preview = pushCommit(
    repository,
    aCommit({ author: people.get('bob')!, message: 'Preview: the new checkout' }),
    'alice/preview',
    { by: accountOf('alice') },
  );
  repository.environments = {
    production: { reviewers: [people.get('alice')!, people.get('carol')!], preventSelfReview: true },
    'break-glass': { reviewers: [people.get('alice')!, people.get('dave')!], preventSelfReview: true },
  };
  github = await startGitHubFake(aGitHubState(repository, ...people.values()));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-ref-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  writeFileSync(join(workspace, 'dist', 'preview.tar.gz'), 'app 1.1 preview of the new checkout\n');
  writeFileSync(join(workspace, 'org-policy.yml'), policy());
  writeFileSync(join(workspace, 'listing-policy.yml'), policy(['protected-branches: [main]']));

  hotfixEvidence = join(workspace, 'hotfix');
  mkdirSync(hotfixEvidence);
  copyFileSync(await build(hotfix, 'dist/hotfix.tar.gz'), join(hotfixEvidence, 'provenance.sigstore.json'));
  // The preview, built from alice's branch by the genuine build workflow (its certificate says so).
  previewEvidence = join(workspace, 'preview');
  mkdirSync(previewEvidence);
  copyFileSync(
    await build(preview, 'dist/preview.tar.gz', ON_ALICES_BRANCH),
    join(previewEvidence, 'provenance.sigstore.json'),
  );

  // The honest break-glass: erin dispatched the release workflow's break-glass on main, dave approved it.
  const honest = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
  approve(honest, 'break-glass', 'dave');
  const glass = await runBreakGlass(honest, 'dist/hotfix.tar.gz', 'https://status.acme.example/incidents/42');
  expect(glass.exitCode, glass.log).toBe(0);
  breakGlassBundle = join(hotfixEvidence, 'break-glass.sigstore.json');
  copyFileSync(glass.outputs['bundle-path']!, breakGlassBundle);
}, 300_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe('a break-glass bob dispatched on alice’s branch, which alice released', () => {
  it('the break-glass workflow refuses to sign a dispatch on refs/heads/alice/preview', async () => {
    const who = job(BREAK_GLASS_WORKFLOW, preview, { environment: 'break-glass', actor: 'bob' }, ON_ALICES_BRANCH);
    approve(who, 'break-glass', 'alice');
    const glass = await runBreakGlass(who, 'dist/preview.tar.gz', 'https://status.acme.example/incidents/47');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain(
      `its run ran from refs/heads/alice/preview (its token's ref), not from the repository's default branch (main, as GitHub told the break-glass run): ${WHY}`,
    );
    // Everything else holds: dispatched by hand, its first attempt, bob its requester and the change's author, and
    // alice an approver distinct from both. Only the ref tells.
    expect(glass.log).not.toContain('not counted');
    expect(glass.log).not.toContain('workflow_dispatch');
    expect(glass.log).not.toContain('(a re-run)');
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });

  it('the gate and twokey verify refuse a break-glass signed on refs/heads/alice/preview (a workflow that did not check)', async () => {
    // What a release of the break-glass workflow that did not check the ref signs in bob's run on her branch.
    const who = job(BREAK_GLASS_WORKFLOW, preview, { environment: 'break-glass', actor: 'bob' }, ON_ALICES_BRANCH);
    const dir = await handMadeBreakGlass('alices-branch', who, 'dist/preview.tar.gz', previewEvidence, {
      change: { commit: preview, author: accountOf('bob') },
      requester: accountOf('bob'),
      approvers: [accountOf('alice')],
      defaultBranch: 'main',
    });
    const refused = `its run ran from refs/heads/alice/preview (its certificate's Source Repository Ref), not from the repository's default branch (main, as GitHub told the break-glass run): ${WHY}`;

    const { run, report } = await deploy('dist/preview.tar.gz', dir);
    expect(run.exitCode).not.toBe(0);
    expect(report.verdict).toBe('fail');
    // No usable break-glass: the review's checks stand, unwaived.
    expect(check(report, 'review-attestation').verdict).toBe('fail');
    expect(check(report, 'break-glass').verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(refused);
    expect(check(report, 'break-glass').reason).not.toContain('BREAK-GLASS USED');

    const offline = await verify('dist/preview.tar.gz', dir);
    expect(offline.status, offline.output).toBe(1);
    expect(check(offline.report, 'break-glass').verdict).toBe('fail');
    expect(check(offline.report, 'break-glass').reason).toContain(refused);
  });

  it('twokey verify refuses one signed before the break-glass recorded the default branch, whatever the policy names (fail closed)', async () => {
    // An older break-glass, dispatched on main: which branch is the default one it does not say, and an org policy's
    // review.protected-branches names branches for every repository (one this repository lacks is anyone's to create).
    const who = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
    const dir = await handMadeBreakGlass('no-default-branch', who, 'dist/hotfix.tar.gz', hotfixEvidence, {
      defaultBranch: undefined,
    });
    for (const policyFile of ['org-policy.yml', 'listing-policy.yml']) {
      const unknown = await verify('dist/hotfix.tar.gz', dir, policyFile);
      expect(unknown.status, unknown.output).toBe(1);
      expect(check(unknown.report, 'break-glass').verdict).toBe('fail');
      expect(check(unknown.report, 'break-glass').reason).toContain(
        "its run ran from refs/heads/main (its certificate's Source Repository Ref), and the break-glass names no default branch of its repository (signed before the break-glass workflow recorded it, or GitHub named none), so whether that is the default branch cannot be told; ask for a new break-glass",
      );
    }
  });
});

describe('the honest break-glass, dispatched on main', () => {
  it('records the default branch GitHub told it, and the gate and twokey verify accept it', async () => {
    const signed = JSON.parse(readFileSync(breakGlassBundle, 'utf8'));
    const { predicate } = JSON.parse(Buffer.from(signed.dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(predicate.defaultBranch).toBe('main');

    const { run, report } = await deploy('dist/hotfix.tar.gz', hotfixEvidence);
    expect(run.exitCode, run.log).toBe(0);
    expect(report.verdict).toBe('pass');
    expect(check(report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);

    // Offline, with the deploy approval the deploy job signed.
    const dir = join(workspace, 'honest-offline');
    mkdirSync(dir);
    copyFileSync(join(hotfixEvidence, 'provenance.sigstore.json'), join(dir, 'provenance.sigstore.json'));
    copyFileSync(breakGlassBundle, join(dir, 'break-glass.sigstore.json'));
    copyFileSync(run.outputs['deploy-approval-path']!, join(dir, 'deploy-approval.sigstore.json'));
    const offline = await verify('dist/hotfix.tar.gz', dir);
    expect(offline.status, offline.output).toBe(0);
    expect(offline.report.verdict).toBe('pass');
    expect(check(offline.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);
  });
});
