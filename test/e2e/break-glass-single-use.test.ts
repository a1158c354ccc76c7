// A break-glass is used once per artifact and environment (threat model row 114), and the deploy gate knows its
// earlier uses from the decision records in the attestation store of the repository it runs in. So it uses one only
// where that holds: in a deploy job that runs in the environment the break-glass names (a job in no environment would
// record a use for none, never counted again), run in the repository the break-glass was made for (a deployment
// repository's store does not show the uses recorded in the application's, nor the other way round). Every deploy here
// is the genuine root action under the genuine deploy identity, with the genuine break-glass the break-glass workflow
// signed; the attacker only chooses where and how the deploy job runs.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeployReport, readDeployReport } from '@twokey/core';
import {
  type ActionRun,
  aCommit,
  aGitHubState,
  anApprovedChange,
  aRepository,
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
let ops: FakeRepository;
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

/** The genuine deploy action (root action.yml) as the platform's deploy workflow runs it, storing its record. */
async function deploy(
  repository: FakeRepository,
  policyFile: string,
  environment: string | undefined,
  approvers: string[] = [],
): Promise<{ run: ActionRun; report: DeployReport }> {
  const full = `${repository.owner.login}/${repository.name}`;
  const who = job(full, DEPLOY_WORKFLOW, reviewed, {
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
  // A second repository of the org (a deployment repository, or any repository whose workflows one controls).
  ops = aRepository('acme/ops', { collaborators: { erin: 'admin', carol: 'write' } });
  ops.environments = { production: { reviewers: [aUser('carol')], preventSelfReview: true } };
  const users = ['carol', 'dave', 'erin'].map((login) => aUser(login, { id: aUserId(login) }));
  github = await startGitHubFake(aGitHubState(app, ops, ...users));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-use-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  // (a): the org policy as shipped by default for deploy approvals (min 0).
  writeFileSync(join(workspace, 'policy-default.yml'), policy([]));
  // (b): an org policy whose deploys are bound to acme/app (a deployment repository ships it), one approval required.
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

describe('the deploy gate uses a break-glass only where its single use is recorded and read', () => {
  it('refuses it in a deploy job that runs in no environment, and records the refusal', async () => {
    const { run, report } = await deploy(app, 'policy-default.yml', undefined);
    expect(run.exitCode, run.log).not.toBe(0);
    expect(run.outputs.verified).toBe('false');
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(
      'it is for a deploy to production, and this deploy job runs in no environment (its token names none)',
    );
    const predicate = recordPredicate(run);
    expect(predicate.verificationResult).toBe('FAILED');
    expect(predicate.verifiedLevels).not.toContain('TWOKEY_BREAK_GLASS');
  }, 120_000);

  it('refuses it in a deploy run from another repository (acme/ops ships acme/app), and uses it once from acme/app', async () => {
    const fromOps = await deploy(ops, 'policy-repos.yml', 'production', ['carol']);
    expect(fromOps.run.exitCode, fromOps.run.log).not.toBe(0);
    expect(check(fromOps.report, 'break-glass').reason).toContain(
      'it is used only in a deploy run in https://github.com/acme/app, whose attestation store records and shows its single use; this deploy runs in https://github.com/acme/ops',
    );

    const fromApp = await deploy(app, 'policy-repos.yml', 'production', ['carol']);
    expect(fromApp.run.exitCode, fromApp.run.log).toBe(0);
    expect(check(fromApp.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: .* for production,/);
    expect(recordPredicate(fromApp.run).verifiedLevels).toContain('TWOKEY_BREAK_GLASS');

    const again = await deploy(app, 'policy-repos.yml', 'production', ['carol']);
    expect(again.run.exitCode, again.run.log).not.toBe(0);
    expect(check(again.report, 'break-glass').reason).toContain('a break-glass is used once');

    // The build job (its code, or a dependency's) adds one more `twokey-*` artifact holding a file that is no
    // bundle, which the deploy workflow downloads beside the others: the deploy used to stop on it before deciding,
    // and so the attempt left no signed record. It is rejected evidence now, and the refusal is recorded. So is a
    // JSON Lines file of more lines than one holds (1 MiB of newlines), which is read while the files are listed.
    for (const [name, content, code] of [
      ['junk.json', '{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=9"}\n', 'BUNDLE_MEDIA_TYPE'],
      ['junk.jsonl', '\n'.repeat(2 ** 20 + 1), 'BUNDLE_UNREADABLE'],
    ] as const) {
      const junk = join(workspace, 'hotfix', name);
      writeFileSync(junk, content);
      try {
        const recordsBefore = (app.attestations ?? []).length;
        const probe = await deploy(app, 'policy-repos.yml', 'production', ['carol']);
        expect(probe.run.exitCode, probe.run.log).not.toBe(0);
        expect(probe.report.verdict).toBe('fail');
        expect(check(probe.report, 'break-glass').reason).toContain('a break-glass is used once');
        expect(probe.report.rejected).toEqual([expect.objectContaining({ source: `hotfix/${name}`, code })]);
        expect(recordPredicate(probe.run).verificationResult).toBe('FAILED');
        // Stored: the decision record, and the deploy approval it signed beside it.
        expect((app.attestations ?? []).length).toBe(recordsBefore + 2);
      } finally {
        rmSync(junk);
      }
    }
  }, 240_000);
});
