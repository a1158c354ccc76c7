// M7 (the report's reuse of approvals) for a break-glass: one break-glass run, two legs, each leg signing its own
// byte-different copy; deploy run D1 ships leg 1's copy, D2 (another run) leg 2's — the gate refuses D2 (once per
// environment, whichever subject: row 225), but two runs racing past the gate before either stored its record would
// ship both. M7 counted reuse per artifact (row 203), so it reported nothing there; it now counts, as the gate does,
// one use per break-glass run and environment (without case), whatever each run shipped.
import { computeSodReport, type DecisionFact, EvidenceLedger, parsePolicy } from '@twokey/core';
import { orgHistoryPolicy } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';

const RUN = 'https://github.com/acme/app/actions/runs/9761';

function decision(n: number, breakGlassId: string, artifact: string, environment: string): DecisionFact {
  return {
    evidence: { source: `acme/app/decisions/${n}.sigstore.json`, sha256: String(n).repeat(64).slice(0, 64) },
    result: 'PASSED',
    at: `2026-11-0${n}T10:00:00.000Z`,
    repository: 'acme/app',
    environment,
    run: `https://github.com/acme/app/actions/runs/${700 + n}/attempts/1`,
    runId: String(700 + n),
    artifacts: [artifact],
    breakGlass: [{ id: breakGlassId, run: RUN, artifacts: [artifact] }],
    unapproved: true,
    failedChecks: [],
    inputs: [],
  };
}

function m7(decisions: DecisionFact[]) {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', ''), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy);
  ledger.decisions.push(...decisions);
  return computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') }).indicators.M7;
}

describe('M7: a break-glass run used by two deploy runs in one environment', () => {
  const A = 'a'.repeat(64);
  const B = 'd'.repeat(64);
  it('reports the same copy reused, the environment spelt in another case', () => {
    const found = m7([decision(1, 'b'.repeat(64), A, 'production'), decision(2, 'c'.repeat(64), A, 'Production')]);
    expect(found.breakGlasses).toHaveLength(1);
    expect(found.breakGlasses[0]).toMatchObject({ artifact: A, environment: 'production' });
  });
  it("reports the two legs' different copies shipped by two deploy runs, in either case", () => {
    for (const second of ['production', 'Production']) {
      const found = m7([decision(1, 'b'.repeat(64), A, 'production'), decision(2, 'c'.repeat(64), B, second)]);
      expect(found.breakGlasses).toHaveLength(1);
      expect(found.breakGlasses[0]!.artifact).toBe(`${A}, ${B}`);
      expect(found.breakGlasses[0]!.records.map((r) => r.source)).toEqual([
        'acme/app/decisions/1.sigstore.json',
        'acme/app/decisions/2.sigstore.json',
      ]);
    }
  });
  it('reports nothing for one deploy run shipping both copies (a matrix of its jobs), nor for another environment', () => {
    const sameRun = { ...decision(2, 'c'.repeat(64), B, 'production'), runId: '701' };
    expect(m7([decision(1, 'b'.repeat(64), A, 'production'), sameRun]).breakGlasses).toEqual([]);
    expect(
      m7([decision(1, 'b'.repeat(64), A, 'production'), decision(2, 'c'.repeat(64), B, 'staging')]).breakGlasses,
    ).toEqual([]);
  });
});

describe('M7: a deploy approval its own run used in its own environment, spelt in another case', () => {
  it('is no reuse: GitHub names the environment `production` in the approval, the job `Production`', () => {
    const approvalDigest = 'e'.repeat(64);
    const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', ''), 'org-policy.yml');
    const ledger = new EvidenceLedger(policy);
    ledger.deployApprovals.push({
      evidence: { source: 'acme/app/deploy-approvals/701.sigstore.json', sha256: approvalDigest },
      repository: 'acme/app',
      environment: 'production',
      run: 'https://github.com/acme/app/actions/runs/701/attempts/1',
      runId: '701',
      readAt: '2026-11-01T09:59:00.000Z',
      approvers: ['carol'],
      artifacts: ['a'.repeat(64)],
    });
    const record = {
      ...decision(1, 'b'.repeat(64), 'a'.repeat(64), 'Production'),
      breakGlass: [],
      inputs: [approvalDigest],
    };
    ledger.decisions.push(record);
    const report = computeSodReport({ policy, ledger, generatedAt: new Date('2026-12-01T00:00:00Z') });
    expect(report.indicators.M7.deployApprovals).toEqual([]);
    // Another environment by name is still one.
    const other = new EvidenceLedger(policy);
    other.deployApprovals.push(...ledger.deployApprovals);
    other.decisions.push({ ...record, environment: 'staging' });
    const elsewhere = computeSodReport({ policy, ledger: other, generatedAt: new Date('2026-12-01T00:00:00Z') });
    expect(elsewhere.indicators.M7.deployApprovals).toHaveLength(1);
  });
});
