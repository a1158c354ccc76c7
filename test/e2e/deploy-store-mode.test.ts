// Row 176 whatever the deploy action's evidence (threat-model row 176): deploy.repositories binds acme/app and acme/lib
// (a library built reproducibly in both); alice's change A (the code) is in acme/lib, approved by bob, its review
// attestation in acme/lib's store; carol's docs-only change B is in acme/app, approved by alice; same bytes. acme/app's
// deploy job read acme/lib's store when given files (bundles), but not when reading its evidence from the store (no
// bundles input): the same evidence and approval, two verdicts. Both now read every bound repository's store.
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
let commitB: string;

beforeAll(async () => {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const carol = aUser('carol');
  const lib = aRepository('acme/lib', { collaborators: { alice: 'write', bob: 'write', carol: 'write' } });
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
  stage = await startStage(aGitHubState(app, lib, alice, bob, carol, aUser('erin')), (stack) => ({
    'org-policy.yml': [
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
  }));
  await release(stage, 'acme/lib', commitA, 'run-a');
  await release(stage, 'acme/app', commitB, 'run-b');
}, 300_000);

afterAll(() => stage?.close());

const deployB = (repository: FakeRepository, approver: string, bundles: string, more: Record<string, string> = {}) =>
  deploy(stage, repository, commitB, approver, { bundles, ...more });

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
    stage.github.failOn(/^GET \/repos\/acme\/lib(\/attestations\/.*)?$/, { status: 404, count: 1 });
    const { exitCode, report } = await deployB(app, 'bob', 'run-b');
    expect(exitCode).not.toBe(0);
    expect(approvalCheck(report).verdict).toBe('fail');
    expect(approvalCheck(report).reason).toContain('acme/lib: the repository cannot be read with this token');
  }, 120_000);

  it('reads the other repositories’ stores with bound-repositories-token when given, and its own with github-token', async () => {
    stage.github.requests.length = 0;
    const { report } = await deployB(app, 'alice', 'run-b', { 'bound-repositories-token': 'ghp_reads_every_store' });
    expect(approvalCheck(report).reason).toContain("not counted: alice (the change's author)");
    const lib = stage.github.requests.filter((r) => r.path.startsWith('/repos/acme/lib'));
    expect(lib.length).toBeGreaterThan(0);
    expect(lib.every((r) => r.authorization?.endsWith('ghp_reads_every_store'))).toBe(true);
    const own = stage.github.requests.filter((r) => r.path.startsWith('/repos/acme/app/attestations'));
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((r) => r.authorization?.endsWith('ghs_deploy_job'))).toBe(true);
  }, 120_000);
});
