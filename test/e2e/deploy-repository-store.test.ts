// Row 142 from a deployment repository (threat-model row 176). alice's change A (the code) is approved by bob; carol's
// docs-only change B is approved by alice; a reproducible build makes the same app.tar.gz of both, and each sign run
// stores its review attestation in acme/app's attestation store. The org deploys acme/app's artifacts from acme/ops
// (deploy.repositories: [acme/app], the deploy identity pinned to acme/ops). The deploy job read only acme/ops's store
// for the people of every other change that built the bytes — never acme/app's, where change A's review attestation
// is — so alice, who wrote the code that ships, approved its production deploy. It now reads the store of every
// repository its chains may come from, and refuses when one cannot be read.
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
let ops: FakeRepository;
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

async function release(sha: string, dir: string): Promise<void> {
  mkdirSync(join(workspace, dir));
  const built = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': 'dist/app.tar.gz', 'store-attestations': 'true', ...endpoints() },
    identity: job('acme/app', BUILD_WORKFLOW, sha),
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
    identity: job('acme/app', SIGN_WORKFLOW, sha),
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
  app = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', carol: 'write' } });
  const a = aCommit({ author: alice, message: 'Add the parser' });
  const prA = aPullRequest({ author: alice, commits: [a], title: 'Add the parser' });
  prA.reviews.push(aReview({ by: bob, on: a.sha }));
  const commitA = mergePullRequest(app, prA, { method: 'squash', by: bob });
  const b = aCommit({ author: carol, message: 'docs: fix a typo' });
  const prB = aPullRequest({ author: carol, commits: [b], title: 'docs: fix a typo' });
  prB.reviews.push(aReview({ by: alice, on: b.sha }));
  commitB = mergePullRequest(app, prB, { method: 'squash', by: carol });
  app.environments = { production: { reviewers: [alice, bob, carol], preventSelfReview: false } };
  // The deployment repository the org policy pins the deploy identity to.
  ops = aRepository('acme/ops', { collaborators: { erin: 'admin', alice: 'write', bob: 'write', carol: 'write' } });
  ops.environments = { production: { reviewers: [alice, bob, carol], preventSelfReview: false } };
  github = await startGitHubFake(aGitHubState(app, ops, alice, bob, carol, aUser('erin')));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-ops-same-bytes-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), 'app 1.0, reproducibly built\n');
  writeFileSync(
    join(workspace, 'org-policy.yml'),
    [
      'version: 1',
      'identities:',
      `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
      `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
      `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)}, source-repository: https://github.com/acme/ops }`,
      'deploy:',
      `  trusted-root: ${stack.trustedRootPath}`,
      '  repositories: [acme/app]',
      '  approvals: { min: 1 }',
      '',
    ].join('\n'),
  );
  await release(commitA, 'run-a');
  await release(commitB, 'run-b');
}, 300_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

async function deployB(repository: FakeRepository, approver: string) {
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
      bundles: 'run-b',
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
  return {
    exitCode: run.exitCode,
    log: run.log,
    report: readDeployReport(readFileSync(path!, 'utf8'), path!),
  };
}

const approvalCheck = (report: DeployReport) => report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('row 142 from a deployment repository', () => {
  it('from acme/app, alice’s approval is refused (change A’s review attestation is in acme/app’s store)', async () => {
    const { exitCode, report } = await deployB(app, 'alice');
    expect(exitCode).not.toBe(0);
    expect(approvalCheck(report).reason).toContain("alice (the change's author)");
  }, 120_000);

  it('from acme/ops (the pinned deployment repository), alice’s approval is refused too: acme/app’s store is read', async () => {
    const { exitCode, report } = await deployB(ops, 'alice');
    expect(exitCode).not.toBe(0);
    expect(report.verdict).toBe('fail');
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain("alice (the change's author)");
  }, 120_000);

  it('from acme/ops, an independent approver passes', async () => {
    const { exitCode, report, log } = await deployB(ops, 'bob');
    expect(exitCode, log).toBe(0);
    expect(report.verdict).toBe('pass');
    expect(approvalCheck(report).reason).toContain('approved for production by bob');
  }, 120_000);

  it('from acme/ops, refuses when acme/app cannot be read with the job’s token (its store’s 404 is not "none")', async () => {
    // A private acme/app, and acme/ops's GITHUB_TOKEN: GitHub answers 404 for the repository and for its store.
    github.failOn(/^GET \/repos\/acme\/app(\/attestations\/.*)?$/, { status: 404, count: 1 });
    const { exitCode, report } = await deployB(ops, 'bob');
    expect(exitCode).not.toBe(0);
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain(
      'acme/app: the repository cannot be read with this token, so neither can its attestation store',
    );
    expect(approvalCheck(report).reason).toContain(
      "it holds the review attestations of acme/app's changes that built these artifacts",
    );
  }, 120_000);
});
