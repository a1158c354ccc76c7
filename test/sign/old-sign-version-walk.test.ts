// The deploy gate took a review attestation's recorded walk (`history`: each arrival's verdict) as judged under its
// own rules, but it was judged under the sign run's. The platform upgrades sign v1 → v2 (docs/policy.example.yml:
// "add the new version beside the old one"): v2's org policy asks two approvals and lists v1's SAN too; v1's own org
// policy (at v1's commit) asks one; both have reviewed-history on, with the same history-since.
// 1. alice merges M_L (her backdoor) with bob's single approval (GitHub asks one): v2 refuses it.
// 2. carol's harmless H on top, approved by bob and dave, merges: v2's walk judges M_L and refuses H (the control).
// 3. alice's branch carries a workflow calling sign.yml@v1 (row 81: any caller) on main's genuine provenance of H:
//    v1's walk judges M_L under v1's rules (one approval), passes, and signs H with a passing `history`.
// 4. The deploy gate and `twokey verify` under v2's policy re-judged H's own review (two approvals: pass) and took the
//    walk's verdicts as recorded: H, with M_L inside, deployed. A walk judged under looser rules is now refused.
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
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../packages/cli/src/cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const SIGN_ACTION = join(repoRoot, 'actions', 'sign');
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_WORKFLOW = 'acme/platform/.github/workflows/build.yml@refs/heads/main';
const ARTIFACT = 'dist/app.tar.gz';
const MAIN = 'refs/heads/main';
const SIGN_V1 = 'acme/platform/.github/workflows/sign.yml@refs/tags/v1';
const SIGN_V2 = 'acme/platform/.github/workflows/sign.yml@refs/tags/v2';
const NEW_POLICY = 'org-policy-v2.yml';
const OLD_POLICY = 'org-policy-v1.yml';

let issuer: OidcIssuer;
let stack: SigstoreStack;
let root: string;
let workspace: string;
let github: GitHubFake;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
const alice = aUser('alice');
const bob = aUser('bob');
const carol = aUser('carol');
const dave = aUser('dave');

function merge(repo: FakeRepository, author: typeof alice, approvers: (typeof alice)[], title: string, minute: number) {
  const at = (s: number) => new Date(Date.parse('2026-03-02T00:00:00Z') + (minute * 60 + s) * 1000).toISOString();
  const tip = repo.branches.main!;
  const change = aCommit({ author, message: title, date: at(0).replace('.000', '') });
  change.parents = [tip];
  const pr = aPullRequest({ author, commits: [change], title });
  pr.base.sha = tip;
  for (const a of approvers) pr.reviews.push(aReview({ by: a, on: change.sha, state: 'APPROVED', at: at(40) }));
  return mergePullRequest(repo, pr, { method: 'squash', by: author, at: at(55) });
}

async function build(commit: string): Promise<ActionRun> {
  const built = await runAction(BUILD_ACTION, {
    with: { 'subject-path': ARTIFACT, ...endpoints() },
    identity: identity('acme/app', '.github/workflows/release.yml', MAIN, commit, { job_workflow_ref: BUILD_WORKFLOW }),
    oidc: issuer,
    workspace,
  });
  expect(built.exitCode, built.log).toBe(0);
  return built;
}

function sign(provenance: string, sha: string, policy: string, workflow: string, ref: string) {
  return runAction(SIGN_ACTION, {
    with: {
      'subject-path': ARTIFACT,
      provenance,
      policy,
      'trusted-root': stack.trustedRootPath,
      'store-attestations': 'true',
      ...endpoints(),
    },
    identity: identity('acme/app', '.github/workflows/release.yml', ref, sha, { job_workflow_ref: workflow }),
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_sign_job_token',
    workspace,
  });
}

async function twokey(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const status = await run(argv, {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
  } as never);
  return { status, ...out };
}

const orgPolicy = (san: string, minApprovals: number) => `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san: https://github.com/${BUILD_WORKFLOW}
  sign:
    issuer: ${ISSUER}
    san: ${san}
review:
  min-approvals: ${minApprovals}
  reviewed-history: true
  history-since: 2026-03-01
deploy:
  max-age: 1d
  trusted-root: ${stack.trustedRootPath}
`;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  root = mkdtempSync(join(tmpdir(), 'scratch-gate-old-walk-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'dist'), { recursive: true });
  writeFileSync(join(workspace, ARTIFACT), `app (H's tree: M_L's backdoor inside) ${'x'.repeat(2048)}\n`);
  writeFileSync(
    join(workspace, NEW_POLICY),
    orgPolicy(`[https://github.com/${SIGN_V1}, https://github.com/${SIGN_V2}]`, 2),
  );
  writeFileSync(join(workspace, OLD_POLICY), orgPolicy(`https://github.com/${SIGN_V1}`, 1));
}, 120_000);

afterAll(async () => {
  await Promise.all([github?.close(), stack?.close(), issuer?.close()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('review.reviewed-history at the gate: a walk judged under a listed old sign version’s looser rules', () => {
  it('H (M_L inside, which v2 refuses), signed by sign v1 from alice’s branch, is refused by the gate and twokey verify under v2', async () => {
    const repo = aRepository('acme/app', {
      collaborators: { alice: 'write', bob: 'write', carol: 'write', dave: 'write' },
    });
    pushCommit(repo, aCommit({ author: alice, message: 'Before twokey', date: '2026-02-01T00:00:00Z' }), 'main', {
      by: alice,
    });
    const mL = merge(repo, alice, [bob], 'Tidy (backdoor)', 1); // one approval of the two v2 asks
    const h = merge(repo, carol, [bob, dave], 'Bump the changelog date', 5); // two approvals
    github = await startGitHubFake(aGitHubState(repo));

    const provenanceH = (await build(h)).outputs['bundle-path']!;
    // Control: main's release with sign v2 refuses H, naming M_L's merge.
    const v2 = await sign(provenanceH, h, NEW_POLICY, SIGN_V2, MAIN);
    expect(v2.exitCode, v2.log).not.toBe(0);
    expect(v2.log).toContain(`pr_merge of ${mL.slice(0, 12)}`);

    // The attack: sign v1 (still listed) called from alice's branch on main's genuine provenance of H.
    const v1 = await sign(provenanceH, 'e'.repeat(40), OLD_POLICY, SIGN_V1, 'refs/heads/alice-tools');
    expect(v1.exitCode, v1.log).toBe(0);
    const bundles = mkdtempSync(join(root, 'bundles-'));
    copyFileSync(provenanceH, join(bundles, 'provenance.sigstore.json'));
    for (const [i, p] of v1.outputs['bundle-paths']!.split('\n').entries()) {
      copyFileSync(p, join(bundles, `sign-${i}.sigstore.json`));
    }
    // The walk it recorded passed M_L (judged under v1's one approval).
    const reviewBundle = v1.outputs['bundle-paths']!.split('\n').find((p) => p.includes('review-'))!;
    const envelope = JSON.parse(readFileSync(reviewBundle, 'utf8')).dsseEnvelope;
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(statement.predicate.history.verdict).toBe('pass');
    expect(statement.predicate.history.arrivals.map((a: { commit: string }) => a.commit)).toContain(mL);

    const [gate, cli] = await Promise.all([
      runAction(repoRoot, {
        with: { 'subject-path': ARTIFACT, bundles, policy: NEW_POLICY, ...endpoints() },
        identity: identity('acme/app', '.github/workflows/deploy.yml', MAIN, h, { environment: 'production' }),
        oidc: issuer,
        workspace,
      }),
      twokey(
        'verify',
        join(workspace, ARTIFACT),
        '--policy',
        join(workspace, NEW_POLICY),
        '--bundle',
        bundles,
        '--repo',
        'acme/app',
        '--json',
      ),
    ]);
    // v2's rules refuse M_L: H, with M_L inside, is refused by both, for the walk judged under other rules.
    expect(gate.exitCode, gate.log).not.toBe(0);
    expect(gate.outputs.verified).not.toBe('true');
    expect(gate.log).toContain(
      "arrivals were judged under looser review rules than the policy's (min-approvals 1, fewer than the policy's 2)",
    );
    expect(cli.status, cli.stdout + cli.stderr).toBe(1);
    const report = readDeployReport(cli.stdout, 'twokey verify --json');
    expect(report.verdict).toBe('fail');
    expect(JSON.stringify(report.artifacts[0]!.checks)).toContain('arrivals were judged under looser review rules');
  }, 600_000);
});
