// Who asked for a deploy is whoever's event started its run, and which events start which job is the workflow file
// on the run's ref. On a ref that is no protected branch that file is anyone's with write access: carol (write access,
// a reviewer of production, nowhere in the change) wants to ship a reviewed artifact alone. Her pull request's branch
// carries a caller of the platform's deploy workflow `on: pull_request_review`; she asks dave to review her pull
// request, his review starts the run (dave the requester, for twokey and for GitHub's prevent self-review), and carol
// approves the production deploy herself. The policy's `distinct-from: requester` must not be a name for dave then.
// Built as test/slow/human-decisions.slow.ts builds its fixtures: loopback Sigstore, OIDC issuer, GitHub fake, and the
// bundled deploy action run as a runner runs it.
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
import { runCli } from '../conformance/run-cli';

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
let reviewed: string;
let hotfix: string;
let honest: string;
let hotfixEvidence: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
function job(
  workflow: string,
  sha: string,
  overrides: Partial<WorkflowIdentity> = {},
  caller = { path: '.github/workflows/release.yml', ref: 'refs/heads/main' },
): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', caller.path, caller.ref, sha, {
    job_workflow_ref: workflow,
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(8100 + runs),
    ...overrides,
  });
}
const ids = new Map<string, number>();
function aUserId(login: string): number {
  if (!ids.has(login)) ids.set(login, 9_100_000 + ids.size);
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

function policy(extra: string[] = []): string {
  return [
    'version: 1',
    'identities:',
    `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
    `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
    `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
    `  break-glass: { issuer: ${ISSUER}, san: ${san(BREAK_GLASS_WORKFLOW)} }`,
    'deploy:',
    `  trusted-root: ${stack.trustedRootPath}`,
    // The strictest deploy rule twokey offers: the requester never approves (held by the gate itself).
    '  approvals: { min: 1, distinct-from: [author, contributors, pusher, requester], require-prevent-self-review: true }',
    '  break-glass: { max-duration: 24h, min-approvers: 1 }',
    ...extra,
    '',
  ].join('\n');
}

async function build(sha: string, subject: string): Promise<string> {
  const run = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': subject, ...endpoints() },
    identity: job(BUILD_WORKFLOW, sha),
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  return run.outputs['bundle-path']!;
}

async function runDeploy(
  who: WorkflowIdentity,
  subject: string,
  bundles: string,
  policyFile = 'org-policy.yml',
): Promise<{ run: ActionRun; report: DeployReport }> {
  const run = await runAction(repoRoot, {
    with: { 'subject-path': subject, bundles, policy: policyFile, 'store-attestations': 'true', ...endpoints() },
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

function check(report: DeployReport, id: string) {
  return report.artifacts[0]!.checks.find((c) => c.id === id)!;
}

async function runBreakGlass(who: WorkflowIdentity, incident: string): Promise<ActionRun> {
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

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const change = anApprovedChange('acme/app', 'Add the parser'); // alice's, approved (and merged) by bob
  repository = change.repository;
  reviewed = change.commit;
  hotfix = pushCommit(repository, aCommit({ author: aUser('alice'), message: 'Hotfix: stop the outage' }));
  repository.environments = {
    production: { reviewers: [aUser('alice'), aUser('carol')], preventSelfReview: true },
    'break-glass': { reviewers: [aUser('dave')], preventSelfReview: true },
  };
  const users = ['carol', 'dave', 'erin'].map((login) => aUser(login, { id: aUserId(login) }));
  github = await startGitHubFake(aGitHubState(repository, ...users));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-review-a-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), 'app 1.0\n');
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  writeFileSync(join(workspace, 'org-policy.yml'), policy());
  writeFileSync(
    join(workspace, 'org-policy-release.yml'),
    policy(['review:', "  protected-branches: [main, 'release/*']"]),
  );
  writeFileSync(
    join(workspace, 'org-policy-develop.yml'),
    policy(['review:', '  protected-branches: [main, develop]']),
  );

  honest = join(workspace, 'honest');
  mkdirSync(honest);
  const provenance = await build(reviewed, 'dist/app.tar.gz');
  const signed = await runAction(join(repoRoot, 'actions', 'sign'), {
    with: {
      'subject-path': 'dist/app.tar.gz',
      provenance,
      policy: 'org-policy.yml',
      'trusted-root': stack.trustedRootPath,
      ...endpoints(),
    },
    identity: job(SIGN_WORKFLOW, reviewed),
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_sign_job',
    workspace,
  });
  expect(signed.exitCode, signed.log).toBe(0);
  copyFileSync(provenance, join(honest, 'provenance.sigstore.json'));
  for (const [i, path] of signed.outputs['bundle-paths']!.split('\n').entries()) {
    copyFileSync(path, join(honest, `sign-${i}.sigstore.json`));
  }

  // A genuine break-glass (attempt 1): erin dispatched it, dave approved it.
  hotfixEvidence = join(workspace, 'hotfix');
  mkdirSync(hotfixEvidence);
  copyFileSync(await build(hotfix, 'dist/hotfix.tar.gz'), join(hotfixEvidence, 'provenance.sigstore.json'));
  // The hotfix's genuine break-glass, beside its provenance: dispatched on main by erin, approved by dave.
  const breakGlassJob = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
  approve(breakGlassJob, 'break-glass', 'dave');
  const glass = await runBreakGlass(breakGlassJob, 'https://status.acme.example/incidents/42');
  expect(glass.exitCode, glass.log).toBe(0);
  copyFileSync(glass.outputs['bundle-path']!, join(hotfixEvidence, 'break-glass.sigstore.json'));
}, 300_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe('a deploy started by an event of a workflow file on an unprotected ref', () => {
  it('is refused when the requester must not approve: a review of carol’s pull request started it, carol approved it', async () => {
    const who = job(
      DEPLOY_WORKFLOW,
      'c0ffee0000000000000000000000000000000007',
      { environment: 'production', actor: 'dave', event_name: 'pull_request_review' },
      { path: '.github/workflows/preview.yml', ref: 'refs/pull/7/merge' },
    );
    approve(who, 'production', 'carol');
    const { run, report } = await runDeploy(who, 'dist/app.tar.gz', 'honest');
    expect(run.exitCode, run.log).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'deploy-approval').verdict).toBe('fail');
    expect(check(report, 'deploy-approval').reason).toContain(
      'the deploy ran from refs/pull/7/merge, not from the default branch of the repository it ran in (main, as GitHub told the deploy job)',
    );
    // Offline, the deploy approval that run signed is refused the same way: its certificate names the ref it ran on.
    const attested = join(workspace, 'attested-pull-request');
    mkdirSync(attested);
    copyFileSync(run.outputs['deploy-approval-path']!, join(attested, 'deploy-approval.sigstore.json'));
    const verified = await runCli(
      [
        'verify',
        '--repo',
        'acme/app',
        'dist/app.tar.gz',
        '--policy',
        'org-policy.yml',
        '--bundle',
        'honest',
        '--bundle',
        attested,
        '--json',
      ],
      workspace,
    );
    expect(verified.status, verified.stdout + verified.stderr).toBe(1);
    const offline = readDeployReport(verified.stdout, 'twokey verify --json');
    expect(check(offline, 'deploy-approval').reason).toContain(
      'the deploy ran from refs/pull/7/merge, not from the default branch of the repository it ran in',
    );
  });

  it('is refused from a branch of the attacker’s, whoever’s push or dispatch started it', async () => {
    const who = job(
      DEPLOY_WORKFLOW,
      'c0ffee0000000000000000000000000000000008',
      { environment: 'production', actor: 'dave', event_name: 'workflow_dispatch' },
      { path: '.github/workflows/preview.yml', ref: 'refs/heads/carol/preview' },
    );
    approve(who, 'production', 'carol');
    const { report } = await runDeploy(who, 'dist/app.tar.gz', 'honest');
    expect(check(report, 'deploy-approval').reason).toContain(
      'the deploy ran from refs/heads/carol/preview, not from the default branch of the repository it ran in',
    );
  });

  it('is refused under a break-glass too, the default branch being as GitHub told the deploy job', async () => {
    const who = job(
      DEPLOY_WORKFLOW,
      hotfix,
      { environment: 'production', actor: 'dave', event_name: 'pull_request_review' },
      { path: '.github/workflows/preview.yml', ref: 'refs/pull/8/merge' },
    );
    approve(who, 'production', 'carol');
    const { report } = await runDeploy(who, 'dist/hotfix.tar.gz', hotfixEvidence);
    expect(check(report, 'deploy-approval').reason).toContain(
      'the deploy ran from refs/pull/8/merge, not from the default branch of the repository it ran in (main, as GitHub told the deploy job)',
    );
    expect(report.verdict).toBe('fail');
  });

  it('is refused when a workflow_run on main started it: whoever ran a workflow of that name, on any branch, is its requester', async () => {
    // main's reviewed caller deploys `on: workflow_run: workflows: [Build]`; carol's branch carries a workflow named
    // Build `on: pull_request_review`; dave's review of her pull request runs it, and so the deploy, as dave.
    const who = job(
      DEPLOY_WORKFLOW,
      reviewed,
      { environment: 'production', actor: 'dave', event_name: 'workflow_run' },
      { path: '.github/workflows/deploy-after-build.yml', ref: 'refs/heads/main' },
    );
    approve(who, 'production', 'carol');
    const { run, report } = await runDeploy(who, 'dist/app.tar.gz', 'honest');
    expect(report.verdict).toBe('fail');
    expect(check(report, 'deploy-approval').reason).toContain(
      'the deploy run was started by a workflow_run event, not by workflow_dispatch or push',
    );
    // Offline too: the approval's certificate names the event (its Build Trigger).
    const attested = join(workspace, 'attested-workflow-run');
    mkdirSync(attested);
    copyFileSync(run.outputs['deploy-approval-path']!, join(attested, 'deploy-approval.sigstore.json'));
    const verified = await runCli(
      [
        'verify',
        '--repo',
        'acme/app',
        'dist/app.tar.gz',
        '--policy',
        'org-policy.yml',
        '--bundle',
        'honest',
        '--bundle',
        attested,
        '--json',
      ],
      workspace,
    );
    expect(verified.status, verified.stdout + verified.stderr).toBe(1);
    expect(check(readDeployReport(verified.stdout, 'twokey verify --json'), 'deploy-approval').reason).toContain(
      'started by a workflow_run event',
    );
  });

  it('is refused from a branch the attacker created that a glob of review.protected-branches matches (release/*)', async () => {
    // carol pushes release/carol (creating a branch needs no review) with a caller `on: push`; dave's "Update branch"
    // on her pull request is a push to it by dave.
    const who = job(
      DEPLOY_WORKFLOW,
      'c0ffee0000000000000000000000000000000009',
      { environment: 'production', actor: 'dave', event_name: 'push' },
      { path: '.github/workflows/preview.yml', ref: 'refs/heads/release/carol' },
    );
    approve(who, 'production', 'carol');
    const { report } = await runDeploy(who, 'dist/app.tar.gz', 'honest', 'org-policy-release.yml');
    expect(report.verdict).toBe('fail');
    expect(check(report, 'deploy-approval').reason).toContain(
      'the deploy ran from refs/heads/release/carol, not from the default branch of the repository it ran in (main, as GitHub told the deploy job)',
    );
  });

  it('is refused from a branch an org policy names that this repository lacks (develop): anyone creates it', async () => {
    // One org policy names branches for every repository; acme/app has no develop, so carol creates it with a caller
    // `on: workflow_dispatch`, and asks dave to "run the deploy on develop".
    const who = job(
      DEPLOY_WORKFLOW,
      'c0ffee0000000000000000000000000000000010',
      { environment: 'production', actor: 'dave', event_name: 'workflow_dispatch' },
      { path: '.github/workflows/deploy.yml', ref: 'refs/heads/develop' },
    );
    approve(who, 'production', 'carol');
    const { report } = await runDeploy(who, 'dist/app.tar.gz', 'honest', 'org-policy-develop.yml');
    expect(report.verdict).toBe('fail');
    expect(check(report, 'deploy-approval').reason).toContain(
      'the deploy ran from refs/heads/develop, not from the default branch of the repository it ran in (main, as GitHub told the deploy job)',
    );
  });

  it('is accepted from the protected branch: there the workflow file was reviewed, and dave asked for the deploy', async () => {
    const who = job(DEPLOY_WORKFLOW, reviewed, {
      environment: 'production',
      actor: 'dave',
      event_name: 'workflow_dispatch',
    });
    approve(who, 'production', 'carol');
    const { run, report } = await runDeploy(who, 'dist/app.tar.gz', 'honest');
    expect(run.exitCode, run.log).toBe(0);
    expect(check(report, 'deploy-approval').reason).toContain('approved for production by carol');
  });
});
