// The laundered ancestor (red team "alone", threat model row 90), through the whole chain: build → sign → deploy gate
// and `twokey verify`. alice lands a change twokey's sign stage refuses, in a merge GitHub allows (M1): bob's stale
// approval of her first head H1 kept after she pushed her backdoor H2 (GitHub's defaults), or bob's approval recorded on
// H2 a second after her push (row 197: every rule of GitHub's strictest settings met). twokey refuses M1's release, but
// M1 stays on main. Her next one-line pull request, approved by bob for the diff he is shown, merges as M2, whose tree
// holds the backdoor: without review.reviewed-history, M2's release is signed, deployed and verified (the red team's
// proof of concept). With it, the sign stage walks main's activity feed from M2's base back to review.history-since and
// refuses M2 naming M1's merge and the rule it fails; and the deploy gate and `twokey verify`, under a policy with the
// rule, refuse a review attestation signed without a passing history.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readDeployReport } from '@twokey/core';
import {
  type ActionRun,
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
  pushCommit,
  pushToPullRequest,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../packages/cli/src/cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const SIGN_ACTION = join(repoRoot, 'actions', 'sign');
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/sign.yml@refs/heads/main';
const SIGN_SAN = `https://github.com/${SIGN_WORKFLOW}`;
const ARTIFACT = 'dist/app.tar.gz';
const POLICY = '.twokey/policy.yml';
/** The same policy without review.reviewed-history: what the sign stage signed M2 under before the rule. */
const POLICY_OFF = '.twokey/policy-off.yml';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let github: GitHubFake;
let root: string;
let workspace: string;
let m1: string;
let m2: string;
let repository: FakeRepository;
let number: number;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

function job(commit: string, workflowPath: string, jobWorkflow?: string, extra: Partial<WorkflowIdentity> = {}) {
  return identity('acme/app', workflowPath, 'refs/heads/main', commit, {
    ...(jobWorkflow && { job_workflow_ref: jobWorkflow }),
    ...extra,
  });
}

async function buildAndSign(commit: string, policy = POLICY): Promise<{ provenance: string; sign: ActionRun }> {
  const built = await runAction(BUILD_ACTION, {
    with: { 'subject-path': ARTIFACT, ...endpoints() },
    identity: job(commit, '.github/workflows/build.yml'),
    oidc: issuer,
    workspace,
  });
  expect(built.exitCode, built.log).toBe(0);
  const provenance = built.outputs['bundle-path']!;
  const sign = await runAction(SIGN_ACTION, {
    with: {
      'subject-path': ARTIFACT,
      provenance,
      policy,
      'trusted-root': stack.trustedRootPath,
      ...endpoints(),
    },
    identity: job(commit, '.github/workflows/release.yml', SIGN_WORKFLOW),
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_sign_job_token',
    workspace,
  });
  return { provenance, sign };
}

type Scenario =
  | 'stale approval (GitHub defaults)'
  | 'approval recorded on the newest head (row 197; strictest GitHub settings)';

/** PR #1 lands alice's backdoor on main as M1 in a way GitHub's rules allow; PR #2's harmless line lands as M2. */
function history(scenario: Scenario) {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repo = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  // main before the organisation adopted twokey (review.history-since: 2026-03-01): the trusted baseline.
  pushCommit(repo, aCommit({ author: alice, message: 'Before twokey', date: '2026-02-01T00:00:00Z' }), 'main', {
    by: alice,
  });
  const typo = aCommit({ author: alice, message: 'Fix typo in README', date: '2026-03-02T09:00:00Z' });
  const pr1 = aPullRequest({ author: alice, commits: [typo], title: 'Fix typo' });
  if (scenario === 'stale approval (GitHub defaults)') {
    // bob approves the typo fix; alice pushes the backdoor after it; GitHub (stale approvals kept) lets her merge.
    pr1.reviews.push(aReview({ by: bob, on: typo.sha, state: 'APPROVED', at: '2026-03-02T09:30:00Z' }));
    pushToPullRequest(pr1, aCommit({ author: alice, message: 'Tidy (backdoor)', date: '2026-03-02T10:00:00Z' }), {
      by: alice,
      at: '2026-03-02T10:00:00Z',
    });
  } else {
    // bob's `gh pr review --approve` of the typo fix arrives just after alice's script pushed the backdoor: GitHub
    // records it on the backdoor head, after the last push, by a non-pusher — every GitHub rule is met.
    const head = pushToPullRequest(
      pr1,
      aCommit({ author: alice, message: 'Tidy (backdoor)', date: '2026-03-02T10:00:00Z' }),
      { by: alice, at: '2026-03-02T10:00:00Z' },
    );
    pr1.reviews.push(aReview({ by: bob, on: head, state: 'APPROVED', at: '2026-03-02T10:00:01Z' }));
  }
  const first = mergePullRequest(repo, pr1, { method: 'squash', by: alice, at: '2026-03-02T10:05:00Z' });
  number = pr1.number;
  // PR #2 from main (= M1): a harmless line; bob approves the diff he is shown (that line); alice merges.
  const harmless = aCommit({ author: alice, message: 'Bump the changelog date', date: '2026-03-02T11:00:00Z' });
  harmless.parents = [first];
  const pr2 = aPullRequest({ author: alice, commits: [harmless], title: 'Changelog date' });
  pr2.base.sha = first;
  pr2.reviews.push(aReview({ by: bob, on: harmless.sha, state: 'APPROVED', at: '2026-03-02T11:30:00Z' }));
  const second = mergePullRequest(repo, pr2, { method: 'merge', by: alice, at: '2026-03-02T11:35:00Z' });
  return { repo, first, second };
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  root = mkdtempSync(join(tmpdir(), 'laundered-ancestor-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'dist'), { recursive: true });
  mkdirSync(join(workspace, '.twokey'), { recursive: true });
  // What M2's tree builds: the backdoor from M1 included.
  writeFileSync(join(workspace, ARTIFACT), `app 1.1 (contains PR #1's unreviewed backdoor) ${'x'.repeat(2048)}\n`);
  const policy = (review: string) => `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: ${BUILD_SAN}
  sign:
    issuer: ${ISSUER}
    san: ${SIGN_SAN}
    source-repository: https://github.com/acme/app
${review}deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
`;
  writeFileSync(join(workspace, POLICY), policy('review:\n  reviewed-history: true\n  history-since: 2026-03-01\n'));
  writeFileSync(join(workspace, POLICY_OFF), policy(''));
}, 120_000);

afterAll(async () => {
  await Promise.all([stack?.close(), issuer?.close(), github?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

async function twokey(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const status = await run(argv, {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
  } as never);
  return { status, ...out };
}

async function collect(sign: ActionRun, provenance: string): Promise<string> {
  const bundles = mkdtempSync(join(root, 'bundles-'));
  copyFileSync(provenance, join(bundles, 'provenance.sigstore.json'));
  for (const [i, p] of sign.outputs['bundle-paths']!.split('\n').entries()) {
    copyFileSync(p, join(bundles, `sign-${i}.sigstore.json`));
  }
  return bundles;
}

describe.each<Scenario>([
  'stale approval (GitHub defaults)',
  'approval recorded on the newest head (row 197; strictest GitHub settings)',
])('an unreviewed change laundered through the next reviewed merge: %s', (scenario) => {
  beforeAll(async () => {
    await github?.close();
    ({ repo: repository, first: m1, second: m2 } = history(scenario));
    github = await startGitHubFake(aGitHubState(repository));
  });

  it('M1 (the backdoor pull request) is refused on its own', async () => {
    const { sign } = await buildAndSign(m1);
    expect(sign.exitCode).not.toBe(0);
    expect(sign.log).toContain('approval-on-merged-head');
  }, 120_000);

  it("M2 on top of it is refused by review.reviewed-history, naming M1's merge and the rule it fails", async () => {
    const { sign } = await buildAndSign(m2);
    expect(sign.exitCode, sign.log).not.toBe(0);
    expect(sign.outputs['bundle-paths'] ?? '').toBe('');
    expect(sign.log).toContain('reviewed-history');
    expect(sign.log).toContain(
      `the pr_merge of ${m1.slice(0, 12)} by alice at 2026-03-02T10:05:00Z (pull request #${number}) fails approval-on-merged-head`,
    );
    // M2's first parent is M1: the backdoor is in what was built.
    expect(repository.commits.find((c) => c.sha === m2)?.parents[0]).toBe(m1);
  }, 120_000);

  it('a review attestation of M2 signed without the rule is refused by the deploy gate and twokey verify under it', async () => {
    const { provenance, sign } = await buildAndSign(m2, POLICY_OFF);
    expect(sign.exitCode, sign.log).toBe(0);
    const bundles = await collect(sign, provenance);
    const [gate, cli] = await Promise.all([
      runAction(repoRoot, {
        with: { 'subject-path': ARTIFACT, bundles, policy: POLICY, ...endpoints() },
        identity: job(m2, '.github/workflows/deploy.yml', undefined, { environment: 'production' }),
        oidc: issuer,
        workspace,
      }),
      // From today's sources, in process (the built CLI is what was last built).
      twokey('verify', join(workspace, ARTIFACT), '--policy', join(workspace, POLICY), '--bundle', bundles, '--json'),
    ]);
    expect(gate.exitCode, gate.log).not.toBe(0);
    expect(gate.outputs.verified).not.toBe('true');
    expect(gate.log).toContain('reviewed-history');
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stdout).toContain('reviewed-history');
    const report = readDeployReport(cli.stdout, 'twokey verify --json');
    expect(report.verdict).toBe('fail');
    expect(cli.stdout).toContain('records no walk of the branch');
    const gateReport = readDeployReport(readFileSync(gate.outputs['report-path']!, 'utf8'), 'gate');
    expect(gateReport.verdict).toBe('fail');
  }, 180_000);
});
