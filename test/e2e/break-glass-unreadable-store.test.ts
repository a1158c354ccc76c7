// Row 203 through an unreadable store (row 205): a break-glass's earlier uses are known only from the decision records
// in the attestation store, which GitHub serves behind bundle_url. When those downloads fail (a blob-storage outage, a
// slow or hostile blob host), each entry is rejected evidence for itself — never a pass — but what it held is unknown:
// the gate took the store as read and found no earlier use, and one break-glass shipped to production again and again.
// Unreadable entries now leave the earlier uses unknown, and the break-glass is refused. Built as
// test/e2e/break-glass-change-people.test.ts builds its runs.
// Who may release a break-glass, and how often it ships (threat-model rows 98, 114): the people of the change it lets
// through are everyone who made it — never only the head commit's author, who for a "Create a merge commit" merge is
// whoever clicked Merge, and for any commit whatever its writer typed — and one break-glass is used by one deploy run
// per environment, whichever of its subjects it ships: the unreviewed build can emit any number of byte-different
// copies of a release, each another artifact. Through the real build, break-glass and deploy actions, the CLI, the
// loopback Sigstore stack and the GitHub fake.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BreakGlassPredicate, readDeployReport } from '@twokey/core';
import {
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

const alice = aUser('alice', { id: 7001 });
const bob = aUser('bob', { id: 7002 });
const carol = aUser('carol', { id: 7003 });
const dave = aUser('dave', { id: 7004 });

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let repository: FakeRepository;
let workspace: string;
let runs = 0;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
function job(workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/break-glass.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    event_name: 'workflow_dispatch',
    run_id: String(7700 + runs),
    ...overrides,
  });
}
function approve(run: WorkflowIdentity, environment: string, ...who: { login: string; id: number }[]) {
  repository.workflowRunApprovals[run.run_id] = who.map((u) => ({
    state: 'approved',
    comment: 'go',
    environments: [environment],
    user: { login: u.login, id: u.id, type: 'User' },
  }));
}

async function build(sha: string, subject: string, dir: string) {
  const run = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': subject, ...endpoints() },
    identity: job(BUILD_WORKFLOW, sha, { event_name: 'workflow_dispatch' }),
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  copyFileSync(run.outputs['bundle-path']!, join(dir, 'provenance.sigstore.json'));
}

async function breakGlass(sha: string, subject: string, dir: string, requester: string, approver: typeof alice) {
  const who = job(BREAK_GLASS_WORKFLOW, sha, { environment: 'twokey-break-glass', actor: requester });
  approve(who, 'twokey-break-glass', approver);
  const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
    with: {
      'subject-path': subject,
      reason: 'checkout is down for every customer',
      incident: 'https://status.acme.example/incidents/77',
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
  if (glass.exitCode !== 0) return { glass };
  copyFileSync(glass.outputs['bundle-path']!, join(dir, 'break-glass.sigstore.json'));
  const predicate = JSON.parse(
    Buffer.from(
      JSON.parse(readFileSync(glass.outputs['bundle-path']!, 'utf8')).dsseEnvelope.payload,
      'base64',
    ).toString(),
  ).predicate as BreakGlassPredicate;
  return { glass, predicate };
}

async function deploy(sha: string, subject: string, dir: string, starter: string, approver: typeof alice) {
  const who = identity('acme/app', '.github/workflows/break-glass.yml', 'refs/heads/main', sha, {
    job_workflow_ref: DEPLOY_WORKFLOW,
    event_name: 'workflow_dispatch',
    run_id: String(7800 + ++runs),
    actor: starter,
    environment: 'production',
  });
  approve(who, 'production', approver);
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': subject,
      bundles: dir,
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
  return { run, report: readDeployReport(readFileSync(run.outputs['report-path']!, 'utf8'), 'report') };
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  repository = anApprovedChange('acme/app', 'Add the parser').repository;
  repository.collaborators = { alice: 'write', bob: 'write', carol: 'write', dave: 'write' };
  repository.environments = {
    'twokey-break-glass': { reviewers: [alice, dave], preventSelfReview: true },
    production: { reviewers: [alice, dave], preventSelfReview: true },
  };
  github = await startGitHubFake(aGitHubState(repository, alice, bob, carol, dave));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-change-people-'));
  mkdirSync(join(workspace, 'dist'));
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
      `  trusted-root: ${stack.trustedRootPath}`,
      '  break-glass: { max-duration: 24h, min-approvers: 1 }',
      '  approvals: { min: 1, distinct-from: [requester, author, contributors] }',
      '',
    ].join('\n'),
  );
  // The same org policy without deploy approvals, for `twokey verify` (offline it has no deploy approval to judge).
  writeFileSync(
    join(workspace, 'policy-verify.yml'),
    readFileSync(join(workspace, 'org-policy.yml'), 'utf8').replace(/ {2}approvals:.*\n/, ''),
  );
}, 240_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

const check = (report: ReturnType<typeof readDeployReport>, id: string) =>
  report.artifacts[0]!.checks.find((c) => c.id === id)!;

describe('a break-glass whose earlier uses the store cannot show', () => {
  it('is refused when the store serves the earlier decision records behind bundle_url and their download fails', async () => {
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: raise the pool size' }), 'main', {
      by: carol,
    });
    const dir = join(workspace, 'variants');
    mkdirSync(dir);
    mkdirSync(join(workspace, 'dist', 'v'));
    writeFileSync(join(workspace, 'dist', 'v', 'app-1.tar.gz'), 'app built from H\n');
    writeFileSync(join(workspace, 'dist', 'v', 'app-2.tar.gz'), 'app built from H\n\n');
    writeFileSync(join(workspace, 'dist', 'v', 'app-3.tar.gz'), 'app built from H\n\n\n');
    await build(H, 'dist/v/*', dir);
    const { glass } = await breakGlass(H, 'dist/v/*', dir, 'carol', dave);
    expect(glass.exitCode, glass.log).toBe(0);

    const release = await deploy(H, 'dist/v/app-1.tar.gz,dist/v/app-2.tar.gz', 'variants', 'carol', dave);
    expect(release.run.exitCode, release.run.log).toBe(0);
    expect(release.report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'pass']);

    // The store serves every entry behind bundle_url (as GitHub does), and the blob host fails for them.
    const stored = repository.attestations ?? [];
    expect(stored.length).toBeGreaterThan(0);
    for (const a of stored) a.viaUrl = true;
    github.failOn(/^GET \/_attestation-blobs\//, { status: 503 });

    // Another run, the copy no deploy shipped yet: its break-glass's earlier uses cannot be known.
    const third = await deploy(H, 'dist/v/app-3.tar.gz', 'variants', 'carol', dave);
    expect(third.run.exitCode).not.toBe(0);
    expect(third.report.verdict).toBe('fail');
    expect(check(third.report, 'break-glass').verdict).toBe('fail');
    expect(check(third.report, 'break-glass').reason).toContain('its earlier uses cannot be known');
    for (const a of stored) a.viaUrl = true;
    // Another run, the file the first run already shipped: refused too.
    const again = await deploy(H, 'dist/v/app-1.tar.gz', 'variants', 'carol', dave);
    expect(again.run.exitCode).not.toBe(0);
    expect(again.report.verdict).toBe('fail');
    expect(check(again.report, 'break-glass').reason).toContain('its earlier uses cannot be known');
  }, 400_000);
});
