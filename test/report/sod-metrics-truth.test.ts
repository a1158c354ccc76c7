// The indicators over a planned organisation's history (issue 18), read straight from its statements as verified
// bundles (no signing: the signed history is test/report/org-history.test.ts): every indicator equals its ground
// truth, in the whole history and in a window; the colluding pair and the reused approvals are named; the thresholds
// fail where the truth says they must.
import {
  computeSodReport,
  type DeploymentRecord,
  deploymentsFromGitHub,
  EvidenceLedger,
  parsePolicy,
  type SodReport,
} from '@twokey/core';
import {
  type OrgHistory,
  orgHistoryDeployments,
  orgHistoryPolicy,
  orgHistoryTruth,
  planOrgHistory,
} from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf, expectTruth } from './sod-truth';

const history: OrgHistory = planOrgHistory({ firstMonth: '2026-01' });

const bundles = bundlesOf(history);
const deployments: DeploymentRecord[] = deploymentsFromGitHub(
  JSON.parse(JSON.stringify(orgHistoryDeployments(history))),
  'deployments.json',
);

function report(
  options: { since?: Date; until?: Date; withDeployments?: boolean; thresholds?: string } = {},
): SodReport {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', options.thresholds ?? ''), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy);
  for (const bundle of bundles) ledger.addVerified(bundle);
  return computeSodReport({
    policy,
    ledger,
    ...(options.since && { since: options.since }),
    ...(options.until && { until: options.until }),
    ...(options.withDeployments !== false && { deployments: { source: 'deployments.json', records: deployments } }),
    generatedAt: new Date('2026-12-01T00:00:00Z'),
  });
}

function shifted(time: string, seconds: number): string {
  return new Date(Date.parse(time) + seconds * 1000).toISOString();
}

describe('the indicators over a planned history', () => {
  it('equal the ground truth over the whole history', () => {
    expectTruth(report(), orgHistoryTruth(history));
  });

  it('equal the ground truth in a window of one month', () => {
    const window = { since: new Date('2026-02-01T00:00:00Z'), until: new Date('2026-03-01T00:00:00Z') };
    const windowed = report(window);
    expectTruth(windowed, orgHistoryTruth(history, window));
    expect(windowed.months).toEqual(['2026-02']);
  });

  it('measure the deploy latency from the signed deploy approvals alone; M10 is not measured without deployments', () => {
    const without = report({ withDeployments: false });
    expect(without.indicators.M10).toMatchObject({ status: 'not-measured', rate: null, matched: 0 });
    expect(without.indicators.M2.deploy).toMatchObject({ status: 'measured', unmeasured: 0 });
    expect(without.indicators.M2.deploy.count).toBeGreaterThan(0);
    expect(new Set(without.indicators.M2.deploy.deploys.map((d) => d.requestedFrom))).toEqual(
      new Set(['deploy-approval']),
    );
    expectTruth(without, orgHistoryTruth(history, {}, false));
  });

  it('prefer the request time the deploy approval signed to what GitHub’s deployments say (unsigned)', () => {
    // GitHub's deployments, edited to say every deploy was requested a day earlier: the signed time still counts.
    const edited = deployments.map((d) => ({ ...d, createdAt: shifted(d.createdAt, -86_400) }));
    const policy = parsePolicy(orgHistoryPolicy('trusted_root.json'), 'org-policy.yml');
    const ledger = new EvidenceLedger(policy);
    for (const bundle of bundles) ledger.addVerified(bundle);
    const judged = computeSodReport({
      policy,
      ledger,
      deployments: { source: 'deployments.json', records: edited },
      generatedAt: new Date('2026-12-01T00:00:00Z'),
    });
    expect(judged.indicators.M2.deploy).toMatchObject(orgHistoryTruth(history).M2.deploy);
  });

  describe('over deploy approvals signed before they recorded when the deploy was requested', () => {
    const old = bundlesOf(history).map((b) => {
      const statement = b.statement as { predicateType: string; predicate: { requestedAt?: string } };
      if (statement.predicateType.endsWith('/deploy-approval/v1')) delete statement.predicate.requestedAt;
      return b;
    });
    const reportOf = (withDeployments: boolean) => {
      const policy = parsePolicy(orgHistoryPolicy('trusted_root.json'), 'org-policy.yml');
      const ledger = new EvidenceLedger(policy);
      for (const bundle of old) ledger.addVerified(bundle);
      return computeSodReport({
        policy,
        ledger,
        ...(withDeployments && { deployments: { source: 'deployments.json', records: deployments } }),
        generatedAt: new Date('2026-12-01T00:00:00Z'),
      });
    };

    it('measure the deploy latency from GitHub’s deployments, each row saying so', () => {
      const measured = reportOf(true);
      expectTruth(measured, orgHistoryTruth(history, {}, true, false));
      expect(new Set(measured.indicators.M2.deploy.deploys.map((d) => d.requestedFrom))).toEqual(
        new Set(['deployment']),
      );
    });

    it('say the deploy latency is not measured without them, never zero', () => {
      const without = reportOf(false);
      expect(without.indicators.M2.deploy).toMatchObject({
        status: 'not-measured',
        count: 0,
        reason: expect.stringContaining('requestedAt'),
      });
      expect(without.indicators.M2.deploy.unmeasured).toBeGreaterThan(0);
      expectTruth(without, orgHistoryTruth(history, {}, false, false));
    });
  });

  it('names the colluding pair, with the pull requests behind it', () => {
    const [suspect, ...others] = report().indicators.M9.suspectedCollusion;
    expect(others).toEqual([]);
    expect(suspect).toMatchObject({ a: 'mallory', b: 'trent', shareAB: 1, shareBA: 1 });
    expect(suspect!.pullRequests.every((url) => url.startsWith('https://github.com/acme/data/pull/'))).toBe(true);
  });

  it('names the reused approvals and the break-glass used twice, with the bundles', () => {
    const m7 = report().indicators.M7;
    expect(m7.reviewApprovals.map((r) => r.pullRequest)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^https:\/\/github\.com\/acme\/web\/pull\/\d+$/)]),
    );
    expect(m7.reviewApprovals.every((r) => r.evidence.length === 2 && r.evidence.every((e) => e.sha256))).toBe(true);
    expect(m7.deployApprovals).toHaveLength(1);
    expect(m7.deployApprovals[0]!.approval.source).toMatch(/^acme\/payments\/deploy-approvals\/\d+\.sigstore\.json$/);
    expect(m7.breakGlasses).toHaveLength(1);
  });

  it('fails the thresholds the history breaks, and passes the ones it keeps', () => {
    const judged = report({
      thresholds: [
        'report:',
        '  max-unapproved-rate: 0.001',
        '  max-break-glass-per-month: 2',
        '  max-top-approver-share: 0.8',
        '  max-audit-gaps: 1',
        '  min-deploy-success-rate: 0.5',
      ].join('\n'),
    });
    expect(judged.thresholds.map((t) => [t.key, t.verdict])).toEqual([
      ['max-unapproved-rate', 'fail'],
      ['max-audit-gaps', 'pass'],
      ['max-break-glass-per-month', 'pass'],
      ['max-top-approver-share', 'fail'],
      ['min-deploy-success-rate', 'pass'],
    ]);
    expect(judged.verdict).toBe('fail');
    expect(judged.thresholds.find((t) => t.key === 'max-top-approver-share')!.reason).toMatch(
      /trent for mallory|mallory for trent/,
    );
  });

  it('says a threshold on an indicator it could not measure is not evaluated, which fails', () => {
    const judged = report({ withDeployments: false, thresholds: 'report:\n  min-deploy-success-rate: 0.9\n' });
    expect(judged.thresholds).toEqual([
      expect.objectContaining({ key: 'min-deploy-success-rate', verdict: 'not-evaluated', value: null }),
    ]);
    expect(judged.verdict).toBe('fail');
  });
});
