// M7 counts a break-glass used again per run too (threat-model row 177): two break-glasses one run signed (a matrix
// of jobs released by one approval), each used once by another deploy run for the same artifact and environment, are
// one break-glass used twice — as the deploy gate now refuses the second.
import { computeSodReport, type DecisionFact, EvidenceLedger, parsePolicy } from '@twokey/core';
import { orgHistoryPolicy } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';

const ARTIFACT = 'a'.repeat(64);
const RUN = 'https://github.com/actions/runs/9001';

function decision(n: number, breakGlassId: string, run: string | undefined): DecisionFact {
  return {
    evidence: { source: `acme/app/decisions/${n}.sigstore.json`, sha256: String(n).repeat(64).slice(0, 64) },
    result: 'PASSED',
    at: `2026-11-0${n}T10:00:00.000Z`,
    repository: 'acme/app',
    environment: 'production',
    run: `https://github.com/acme/app/actions/runs/${700 + n}/attempts/1`,
    runId: String(700 + n),
    artifacts: [ARTIFACT],
    breakGlass: [{ id: breakGlassId, ...(run !== undefined && { run }), artifacts: [ARTIFACT] }],
    unapproved: true,
    failedChecks: [],
    inputs: [],
  };
}

function reuses(decisions: DecisionFact[]) {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', ''), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy);
  ledger.decisions.push(...decisions);
  return computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') }).indicators.M7.breakGlasses;
}

describe('M7: a break-glass used again', () => {
  it('counts two break-glasses of one run, each used once, as one used twice', () => {
    const found = reuses([decision(1, 'b'.repeat(64), RUN), decision(2, 'c'.repeat(64), RUN)]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: 'b'.repeat(64), artifact: ARTIFACT, environment: 'production' });
    expect(found[0]!.records.map((r) => r.source)).toEqual([
      'acme/app/decisions/1.sigstore.json',
      'acme/app/decisions/2.sigstore.json',
    ]);
  });

  it('tells two runs’ break-glasses apart, and counts records that name no run by id', () => {
    expect(reuses([decision(1, 'b'.repeat(64), RUN), decision(2, 'c'.repeat(64), `${RUN}0`)])).toEqual([]);
    expect(reuses([decision(1, 'b'.repeat(64), undefined), decision(2, 'b'.repeat(64), undefined)])).toHaveLength(1);
  });
});
