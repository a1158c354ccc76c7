// A break-glass's use recorded where later deploys cannot see it (threat model row 212). The deploy gate counts a
// break-glass's earlier uses only from the decision records in the attestation store that verify under its policy's
// trusted root; a record signed on another Sigstore instance is rejected evidence, never a use. A nightly deploy of a
// PUBLIC repository (`on: schedule`: the event payload holds no repository) chose GitHub's instance from the event's
// "unreadable visibility: private", and signed its record there, while the org policy trusts public-good alone: the
// break-glass it used was still unused to the next deploy. Here the policy trusts one loopback stack (public-good's
// shape) and the scheduled deploy signs on another (GitHub's shape), as the instance the actions chose sent it; every
// bundle is genuine, signed by the genuine actions under the genuine identities. The gate now verifies the record of
// a deploy under a break-glass as later deploys will, and fails the step when it does not verify: that deploy does
// not happen, and the break-glass is then used once, by the next.
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

/** The instance the policy trusts (public-good's shape), and GitHub's (no log, no CT log: a timestamp alone). */
let trusted: SigstoreStack;
let githubInstance: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let app: FakeRepository;
let workspace: string;
let reviewed: string;

const endpointsOf = (stack: SigstoreStack) => ({
  'fulcio-url': stack.fulcioURL,
  'rekor-url': stack === githubInstance ? 'none' : stack.rekorURL,
  'tsa-url': stack.tsaURL,
});
let runs = 0;
function job(workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(8600 + runs),
    ...overrides,
  });
}
function approve(run: WorkflowIdentity, environment: string, login: string): void {
  const id = github.state.users!.find((u) => u.login === login)!.id;
  app.workflowRunApprovals[run.run_id] = [
    { state: 'approved', comment: `ok from ${login}`, environments: [environment], user: { login, id, type: 'User' } },
  ];
}

/** The genuine deploy action in acme/app's production environment, storing its record, signing on `stack`. */
async function deploy(stack: SigstoreStack, trigger: 'schedule' | 'workflow_dispatch') {
  const who = job(DEPLOY_WORKFLOW, reviewed, { actor: 'erin', environment: 'production', event_name: trigger });
  approve(who, 'production', 'carol');
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': 'dist/hotfix.tar.gz',
      bundles: 'hotfix',
      policy: 'org-policy.yml',
      'store-attestations': 'true',
      ...endpointsOf(stack),
    },
    identity: who,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_deploy_job',
    workspace,
    // What the runner writes for `on: schedule` (no repository, no sender); a dispatch's names its repository.
    event:
      trigger === 'schedule'
        ? { schedule: '17 2 * * *', workflow: '.github/workflows/nightly.yml' }
        : { inputs: {}, ref: 'refs/heads/main', repository: { full_name: 'acme/app', visibility: 'public' } },
  });
  const path = run.outputs['report-path'];
  expect(path, run.log).toBeDefined();
  return { run, report: readDeployReport(readFileSync(path!, 'utf8'), path!) };
}

const check = (report: DeployReport, id: string) => report.artifacts[0]!.checks.find((c) => c.id === id)!;
const recordPredicate = (run: ActionRun) =>
  JSON.parse(
    Buffer.from(JSON.parse(readFileSync(run.outputs['record-path']!, 'utf8')).dsseEnvelope.payload, 'base64').toString(
      'utf8',
    ),
  ).predicate;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  trusted = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  githubInstance = await startSigstoreStack({
    verifyIdentityToken: (token) => issuer.verify(token),
    instance: 'github',
  });
  const change = anApprovedChange('acme/app', 'Add the parser');
  app = change.repository;
  app.visibility = 'public';
  reviewed = change.commit;
  const hotfix = pushCommit(app, aCommit({ author: aUser('alice'), message: 'Hotfix: stop the outage' }));
  app.environments = {
    production: { reviewers: [aUser('carol')], preventSelfReview: true },
    'break-glass': { reviewers: [aUser('dave')], preventSelfReview: true },
  };
  const users = ['carol', 'dave', 'erin'].map((login, i) => aUser(login, { id: 9_100_000 + i }));
  github = await startGitHubFake(aGitHubState(app, ...users));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-record-instance-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  // The org policy: public-good (here: the trusted stack) is the only root its deploys verify against.
  writeFileSync(
    join(workspace, 'org-policy.yml'),
    [
      'version: 1',
      'identities:',
      `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
      `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
      `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
      `  break-glass: { issuer: ${ISSUER}, san: ${san(BREAK_GLASS_WORKFLOW)} }`,
      'deploy:',
      `  trusted-root: ${trusted.trustedRootPath}`,
      '  break-glass: { max-duration: 24h, min-approvers: 1 }',
      '',
    ].join('\n'),
  );

  const evidence = join(workspace, 'hotfix');
  mkdirSync(evidence);
  const built = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': 'dist/hotfix.tar.gz', ...endpointsOf(trusted) },
    identity: job(BUILD_WORKFLOW, hotfix, { event_name: 'push' }),
    oidc: issuer,
    workspace,
  });
  expect(built.exitCode, built.log).toBe(0);
  copyFileSync(built.outputs['bundle-path']!, join(evidence, 'provenance.sigstore.json'));
  const breakGlassJob = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
  approve(breakGlassJob, 'break-glass', 'dave');
  const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
    with: {
      'subject-path': 'dist/hotfix.tar.gz',
      reason: 'checkout is down for every customer',
      incident: 'https://status.acme.example/incidents/42',
      environment: 'production',
      duration: '2h',
      ...endpointsOf(trusted),
    },
    identity: breakGlassJob,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_break_glass_job',
    workspace,
  });
  expect(glass.exitCode, glass.log).toBe(0);
  copyFileSync(glass.outputs['bundle-path']!, join(evidence, 'break-glass.sigstore.json'));
}, 240_000);

afterAll(async () => {
  await github?.close();
  await trusted?.close();
  await githubInstance?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe('a deploy under a break-glass whose record the policy’s trusted root does not hold', () => {
  it('fails: the use could not be recorded where later deploys see it; the break-glass is then used once', async () => {
    const nightly = await deploy(githubInstance, 'schedule');
    // The gate's decision was a pass under the break-glass; its record, signed on GitHub's instance, does not verify.
    expect(nightly.report.verdict).toBe('pass');
    expect(check(nightly.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);
    expect(nightly.run.exitCode, nightly.run.log).not.toBe(0);
    expect(nightly.run.outputs.verified).toBe('false');
    expect(nightly.run.log).toContain(
      "RECORD_NOT_SIGNED: the decision record does not verify under the policy's trusted root (",
    );
    expect(nightly.run.log).toContain('so this use of the break-glass could not be recorded where they can see it');
    // Recorded all the same (every decision is): stored, and rejected evidence to every later deploy.
    expect(recordPredicate(nightly.run).verifiedLevels).toContain('TWOKEY_BREAK_GLASS');
    expect(nightly.run.outputs['attestation-id']).toBeDefined();

    // The deploy that failed did not happen: the break-glass is used by the next one, once.
    const next = await deploy(trusted, 'workflow_dispatch');
    expect(next.run.exitCode, next.run.log).toBe(0);
    expect(check(next.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);
    expect(next.report.rejected.map((r) => r.code)).toContain('CERTIFICATE_CHAIN_UNTRUSTED');
    const again = await deploy(trusted, 'workflow_dispatch');
    expect(again.run.exitCode, again.run.log).not.toBe(0);
    expect(check(again.report, 'break-glass').reason).toContain('a break-glass is used once');
  }, 240_000);
});
