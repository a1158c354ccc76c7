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
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { identity, runAction } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT,
  alice,
  anAppRepository,
  bob,
  carol,
  dave,
  ISSUER,
  MAIN,
  merge,
  REPO_ROOT,
  reviewBundleOf,
  useWalkStack,
} from './walk-harness';

const BUILD_WORKFLOW = 'acme/platform/.github/workflows/build.yml@refs/heads/main';
const SIGN_V1 = 'acme/platform/.github/workflows/sign.yml@refs/tags/v1';
const SIGN_V2 = 'acme/platform/.github/workflows/sign.yml@refs/tags/v2';
const NEW_POLICY = 'org-policy-v2.yml';
const OLD_POLICY = 'org-policy-v1.yml';

const orgPolicy = (san: string, minApprovals: number, trustedRoot: string) => `version: 1
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
  trusted-root: ${trustedRoot}
`;

const harness = useWalkStack('old-sign-version-walk', ({ workspace, stack }) => {
  writeFileSync(join(harness.workspace, ARTIFACT), `app (H's tree: M_L's backdoor inside) ${'x'.repeat(2048)}\n`);
  writeFileSync(
    join(harness.workspace, NEW_POLICY),
    orgPolicy(`[https://github.com/${SIGN_V1}, https://github.com/${SIGN_V2}]`, 2, stack.trustedRootPath),
  );
  writeFileSync(join(workspace, OLD_POLICY), orgPolicy(`https://github.com/${SIGN_V1}`, 1, stack.trustedRootPath));
});

const sign = (provenance: string, sha: string, policy: string, workflow: string, ref: string) =>
  harness.sign({ provenance, sha, policy, workflow, ref, store: true });

describe('review.reviewed-history at the gate: a walk judged under a listed old sign version’s looser rules', () => {
  it('H (M_L inside, which v2 refuses), signed by sign v1 from alice’s branch, is refused by the gate and twokey verify under v2', async () => {
    const repo = anAppRepository();
    const mL = merge(repo, alice, [bob], 'Tidy (backdoor)', 1); // one approval of the two v2 asks
    const h = merge(repo, carol, [bob, dave], 'Bump the changelog date', 5); // two approvals
    await harness.serve(repo);

    const provenanceH = (await harness.build(h, BUILD_WORKFLOW)).outputs['bundle-path']!;
    // Control: main's release with sign v2 refuses H, naming M_L's merge.
    const v2 = await sign(provenanceH, h, NEW_POLICY, SIGN_V2, MAIN);
    expect(v2.exitCode, v2.log).not.toBe(0);
    expect(v2.log).toContain(`pr_merge of ${mL.slice(0, 12)}`);

    // The attack: sign v1 (still listed) called from alice's branch on main's genuine provenance of H.
    const v1 = await sign(provenanceH, 'e'.repeat(40), OLD_POLICY, SIGN_V1, 'refs/heads/alice-tools');
    expect(v1.exitCode, v1.log).toBe(0);
    const bundles = harness.bundlesOf(provenanceH, v1);
    // The walk it recorded passed M_L (judged under v1's one approval).
    const envelope = JSON.parse(readFileSync(reviewBundleOf(v1), 'utf8')).dsseEnvelope;
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(statement.predicate.history.verdict).toBe('pass');
    expect(statement.predicate.history.arrivals.map((a: { commit: string }) => a.commit)).toContain(mL);

    const [gate, cli] = await Promise.all([
      runAction(REPO_ROOT, {
        with: { 'subject-path': ARTIFACT, bundles, policy: NEW_POLICY, ...harness.endpoints() },
        identity: identity('acme/app', '.github/workflows/deploy.yml', MAIN, h, { environment: 'production' }),
        oidc: harness.issuer,
        workspace: harness.workspace,
      }),
      harness.twokey(
        'verify',
        join(harness.workspace, ARTIFACT),
        '--policy',
        join(harness.workspace, NEW_POLICY),
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
