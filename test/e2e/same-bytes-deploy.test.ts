// Two reviewed commits that build the same bytes, as the pipeline runs them. alice's change A (the code) is approved
// by bob; carol's docs-only change B is approved by alice; a reproducible build makes the same app.tar.gz of both,
// and each sign run stores its review attestation in the repository's attestation store. The deploy of run B, given
// only run B's files (as the reusable deploy workflow passes them), must still not let alice — who wrote the code
// that ships — approve its production deploy: the gate reads the store, where A's review attestation is.
import { createHash } from 'node:crypto';
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
  type FakeAttestation,
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
let repository: FakeRepository;
let workspace: string;
let commitB: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
function job(workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    run_id: String(8800 + runs),
    ...overrides,
  });
}

/** build → sign of one commit, storing every bundle; the run's files copied into `dir`. */
async function release(sha: string, dir: string): Promise<void> {
  mkdirSync(join(workspace, dir));
  const built = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': 'dist/app.tar.gz', 'store-attestations': 'true', ...endpoints() },
    identity: job(BUILD_WORKFLOW, sha),
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
    identity: job(SIGN_WORKFLOW, sha),
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
  repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', carol: 'write' } });
  // A: alice's code, approved by bob.
  const a = aCommit({ author: alice, message: 'Add the parser' });
  const prA = aPullRequest({ author: alice, commits: [a], title: 'Add the parser' });
  prA.reviews.push(aReview({ by: bob, on: a.sha }));
  const commitA = mergePullRequest(repository, prA, { method: 'squash', by: bob });
  // B: carol's docs-only change, approved by alice; it builds the same bytes.
  const b = aCommit({ author: carol, message: 'docs: fix a typo' });
  const prB = aPullRequest({ author: carol, commits: [b], title: 'docs: fix a typo' });
  prB.reviews.push(aReview({ by: alice, on: b.sha }));
  commitB = mergePullRequest(repository, prB, { method: 'squash', by: carol });
  repository.environments = { production: { reviewers: [alice, bob, carol], preventSelfReview: false } };
  github = await startGitHubFake(aGitHubState(repository, alice, bob, carol, aUser('erin')));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-same-bytes-'));
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
      '  approvals: { min: 1 }',
      '',
    ].join('\n'),
  );
  await release(commitA, 'run-a');
  await release(commitB, 'run-b');
}, 240_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** The deploy of run B (its files only), approved through production by `approver`. */
async function deployB(
  approver: string,
): Promise<{ exitCode: number; log: string; report: DeployReport; record?: string }> {
  const who = job(DEPLOY_WORKFLOW, commitB, { environment: 'production', actor: 'erin' });
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
    ...(run.outputs['record-path'] && { record: run.outputs['record-path'] }),
  };
}

const approvalCheck = (report: DeployReport) => report.artifacts[0]!.checks.find((c) => c.id === 'deploy-approval')!;

describe('the deploy of one of two changes that built the same bytes', () => {
  it('refuses alice’s approval: she wrote the code that ships (change A’s review attestation, read from the store)', async () => {
    const { exitCode, report } = await deployB('alice');
    expect(exitCode).not.toBe(0);
    expect(report.verdict).toBe('fail');
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain("alice (the change's author)");
  });

  it('accepts the approval of bob, who wrote neither change', async () => {
    const { exitCode, report, log } = await deployB('bob');
    expect(exitCode, log).toBe(0);
    expect(approvalCheck(report).verdict).toBe('pass');
  });

  it('refuses, with its reason and a signed record, a deploy whose store cannot be read (it is not taken as empty)', async () => {
    github.failOn('GET /repos/{owner}/{repo}/attestations/{subject_digest}', { status: 403, count: 1 });
    const { exitCode, report, log, record } = await deployB('bob');
    expect(exitCode).not.toBe(0);
    expect(record).toBeDefined();
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain("the repository's attestation store could not be read");
    expect(approvalCheck(report).reason).toContain('whether another change built the same artifact');
    expect(log).toContain('deploy-approval (fail)');
  });

  it('is not stopped by an entry a writer put in the store that is no bundle it can read: that entry is rejected', async () => {
    const digest = createHash('sha256')
      .update(readFileSync(join(workspace, 'dist', 'app.tar.gz')))
      .digest('hex');
    const stored = repository.attestations!;
    stored.push({
      subjects: [`sha256:${digest}`],
      bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', dsseEnvelope: {}, surprise: true },
    });
    try {
      const { exitCode, report, log } = await deployB('bob');
      expect(exitCode, log).toBe(0);
      expect(report.rejected).toContainEqual(
        expect.objectContaining({
          source: expect.stringMatching(/^github:acme\/app\/attestations\/sha256:[0-9a-f]{64}#\d+$/),
          code: expect.stringMatching(/^BUNDLE_/),
        }),
      );
    } finally {
      stored.pop();
    }
  });

  it('is neither stopped nor misled by a writer storing one of the store’s bundles for these bytes 1001 times: copies are read once', async () => {
    const digest = createHash('sha256')
      .update(readFileSync(join(workspace, 'dist', 'app.tar.gz')))
      .digest('hex');
    const original = repository.attestations!;
    const copied = original.find((a) => a.subjects.includes(`sha256:${digest}`))!;
    const copies = new Set(Array.from({ length: 1001 }, (): FakeAttestation => ({ ...copied, viaUrl: true })));
    repository.attestations = [...original, ...copies];
    try {
      const bob = await deployB('bob');
      expect(bob.exitCode, bob.log).toBe(0);
      expect(approvalCheck(bob.report).verdict).toBe('pass');
      // Change A's review attestation is still read: alice is still refused.
      const alice = await deployB('alice');
      expect(approvalCheck(alice.report).verdict).toBe('fail');
      expect(approvalCheck(alice.report).reason).toContain("alice (the change's author)");
    } finally {
      repository.attestations = repository.attestations.filter((a) => !copies.has(a));
    }
  });
});
