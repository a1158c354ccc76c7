// Row 142 from a deployment repository (threat-model row 176). alice's change A (the code) is approved by bob; carol's
// docs-only change B is approved by alice; a reproducible build makes the same app.tar.gz of both, and each sign run
// stores its review attestation in acme/app's attestation store. The org deploys acme/app's artifacts from acme/ops
// (deploy.repositories: [acme/app], the deploy identity pinned to acme/ops). The deploy job read only acme/ops's store
// for the people of every other change that built the bytes — never acme/app's, where change A's review attestation
// is — so alice, who wrote the code that ships, approved its production deploy. It now reads the store of every
// repository its chains may come from, and refuses when one cannot be read.
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  mergePullRequest,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvalCheck,
  BUILD_WORKFLOW,
  DEPLOY_WORKFLOW,
  deploy,
  ISSUER,
  release,
  SIGN_WORKFLOW,
  type Stage,
  san,
  startStage,
} from './stores-stage';

let stage: Stage;
let app: FakeRepository;
let ops: FakeRepository;
let commitB: string;

beforeAll(async () => {
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
  stage = await startStage(aGitHubState(app, ops, alice, bob, carol, aUser('erin')), (stack) => ({
    'org-policy.yml': [
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
  }));
  await release(stage, 'acme/app', commitA, 'run-a');
  await release(stage, 'acme/app', commitB, 'run-b');
}, 300_000);

afterAll(() => stage?.close());

const deployB = (repository: FakeRepository, approver: string) =>
  deploy(stage, repository, commitB, approver, { bundles: 'run-b' });

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
    stage.github.failOn(/^GET \/repos\/acme\/app(\/attestations\/.*)?$/, { status: 404, count: 1 });
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
