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

  it('say M10 and the deploy latency are not measured without the deployments, never zero', () => {
    const without = report({ withDeployments: false });
    expect(without.indicators.M10).toMatchObject({ status: 'not-measured', rate: null, matched: 0 });
    expect(without.indicators.M2.deploy).toMatchObject({ status: 'not-measured', count: 0 });
    expectTruth(without, orgHistoryTruth(history, {}, false));
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
