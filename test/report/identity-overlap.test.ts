// Row 221 in `twokey report`: under identity patterns that overlap (a deploy san-pattern any workflow of the platform
// repository matches, beside the build and sign patterns; the policy's load does not tell two patterns apart), the
// build job, which runs the repository's own code, signs PASSED two-person decision records and deploy approvals for
// new digests. The gate and `twokey verify` refuse such a signer (candidates.ts, otherRoleOf); the report took the
// first identity that matched — deploy — and counted them: passed deploys (M1) padded past max-unapproved-rate, and no
// audit finding. A signer that is several of the policy's identities is now an audit finding, never counted.
import {
  computeSodReport,
  EvidenceLedger,
  matchIdentity,
  parsePolicy,
  type SodReport,
  type VerifiedBundle,
} from '@twokey/core';
import { ORG_HISTORY_WORKFLOWS, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf, resign } from './sod-truth';

const history = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);
const ISSUER = 'https://token.actions.githubusercontent.com';
const P = 'https://github\\.com/acme/platform/\\.github/workflows';
// Every identity a pattern (so the policy's load accepts them), deploy's matching any platform workflow at v1.0.0.
const overlapping = parsePolicy(
  [
    'version: 1',
    'identities:',
    `  build: { issuer: ${ISSUER}, san-pattern: '${P}/twokey-build\\.yml@refs/tags/v1\\.[0-9]+\\.[0-9]+' }`,
    `  sign: { issuer: ${ISSUER}, san-pattern: '${P}/twokey-sign\\.yml@refs/tags/v1\\.[0-9]+\\.[0-9]+' }`,
    `  deploy: { issuer: ${ISSUER}, san-pattern: '${P}/twokey-[a-z-]+\\.yml@refs/tags/v1\\.0\\.0' }`,
    `  break-glass: { issuer: ${ISSUER}, san-pattern: '${P}/twokey-break-glass\\.yml@refs/tags/v1\\.[0-9]+\\.[0-9]+' }`,
    'deploy:',
    '  trusted-root: "trusted_root.json"',
    '  approvals: { min: 1, require-prevent-self-review: true }',
    'report:\n  max-unapproved-rate: 0.05',
  ].join('\n'),
  'org-policy.yml',
);
const BUILD_SAN = `https://github.com/${ORG_HISTORY_WORKFLOWS.build}`;

function report(bundles: readonly VerifiedBundle[], policy = overlapping): SodReport {
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  return computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
}
const rate = (r: SodReport) => r.thresholds.find((t) => t.key === 'max-unapproved-rate')!;

const reviewed = history.deploys.find(
  (x) => x.result === 'PASSED' && x.pullRequest !== undefined && 'own' in x.approval,
)!;

/** What a build job of acme/app signs with its own token: a PASSED record (and approval) of a "deploy" of new bytes. */
function forged(n: number): VerifiedBundle[] {
  const record = honest.find((b) => b.source === `${reviewed.repository}/decisions.jsonl#${reviewed.runId}`)!;
  const approval = honest.find(
    (b) => b.source === `${reviewed.repository}/deploy-approvals/${reviewed.runId}.sigstore.json`,
  )!;
  const out: VerifiedBundle[] = [];
  for (let i = 1; i <= n; i += 1) {
    const runId = 770_000_000 + i;
    const uri = `https://github.com/${reviewed.repository}/actions/runs/${runId}/attempts/1`;
    const fresh = i.toString(16).padStart(64, 'a');
    const byBuild = (b: VerifiedBundle): VerifiedBundle => ({ ...b, signer: { ...b.signer, san: BUILD_SAN } });
    const a = resign(approval, `forged/${runId}.approval.json`, uri, (s) => {
      s.predicate.run = { ...s.predicate.run, id: runId, attempt: 1, uri };
      s.subject = s.subject.map((x: { name: string }) => ({ ...x, digest: { sha256: fresh } }));
    });
    const r = resign(record, `forged/${runId}.record.json`, uri, (s) => {
      s.subject = s.subject.map((x: { name: string }) => ({ ...x, digest: { sha256: fresh } }));
    });
    out.push(byBuild(a), byBuild(r));
  }
  return out;
}

describe('report under overlapping identity patterns', () => {
  it('does not count decision records and deploy approvals the build job signed, which also match the deploy pattern', () => {
    const forgedOnes = forged(50);
    // The signer is the build identity, and the deploy pattern matches it too.
    expect(matchIdentity(forgedOnes[1]!.signer, overlapping.identities.build).ok).toBe(true);
    expect(matchIdentity(forgedOnes[1]!.signer, overlapping.identities.deploy!).ok).toBe(true);
    const before = report(honest);
    expect(rate(before).verdict).toBe('fail');
    const after = report([...honest, ...forgedOnes]);
    // Not one passed deploy more: max-unapproved-rate still fails, and each forged bundle is an audit finding.
    expect(after.indicators.M1.passed).toBe(before.indicators.M1.passed);
    expect(rate(after).verdict).toBe('fail');
    expect(after.indicators.M6.findings).toBe(before.indicators.M6.findings + forgedOnes.length);
    const findings = after.indicators.M6.items.filter((f) => f.evidence.source.startsWith('forged/'));
    expect(findings).toHaveLength(forgedOnes.length);
    for (const f of findings) {
      expect(f.kind).toBe('not-the-policy-identity');
      expect(f.reason).toContain("which is several of the policy's identities (deploy, build); they must differ");
    }
  });

  it('(control) the same forged bundles move nothing under the policy without the overlap', () => {
    const plain = parsePolicy(
      orgHistoryPolicy('trusted_root.json', 'report:\n  max-unapproved-rate: 0.05'),
      'org-policy.yml',
    );
    const before = report(honest, plain);
    const after = report([...honest, ...forged(50)], plain);
    expect(after.indicators.M1.passed).toBe(before.indicators.M1.passed);
    expect(rate(after).verdict).toBe('fail');
  });
});
