// Row 176 whatever the deploy action's evidence (threat-model row 176): deploy.repositories binds acme/app and acme/lib
// (a library built reproducibly in both); alice's change A (the code) is in acme/lib, approved by bob, its review
// attestation in acme/lib's store; carol's docs-only change B is in acme/app, approved by alice; same bytes. acme/app's
// deploy job read acme/lib's store when given files (bundles), but not when reading its evidence from the store (no
// bundles input): the same evidence and approval, two verdicts. Both now read every bound repository's store.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeployReport, readDeployReport } from '@twokey/core';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  type GitHubFake,
  identity,
  mergePullRequest,
  type OidcIssuer,
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
const san = (workflow: string) => `https://github.com/${workflow}`;

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let app: FakeRepository;
let lib: FakeRepository;
let workspace: string;
let commitB: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
function job(repo: string, workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity(repo, '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    run_id: String(9900 + runs),
    ...overrides,
  });
}

async function release(repo: string, sha: string, dir: string): Promise<void> {
  mkdirSync(join(workspace, dir));
  const built = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': 'dist/app.tar.gz', 'store-attestations': 'true', ...endpoints() },
    identity: job(repo, BUILD_WORKFLOW, sha),
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_build_job',
    workspace,
  });
  expect(built.exitCode, built.log).toBe(0);
  const provenance = join(workspace, dir, 'provenance.sigstore.json');
  copyFileSync(built.outputs['bundle-path']!, provenance);
  const signed = await runAction(join(repoRoot, 'actions', 'sign'), {
    with: {
      'subject-path': 'dist/app.tar.gz',
      provenance,
      policy: 'org-policy.yml',
      'trusted-root': stack.trustedRootPath,
      'store-attestations': 'true',
      ...endpoints(),
    },
    identity: job(repo, SIGN_WORKFLOW, sha),
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_sign_job',
    workspace,
  });
  expect(signed.exitCode, signed.log).toBe(0);
  for (const [i, path] of signed.outputs['bundle-paths']!.split('\n').entries()) {
    copyFileSync(path, join(workspace, dir, `sign-${i}.sigstore.json`));
  }
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const alice = aUser('alice');
  const bob = aUser('bob');
  const carol = aUser('carol');
  lib = aRepository('acme/lib', { collaborators: { alice: 'write', bob: 'write', carol: 'write' } });
  const a = aCommit({ author: alice, message: 'Add the parser' });
  const prA = aPullRequest({ author: alice, commits: [a], title: 'Add the parser' });
  prA.reviews.push(aReview({ by: bob, on: a.sha }));
  const commitA = mergePullRequest(lib, prA, { method: 'squash', by: bob });
  app = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', carol: 'write' } });
  const b = aCommit({ author: carol, message: 'docs: fix a typo' });
  const prB = aPullRequest({ author: carol, commits: [b], title: 'docs: fix a typo' });
  prB.reviews.push(aReview({ by: alice, on: b.sha }));
  commitB = mergePullRequest(app, prB, { method: 'squash', by: carol });
  app.environments = { production: { reviewers: [alice, bob, carol], preventSelfReview: false } };
  github = await startGitHubFake(aGitHubState(app, lib, alice, bob, carol, aUser('erin')));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-store-mode-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), 'app 1.0, reproducibly built\n');
  writeFileSync(
    join(workspace, 'org-policy.yml'),
    [
      'version: 1',
      'identities:',
      `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
      `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
      `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
      'deploy:',
      `  trusted-root: ${stack.trustedRootPath}`,
      '  repositories: [acme/app, acme/lib]',
      '  approvals: { min: 1 }',
      '',
    ].join('\n'),
  );
  await release('acme/lib', commitA, 'run-a');
  await release('acme/app', commitB, 'run-b');
}, 300_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

async function deployB(
  repository: FakeRepository,
  approver: string,
  bundles: string,
  more: Record<string, string> = {},
) {
  const full = `${repository.owner.login}/${repository.name}`;
  const who = job(full, DEPLOY_WORKFLOW, commitB, { environment: 'production', actor: 'erin' });
  repository.workflowRunApprovals[who.run_id] = [
    {
      state: 'approved',
      comment: 'ok',
      environments: ['production'],
      user: { login: approver, id: github.state.users!.find((u) => u.login === approver)!.id, type: 'User' },
    },
  ];
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': 'dist/app.tar.gz',
      bundles,
      policy: 'org-policy.yml',
      'store-attestations': 'true',
      ...endpoints(),
      ...more,
    },
    identity: who,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_deploy_job',
    workspace,
  });
  const path = run.outputs['report-path'];
  expect(path, run.log).toBeDefined();
  return {
    exitCode: run.exitCode,
    log: run.log,
    report: readDeployReport(readFileSync(path!, 'utf8'), path!),
  };
}

const approvalCheck = (report: DeployReport) => report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('row 176 in the deploy action, files or store', () => {
  it('files given: alice (author of change A, in acme/lib) is refused, acme/lib’s store read', async () => {
    const { exitCode, report } = await deployB(app, 'alice', 'run-b');
    expect(exitCode).not.toBe(0);
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain("not counted: alice (the change's author)");
  }, 120_000);

  it('evidence from the store (no bundles input): alice is refused too', async () => {
    const { exitCode, report } = await deployB(app, 'alice', '');
    expect(exitCode).not.toBe(0);
    expect(report.verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain("not counted: alice (the change's author)");
  }, 120_000);

  it('refuses, saying why, when acme/lib cannot be read with acme/app’s token (a private repository)', async () => {
    // acme/app's own GITHUB_TOKEN cannot see a private acme/lib: GitHub answers 404.
    github.failOn(/^GET \/repos\/acme\/lib(\/attestations\/.*)?$/, { status: 404, count: 1 });
    const { exitCode, report } = await deployB(app, 'bob', 'run-b');
    expect(exitCode).not.toBe(0);
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain('acme/lib: the repository cannot be read with this token');
  }, 120_000);

  it('reads the other repositories’ stores with bound-repositories-token when given, and its own with github-token', async () => {
    github.requests.length = 0;
    const { report } = await deployB(app, 'alice', 'run-b', { 'bound-repositories-token': 'ghp_reads_every_store' });
    expect(approvalCheck(report).reason).toContain("not counted: alice (the change's author)");
    const lib = github.requests.filter((r) => r.path.startsWith('/repos/acme/lib'));
    expect(lib.length).toBeGreaterThan(0);
    expect(lib.every((r) => r.authorization?.endsWith('ghp_reads_every_store'))).toBe(true);
    const own = github.requests.filter((r) => r.path.startsWith('/repos/acme/app/attestations'));
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((r) => r.authorization?.endsWith('ghs_deploy_job'))).toBe(true);
  }, 120_000);
});
