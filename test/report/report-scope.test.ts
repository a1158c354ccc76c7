// A segregation-of-duties report is about one owner. The policy's identities are shared reusable workflows that
// repositories of other owners may call as well (twokey's own, public), and whoever gathers the evidence could add
// another organisation's genuine records and reviews — its two-person passes — to bring the report's unapproved rate
// under the policy's threshold. With the owner named (`--repo`/`--owner`, the report action's own organisation), such
// evidence is an audit finding (M6) and moves nothing else. The foreign histories are the org-history generator's,
// owned by globex1…8, as bundlesOf() reads the honest one.
import { computeSodReport, EvidenceLedger, parsePolicy, type SodReport, type VerifiedBundle } from '@twokey/core';
import { orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf } from './sod-truth';

const acme = bundlesOf(planOrgHistory({ firstMonth: '2026-01', months: 3 }));
const foreign = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) =>
  bundlesOf(planOrgHistory({ firstMonth: '2026-01', months: 3, owner: `globex${n}`, idBase: n * 1_000_000 })),
);

function report(bundles: readonly VerifiedBundle[], thresholds: string, owner?: string): SodReport {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', thresholds), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, owner === undefined ? {} : { owner });
  for (const bundle of bundles) ledger.addVerified(bundle);
  return computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
}

/** The foreign organisations' two-person PASSED records and the bundles each rests on: what pads the rate down. */
function foreignPasses(): VerifiedBundle[] {
  const records = foreign.filter((b) => {
    const text = JSON.stringify(b.statement);
    return text.includes('TWOKEY_TWO_PERSON_RULE_LEVEL_1') && text.includes('"PASSED"');
  });
  const inputs = new Set(
    records.flatMap((b) =>
      (
        b.statement as { predicate: { inputAttestations: { digest: { sha256: string } }[] } }
      ).predicate.inputAttestations.map((a) => a.digest.sha256),
    ),
  );
  return [...records, ...foreign.filter((b) => b.sha256 !== undefined && inputs.has(b.sha256))];
}

describe('a report is about one owner', () => {
  const rate = report(acme, '').indicators.M1.rate!;
  // A threshold acme's own history fails.
  const thresholds = `report:\n  max-unapproved-rate: ${(rate / 2).toFixed(4)}\n`;
  const padding = foreignPasses();

  it('without an owner, another organisation’s genuine passes count (each repository named): the padding works', () => {
    const baseline = report(acme, thresholds);
    const padded = report([...acme, ...padding], thresholds);
    expect(baseline.verdict).toBe('fail');
    expect(padded.indicators.M1.rate!).toBeLessThan(rate / 2);
    expect(padded.verdict).toBe('pass');
    expect(padded.indicators.M1.byRepository.map((r) => r.repository)).toContain('globex1/web');
  });

  it('with the owner named, each foreign bundle is an audit finding, and no other indicator moves', () => {
    const baseline = report(acme, thresholds, 'acme');
    const padded = report([...acme, ...padding], thresholds, 'ACME');
    expect(baseline.verdict).toBe('fail');
    expect(padded.verdict).toBe('fail');
    const { M6: _b, ...before } = baseline.indicators;
    const { M6: _p, ...after } = padded.indicators;
    expect(after).toEqual(before);
    expect(padded.indicators.M6.findings).toBe(baseline.indicators.M6.findings + padding.length);
    const finding = padded.indicators.M6.items.find((f) => f.evidence.source === padding[0]!.source)!;
    expect(finding.kind).toBe('not-the-policy-identity');
    expect(finding.reason).toMatch(/^globex\d\/[\w-]+ is not a repository of acme, whose report this is$/);
  });
});
