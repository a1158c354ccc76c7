// One break-glass run, one approval, several single uses (threat-model row 177). A break-glass is signed only in the
// first attempt of its run (rows 141, 164), but one attempt can hold several jobs that call the platform's break-glass
// workflow — a matrix over the caller's job, or two jobs — and GitHub releases every job of a run waiting on an
// environment with one approval. Each job signs its own break-glass (another notBefore: another statement, another
// breakGlassId); single use was keyed by that id, so the second leg's break-glass shipped the unreviewed hotfix to
// production again. A decision record now names the run that signed the break-glass it used, and a use of any
// break-glass of a run is a use of every break-glass that run signed, for that artifact and environment.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeployReport, readDeployReport } from '@twokey/core';
import {
  type ActionRun,
  aCommit,
  aGitHubState,
  anApprovedChange,
  aUser,
  type FakeAccount,
  type FakeRepository,
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

const ISSUER = 'https://token.actions.githubusercontent.com';
const PLATFORM = 'acme/platform/.github/workflows';
const BUILD_WORKFLOW = `${PLATFORM}/twokey-build.yml@refs/tags/v1.0.0`;
const SIGN_WORKFLOW = `${PLATFORM}/twokey-sign.yml@refs/tags/v1.0.0`;
const DEPLOY_WORKFLOW = `${PLATFORM}/twokey-deploy.yml@refs/tags/v1.0.0`;
const BREAK_GLASS_WORKFLOW = `${PLATFORM}/twokey-break-glass.yml@refs/tags/v1.0.0`;
const san = (workflow: string) => `https://github.com/${workflow}`;

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let repository: FakeRepository;
let workspace: string;
let hotfix: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
function job(workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(8700 + runs),
    ...overrides,
  });
}
const ids = new Map<string, number>();
function aUserId(login: string): number {
  if (!ids.has(login)) ids.set(login, 9_700_000 + ids.size);
  return ids.get(login)!;
}
const accountOf = (login: string): FakeAccount => ({ login, id: aUserId(login), type: 'User' });
function approve(run: WorkflowIdentity, environment: string, ...logins: string[]): void {
  repository.workflowRunApprovals[run.run_id] = logins.map((login) => ({
    state: 'approved',
    comment: `ok from ${login}`,
    environments: [environment],
    user: accountOf(login),
  }));
}

function policy(): string {
  return [
    'version: 1',
    'identities:',
    `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
    `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
    `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
    `  break-glass: { issuer: ${ISSUER}, san: ${san(BREAK_GLASS_WORKFLOW)} }`,
    'deploy:',
    `  trusted-root: ${stack.trustedRootPath}`,
    '  approvals: { min: 1, distinct-from: [author, contributors, pusher, requester], require-prevent-self-review: true }',
    '  break-glass: { max-duration: 24h, min-approvers: 1 }',
    '',
  ].join('\n');
}

async function deploy(bundles: string): Promise<{ run: ActionRun; report: DeployReport }> {
  const who = job(DEPLOY_WORKFLOW, hotfix, { environment: 'production', actor: 'erin' });
  approve(who, 'production', 'carol');
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': 'dist/hotfix.tar.gz',
      bundles,
      policy: 'org-policy.yml',
      'store-attestations': 'true',
      ...endpoints(),
    },
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

const check = (report: DeployReport, id: string) => report.artifacts[0]!.checks.find((c) => c.id === id)!;

/** One leg of the break-glass matrix: the genuine break-glass action in job `who` (all legs: one run, attempt 1). */
async function breakGlassLeg(who: WorkflowIdentity, incident: string): Promise<ActionRun> {
  return runAction(join(repoRoot, 'actions', 'break-glass'), {
    with: {
      'subject-path': 'dist/hotfix.tar.gz',
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

let legA: string;
let legB: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const change = anApprovedChange('acme/app', 'Add the parser');
  repository = change.repository;
  // alice's hotfix, pushed straight to main: nobody reviewed it.
  hotfix = pushCommit(repository, aCommit({ author: aUser('alice'), message: 'Hotfix: stop the outage' }));
  repository.environments = {
    production: { reviewers: [aUser('alice'), aUser('carol')], preventSelfReview: true },
    'break-glass': { reviewers: [aUser('dave'), aUser('carol')], preventSelfReview: true },
  };
  const users = ['carol', 'dave', 'erin'].map((login) => aUser(login, { id: aUserId(login) }));
  github = await startGitHubFake(aGitHubState(repository, ...users));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-review-compose-bg-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  writeFileSync(join(workspace, 'org-policy.yml'), policy());

  const built = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': 'dist/hotfix.tar.gz', ...endpoints() },
    identity: job(BUILD_WORKFLOW, hotfix),
    oidc: issuer,
    workspace,
  });
  expect(built.exitCode, built.log).toBe(0);

  // ONE break-glass run (erin dispatched it, attempt 1), ONE approval (dave's) — two jobs of it waiting on the
  // break-glass environment, both released by that approval (a matrix of two legs calling the reusable workflow).
  const run = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
  approve(run, 'break-glass', 'dave');
  const a = await breakGlassLeg(run, 'https://status.acme.example/incidents/42');
  expect(a.exitCode, a.log).toBe(0);
  const b = await breakGlassLeg(run, 'https://status.acme.example/incidents/42#leg-2');
  expect(b.exitCode, b.log).toBe(0);

  for (const [name, glass] of [
    ['leg-a', a],
    ['leg-b', b],
  ] as const) {
    const dir = join(workspace, name);
    mkdirSync(dir);
    copyFileSync(built.outputs['bundle-path']!, join(dir, 'provenance.sigstore.json'));
    copyFileSync(glass.outputs['bundle-path']!, join(dir, 'break-glass.sigstore.json'));
  }
  legA = 'leg-a';
  legB = 'leg-b';
}, 300_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe('one break-glass run, one approval', () => {
  it('is one single use: the second leg’s break-glass is refused once the first leg’s was used', async () => {
    const payload = (dir: string) => {
      const bundle = JSON.parse(readFileSync(join(workspace, dir, 'break-glass.sigstore.json'), 'utf8'));
      return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')).predicate;
    };
    // Same run, same attempt, same approver, same artifact and environment: two statements.
    expect(payload(legA).run).toEqual(payload(legB).run);
    expect(payload(legA).approvers).toEqual(payload(legB).approvers);
    expect(payload(legA).environment).toBe('production');
    expect(payload(legB).environment).toBe('production');

    // First deploy: leg A's break-glass is used, and its use (with its run) recorded in the store.
    const first = await deploy(legA);
    expect(first.run.exitCode, first.run.log).toBe(0);
    expect(first.run.outputs.verified).toBe('true');
    expect(check(first.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);
    // The pass holds until the break-glass expires, for the job that ships to check (row 253).
    expect(first.run.outputs['valid-until']).toBe(first.report.artifacts[0]!.breakGlass!.expires);
    expect(first.report.artifacts[0]!.breakGlass!.run).toMatch(/^https:\/\/github\.com\/actions\/runs\/[0-9]+$/);

    // The same break-glass again is refused…
    const again = await deploy(legA);
    expect(again.report.verdict).toBe('fail');
    expect(check(again.report, 'break-glass').reason).toContain('already used');

    // …and so is leg B's, from the same run and the same single approval.
    const second = await deploy(legB);
    expect(second.run.exitCode).not.toBe(0);
    expect(second.report.verdict).toBe('fail');
    expect(second.run.outputs.verified).not.toBe('true');
    expect(second.run.outputs['valid-until']).toBeUndefined();
    expect(check(second.report, 'break-glass').reason).toContain(
      'a break-glass is used once, and once for its whole run (one approval released every job of the run)',
    );
  });
});
