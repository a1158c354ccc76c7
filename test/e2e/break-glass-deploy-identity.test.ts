// A break-glass is used once per artifact and environment, and only the decision records of the policy's deploy
// identity count as its uses. A deploy job running as any other identity — the platform's own deploy workflow called at
// a commit instead of the tag the org policy lists, a self-hosted runner — would record a use that no later deploy
// counts, and one that records nothing (record: false) would leave none: either way the break-glass could be used
// again and again. The genuine deploy action, the loopback Sigstore stack and the GitHub fake, as the pipeline runs.
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

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let app: FakeRepository;
let workspace: string;
let reviewed: string;
let hotfix: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
function job(repo: string, workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity(repo, '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    // A break-glass is asked for by hand: its run is dispatched (the certificate's Build Trigger).
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(8000 + runs),
    ...overrides,
  });
}
const ids = new Map<string, number>();
function aUserId(login: string): number {
  if (!ids.has(login)) ids.set(login, 9_000_000 + ids.size);
  return ids.get(login)!;
}
function approve(repository: FakeRepository, run: WorkflowIdentity, environment: string, ...logins: string[]): void {
  repository.workflowRunApprovals[run.run_id] = logins.map((login) => ({
    state: 'approved',
    comment: `ok from ${login}`,
    environments: [environment],
    user: { login, id: aUserId(login), type: 'User' },
  }));
}

function policy(deploy: string[]): string {
  return [
    'version: 1',
    'identities:',
    `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
    `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
    `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
    `  break-glass: { issuer: ${ISSUER}, san: ${san(BREAK_GLASS_WORKFLOW)} }`,
    'deploy:',
    `  trusted-root: ${stack.trustedRootPath}`,
    '  break-glass: { max-duration: 24h, min-approvers: 1 }',
    ...deploy,
    '',
  ].join('\n');
}

async function build(sha: string, subject: string): Promise<string> {
  const run = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': subject, ...endpoints() },
    identity: job('acme/app', BUILD_WORKFLOW, sha),
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  return run.outputs['bundle-path']!;
}

/** The genuine deploy action (root action.yml) as `workflow` runs it, storing its record (unless `inputs` say not). */
async function deploy(
  repository: FakeRepository,
  policyFile: string,
  environment: string | undefined,
  approvers: string[] = [],
  workflow: string = DEPLOY_WORKFLOW,
  inputs: Record<string, string> = {},
): Promise<{ run: ActionRun; report: DeployReport }> {
  const full = `${repository.owner.login}/${repository.name}`;
  const who = job(full, workflow, reviewed, {
    actor: 'erin',
    ...(environment !== undefined && { environment }),
  });
  if (environment !== undefined) approve(repository, who, environment, ...approvers);
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': 'dist/hotfix.tar.gz',
      bundles: 'hotfix',
      policy: policyFile,
      'store-attestations': 'true',
      ...endpoints(),
      ...inputs,
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

function recordPredicate(run: ActionRun) {
  const record = JSON.parse(readFileSync(run.outputs['record-path']!, 'utf8'));
  return JSON.parse(Buffer.from(record.dsseEnvelope.payload, 'base64').toString('utf8')).predicate;
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const change = anApprovedChange('acme/app', 'Add the parser');
  app = change.repository;
  reviewed = change.commit;
  hotfix = pushCommit(app, aCommit({ author: aUser('alice'), message: 'Hotfix: stop the outage' }));
  app.environments = {
    production: { reviewers: [aUser('carol')], preventSelfReview: true },
    'break-glass': { reviewers: [aUser('dave')], preventSelfReview: true },
  };
  const users = ['carol', 'dave', 'erin'].map((login) => aUser(login, { id: aUserId(login) }));
  github = await startGitHubFake(aGitHubState(app, ...users));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-deployer-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  // The org policy: deploys bound to acme/app, one approval of the deploy job required.
  writeFileSync(join(workspace, 'policy-repos.yml'), policy(['  repositories: [acme/app]', '  approvals: { min: 1 }']));

  const hotfixEvidence = join(workspace, 'hotfix');
  mkdirSync(hotfixEvidence);
  copyFileSync(await build(hotfix, 'dist/hotfix.tar.gz'), join(hotfixEvidence, 'provenance.sigstore.json'));
  const breakGlassJob = job('acme/app', BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
  approve(app, breakGlassJob, 'break-glass', 'dave');
  const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
    with: {
      'subject-path': 'dist/hotfix.tar.gz',
      reason: 'checkout is down for every customer',
      incident: 'https://status.acme.example/incidents/42',
      environment: 'production',
      duration: '2h',
      ...endpoints(),
    },
    identity: breakGlassJob,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_break_glass_job',
    workspace,
  });
  expect(glass.exitCode, glass.log).toBe(0);
  copyFileSync(glass.outputs['bundle-path']!, join(hotfixEvidence, 'break-glass.sigstore.json'));
}, 240_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

// The platform's own deploy workflow, called by full commit SHA instead of by the tag the org policy lists: the same
// code, the same policy, the same environment and approvals, another identity.
const DEPLOY_BY_SHA = `${PLATFORM}/twokey-deploy.yml@${'d'.repeat(40)}`;

describe('a break-glass is used only by a deploy that records its use where later deploys count it', () => {
  it('refuses it in a deploy that records nothing, in one running as another identity, then allows its one use', async () => {
    // record: false — the use would be recorded nowhere.
    const unrecorded = await deploy(app, 'policy-repos.yml', 'production', ['carol'], DEPLOY_WORKFLOW, {
      record: 'false',
    });
    expect(unrecorded.run.exitCode).not.toBe(0);
    expect(unrecorded.run.log).toContain(
      'RECORD_NOT_SIGNED: a deploy under a break-glass must sign and store its decision record',
    );
    expect(unrecorded.run.outputs['record-path']).toBeUndefined();

    // The genuine deploy workflow at another ref: the gate refuses the break-glass, and its FAILED record is stored.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const bySha = await deploy(app, 'policy-repos.yml', 'production', ['carol'], DEPLOY_BY_SHA);
      expect(bySha.run.exitCode).not.toBe(0);
      expect(bySha.report.verdict).toBe('fail');
      expect(check(bySha.report, 'break-glass').verdict).toBe('fail');
      expect(check(bySha.report, 'break-glass').reason).toContain(
        "its single use is recorded only by a deploy running as the policy's deploy identity",
      );
      expect(check(bySha.report, 'break-glass').reason).toContain(san(DEPLOY_BY_SHA));
      expect(recordPredicate(bySha.run).verificationResult).toBe('FAILED');
    }

    // The policy's deploy identity: the break-glass's one use, recorded where later deploys count it.
    const first = await deploy(app, 'policy-repos.yml', 'production', ['carol']);
    expect(first.run.exitCode, first.run.log).toBe(0);
    expect(check(first.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);
    expect(recordPredicate(first.run).verifiedLevels).toContain('TWOKEY_BREAK_GLASS');
    const again = await deploy(app, 'policy-repos.yml', 'production', ['carol']);
    expect(again.run.exitCode).not.toBe(0);
    expect(check(again.report, 'break-glass').reason).toContain('a break-glass is used once');
  }, 300_000);
});
