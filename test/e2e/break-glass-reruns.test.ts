// A break-glass is signed only in the first attempt of a run a person started by hand. GitHub's approvals of a run
// (`GET …/actions/runs/{run_id}/approvals`) list every attempt's, with no attempt number, so what a re-run's job reads
// cannot be told from what the first attempt's reviewers decided; and a run a bot started (a workflow's GITHUB_TOKEN
// dispatching it) names nobody who asked for it. Each attack is built the way its attacker would build it — the genuine
// build, break-glass and deploy actions on the loopback Sigstore stack, the OIDC issuer and the GitHub fake — and
// refused by the break-glass workflow itself, or by the deploy gate and `twokey verify` for one a workflow that did not
// check signed.
//
// 1. erin (requester, repository admin) dispatched a genuine break-glass, which dave approved (attempt 1). She re-runs
//    it (attempt 2) and releases the re-run without a new approval (the admin's bypass of the environment's protection
//    rules, or its required reviewers removed and put back): the run still shows dave's attempt-1 approval, and a
//    second break-glass — its own window, its own id — would be a second single use nobody approved.
// 2. carol's workflow dispatches the break-glass with its GITHUB_TOKEN (github-actions[bot] starts the run), dave
//    re-runs it, carol approves: its requester is dave, and carol, the unknown person behind the bot, counts as an
//    approver distinct from him. As the deploy gate refuses a deploy a bot started (threat model row 136).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BreakGlassPredicate,
  breakGlassArtifactSubjects,
  breakGlassRunSubject,
  type DeployReport,
  readDeployReport,
} from '@twokey/core';
import { signStatement } from '@twokey/sigstore';
import {
  type ActionRun,
  aBot,
  aCommit,
  aGitHubState,
  anApprovedChange,
  aUser,
  aWorkflowRun,
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
const BOT = aBot('github-actions', { id: 41898282 });
/** Why a break-glass is never signed, nor used, in a re-run. */
const RERUN =
  "a re-run's approvals cannot be told from the first attempt's (GitHub lists every attempt's approvals of the run, with no attempt); ask for a new break-glass with a new dispatch";

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let repository: FakeRepository;
let workspace: string;
let hotfix: string;
let hotfixEvidence: string;
let breakGlassJob: WorkflowIdentity;
let breakGlassBundle: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
/** A job of acme/app at `sha` running a platform workflow; each run gets its own run id. */
function job(workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    // A break-glass is asked for by hand: its run is dispatched (the certificate's Build Trigger).
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(8300 + runs),
    ...overrides,
  });
}
const ids = new Map<string, number>();
function aUserId(login: string): number {
  if (!ids.has(login)) ids.set(login, 9_300_000 + ids.size);
  return ids.get(login)!;
}
const accountOf = (login: string): FakeAccount => ({ login, id: aUserId(login), type: 'User' });
/** The run's environment approvals, as GitHub records them once its reviewers acted: every attempt's, no attempt. */
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

/** The deploy job (the root action) in production, started by erin, approved by carol. */
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

function check(report: DeployReport, id: string) {
  return report.artifacts[0]!.checks.find((c) => c.id === id)!;
}

async function runBreakGlass(who: WorkflowIdentity, incident: string, env: Record<string, string> = {}) {
  return runAction(join(repoRoot, 'actions', 'break-glass'), {
    env,
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

/**
 * The genuine break-glass's statement, with `run` as the predicate names it, signed by the break-glass identity in the
 * job `who` (its certificate's Run Invocation URI is that job's run and attempt): what a release of the workflow
 * that did not refuse re-runs would have signed. Written beside the hotfix's provenance in a directory of its own.
 */
async function signedIn(name: string, who: WorkflowIdentity, run: BreakGlassPredicate['run']): Promise<string> {
  const genuine = JSON.parse(readFileSync(breakGlassBundle, 'utf8'));
  const statement = JSON.parse(Buffer.from(genuine.dsseEnvelope.payload, 'base64').toString('utf8'));
  const bundle = await signStatement(
    // With the run subject of the run it names, as the workflow computes it (buildBreakGlassStatement).
    {
      ...statement,
      subject: [...breakGlassArtifactSubjects(statement.subject), breakGlassRunSubject(run.uri)],
      predicate: { ...statement.predicate, run },
    },
    {
      endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
      identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
    },
  );
  const dir = join(workspace, 'attacks', name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(hotfixEvidence, 'provenance.sigstore.json'), join(dir, 'provenance.sigstore.json'));
  writeFileSync(join(dir, 'break-glass.sigstore.json'), JSON.stringify(bundle));
  return dir;
}

const runUri = (who: WorkflowIdentity, attempt: string) =>
  `https://github.com/acme/app/actions/runs/${who.run_id}/attempts/${attempt}`;

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
  github = await startGitHubFake(aGitHubState(repository, ...users, BOT));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-reruns-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  writeFileSync(join(workspace, 'org-policy.yml'), policy());

  // A genuine break-glass (attempt 1): erin dispatched it, dave approved it.
  hotfixEvidence = join(workspace, 'hotfix');
  mkdirSync(hotfixEvidence);
  copyFileSync(await build(hotfix, 'dist/hotfix.tar.gz'), join(hotfixEvidence, 'provenance.sigstore.json'));
  breakGlassJob = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
  approve(breakGlassJob, 'break-glass', 'dave');
  const glass = await runBreakGlass(breakGlassJob, 'https://status.acme.example/incidents/42');
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

describe('a break-glass signed in a re-run of its run', () => {
  it('the break-glass workflow refuses to sign attempt 2, re-run and released by its requester on attempt 1’s approval', async () => {
    // erin re-runs her genuine break-glass run and releases attempt 2 alone; the run's approvals still hold only
    // dave's, given to attempt 1 (beforeAll).
    const rerun = { ...breakGlassJob, run_attempt: '2' };
    aWorkflowRun(repository, { id: rerun.run_id, actor: accountOf('erin'), reRunBy: [accountOf('erin')] });
    const glass = await runBreakGlass(rerun, 'https://status.acme.example/incidents/42');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain(`its run is attempt 2 of run ${rerun.run_id} (a re-run), not the first: ${RERUN}`);
    expect(glass.outputs['bundle-path']).toBeUndefined();

    // So there is one break-glass, and it is used once: the genuine one lets the hotfix through, then never again.
    const first = await deploy('dist/hotfix.tar.gz', hotfixEvidence);
    expect(first.run.exitCode, first.run.log).toBe(0);
    expect(check(first.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);
    const again = await deploy('dist/hotfix.tar.gz', hotfixEvidence);
    expect(again.report.verdict).toBe('fail');
    expect(check(again.report, 'break-glass').reason).toContain('already used');
  });

  it('the gate and twokey verify refuse a break-glass a re-run signed (a workflow that did not check)', async () => {
    // The same re-run, signed by a release of the break-glass workflow that did not refuse re-runs: the genuine
    // identity, its certificate issued to attempt 2, the predicate saying so. A second break-glass nobody approved.
    const rerun = { ...breakGlassJob, run_id: String(Number(breakGlassJob.run_id) + 50_000), run_attempt: '2' };
    const dir = await signedIn('rerun', rerun, {
      id: Number(rerun.run_id),
      attempt: 2,
      uri: runUri(rerun, '2'),
    });
    const { run, report } = await deploy('dist/hotfix.tar.gz', dir);
    expect(run.exitCode).not.toBe(0);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(
      `its run is attempt 2 of run ${rerun.run_id} (a re-run), not the first: ${RERUN}`,
    );

    const verified = await runCli(
      ['verify', '--repo', 'acme/app', 'dist/hotfix.tar.gz', '--policy', 'org-policy.yml', '--bundle', dir, '--json'],
      workspace,
    );
    expect(verified.status, verified.stdout + verified.stderr).toBe(1);
    const offline = readDeployReport(verified.stdout, 'twokey verify --json');
    expect(check(offline, 'break-glass').reason).toContain(`its run is attempt 2 of run ${rerun.run_id} (a re-run)`);
  });

  it('the gate refuses one that says attempt 1 while its run URI, its certificate’s, is attempt 2', async () => {
    const rerun = { ...breakGlassJob, run_id: String(Number(breakGlassJob.run_id) + 60_000), run_attempt: '2' };
    // The attempt field rewritten to 1, the URI left as the certificate has it (the gate binds the two).
    const dir = await signedIn('rerun-says-first', rerun, {
      id: Number(rerun.run_id),
      attempt: 1,
      uri: runUri(rerun, '2'),
    });
    const { report } = await deploy('dist/hotfix.tar.gz', dir);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(
      `it says attempt 1 of run ${rerun.run_id}, but its run ${runUri(rerun, '2')} is attempt 2 (a re-run): ${RERUN}`,
    );
    // Both rewritten to attempt 1: the certificate was issued to attempt 2, and the gate says so.
    const both = await signedIn('rerun-says-first-twice', rerun, {
      id: Number(rerun.run_id),
      attempt: 1,
      uri: runUri(rerun, '1'),
    });
    const second = await deploy('dist/hotfix.tar.gz', both);
    expect(second.report.verdict).toBe('fail');
    expect(check(second.report, 'break-glass').reason).toContain(
      `names run ${runUri(rerun, '1')}, but its certificate was issued to run ${runUri(rerun, '2')}`,
    );
  });

  it('the break-glass workflow refuses when GITHUB_RUN_ATTEMPT says 1 and its token says attempt 2', async () => {
    const rerun = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin', run_attempt: '2' });
    aWorkflowRun(repository, { id: rerun.run_id, actor: accountOf('erin'), reRunBy: [accountOf('erin')] });
    approve(rerun, 'break-glass', 'dave');
    const glass = await runBreakGlass(rerun, 'https://status.acme.example/incidents/45', { GITHUB_RUN_ATTEMPT: '1' });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain(
      "this job's token says it runs in attempt 2 of its run, GITHUB_RUN_ATTEMPT says 1: which attempt would sign cannot be told, and a break-glass is signed only in a run's first",
    );
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });
});

describe('a break-glass run a bot started', () => {
  it('the break-glass workflow refuses it when github-actions[bot] started the run, dave re-ran it, carol approved', async () => {
    // carol's workflow dispatched the break-glass with its GITHUB_TOKEN; dave re-ran it (attempt 2); carol approved.
    const who = job(BREAK_GLASS_WORKFLOW, hotfix, {
      environment: 'break-glass',
      actor: BOT.login,
      actor_id: String(BOT.id),
      run_attempt: '2',
    });
    aWorkflowRun(repository, { id: who.run_id, actor: BOT, reRunBy: [accountOf('dave')] });
    approve(who, 'break-glass', 'carol');
    const glass = await runBreakGlass(who, 'https://status.acme.example/incidents/43');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain(`its run is attempt 2 of run ${who.run_id} (a re-run), not the first`);
    expect(glass.log).toContain(
      "the run was started by github-actions[bot], a bot (its token's actor): whoever had it start the run is unknown, so they cannot be kept from releasing the break-glass",
    );
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });

  it('the break-glass workflow refuses attempt 1 that github-actions[bot] dispatched, approved by carol whose workflow it was', async () => {
    const who = job(BREAK_GLASS_WORKFLOW, hotfix, {
      environment: 'break-glass',
      actor: BOT.login,
      actor_id: String(BOT.id),
    });
    aWorkflowRun(repository, { id: who.run_id, actor: BOT });
    approve(who, 'break-glass', 'carol');
    const glass = await runBreakGlass(who, 'https://status.acme.example/incidents/44');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain('its requester github-actions[bot] is a bot: whoever had it start the run is unknown');
    expect(glass.log).not.toContain('(a re-run)');
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });

  it('the break-glass workflow refuses attempt 1 whose token names github-actions[bot] as its starter, whoever GitHub says started the attempt', async () => {
    // Whatever GitHub's run attempt names as the attempt's starter (dave here), the run's first starter — the token's
    // actor, and the run attempt's `actor` — is the bot: carol, behind it, is not kept from approving.
    const who = job(BREAK_GLASS_WORKFLOW, hotfix, {
      environment: 'break-glass',
      actor: BOT.login,
      actor_id: String(BOT.id),
    });
    repository.workflowRuns ??= {};
    repository.workflowRuns[who.run_id] = { actor: BOT, attempts: [accountOf('dave')] };
    approve(who, 'break-glass', 'carol');
    const glass = await runBreakGlass(who, 'https://status.acme.example/incidents/46', {
      GITHUB_TRIGGERING_ACTOR: 'dave',
    });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain(
      "the run was started by github-actions[bot], a bot (its token's actor): whoever had it start the run is unknown",
    );
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });
});
