// M7's deploy approval a decision record of another run rests on is found by the sha256 of the record's inputs. The
// ledger keeps the first copy of a signed event it reads; a copy in other bytes (`jq . approval.json > aaa/0.json`,
// the same signed event) read before the original made the original a duplicate whose digest led nowhere: the reuse
// was in neither M7 nor M6 (row 235). Every copy's digest now leads to the fact kept.
import { computeSodReport, EvidenceLedger, parsePolicy, type SodReport, type VerifiedBundle } from '@twokey/core';
import { type OrgHistory, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf } from '../report/sod-truth';

const history: OrgHistory = planOrgHistory({ firstMonth: '2026-01' });
const bundles = bundlesOf(history);

function report(list: readonly VerifiedBundle[]): SodReport {
  const policy = parsePolicy(
    orgHistoryPolicy('trusted_root.json', 'report:\n  max-approval-reuse: 0\n'),
    'org-policy.yml',
  );
  const ledger = new EvidenceLedger(policy);
  for (const bundle of list) ledger.addVerified(bundle);
  return computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
}

describe('a reused deploy approval, with a copy in other bytes read first', () => {
  it('is still found by M7, through the copy kept', () => {
    const honest = report(bundles);
    expect(honest.indicators.M7.deployApprovals).toHaveLength(1);
    const reusedSource = honest.indicators.M7.deployApprovals[0]!.approval.source;
    const original = bundles.find((b) => b.source === reusedSource)!;
    // The same signed event (same evidenceKey), other bytes: e.g. `jq . original.json > aaa/0.json`.
    const copy: VerifiedBundle = { ...original, source: 'aaa/0.json', sha256: 'f'.repeat(64) };
    const reordered = report([copy, ...bundles]);
    expect(reordered.evidence.duplicates).toBe(honest.evidence.duplicates + 1);
    expect(reordered.indicators.M7.deployApprovals).toHaveLength(1);
    expect(reordered.indicators.M7.deployApprovals[0]!.approval.source).toBe('aaa/0.json');
    expect(reordered.indicators.M7.reuses).toBe(honest.indicators.M7.reuses);
    const line = (r: SodReport) => r.thresholds.find((t) => t.key === 'max-approval-reuse')!;
    expect(line(honest).verdict).toBe('fail');
    expect(line(reordered).value).toBe(line(honest).value);
    expect(line(reordered).verdict).toBe('fail');
  });
});
