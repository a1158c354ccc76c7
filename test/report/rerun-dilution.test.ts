// Re-running the gate job of one passed, reviewed deploy run (GitHub's "Re-run jobs": attempt 2, 3, …) makes the
// genuine deploy identity sign one more PASSED record per attempt. Counted as records, each was another passed deploy
// in M1 (and another success in M10), diluting a break-glass below max-unapproved-rate. A deploy is counted once per
// run and environment. The attempts are the history's genuine record and approval re-issued for later attempts.
import {
  computeSodReport,
  deploymentsFromGitHub,
  EvidenceLedger,
  parsePolicy,
  type SodReport,
  type VerifiedBundle,
} from '@twokey/core';
import { orgHistoryDeployments, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf, resign } from './sod-truth';

const history = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);
const THRESHOLDS = 'report:\n  max-unapproved-rate: 0.05\n  max-approval-reuse: 3\n  max-audit-gaps: 1\n';

function report(bundles: readonly VerifiedBundle[]): SodReport {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', THRESHOLDS), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  return computeSodReport({
    policy,
    ledger,
    deployments: {
      source: 'deployments.json',
      records: deploymentsFromGitHub(JSON.parse(JSON.stringify(orgHistoryDeployments(history))), 'deployments.json'),
    },
    generatedAt: new Date('2026-12-01T00:00:00Z'),
  });
}

/**
 * Attempts 2…n+1 of one passed deploy run: each attempt's gate signs its deploy approval and its PASSED record, for
 * the run's environment, or for an environment named anew on each attempt (`prod-${{ github.run_attempt }}`), or for
 * none (the deploy workflow called with `environment: ''`).
 */
function reRuns(
  n: number,
  environment: (attempt: number) => string | undefined = () => 'production',
): VerifiedBundle[] {
  const d = history.deploys.find((x) => x.result === 'PASSED' && x.pullRequest !== undefined && 'own' in x.approval)!;
  const record = honest.find((b) => b.source === `${d.repository}/decisions.jsonl#${d.runId}`)!;
  const approval = honest.find((b) => b.source === `${d.repository}/deploy-approvals/${d.runId}.sigstore.json`)!;
  const out: VerifiedBundle[] = [];
  for (let attempt = 2; attempt <= n + 1; attempt += 1) {
    const uri = `https://github.com/${d.repository}/actions/runs/${d.runId}/attempts/${attempt}`;
    const later = (t: string) => new Date(Date.parse(t) + attempt * 15 * 60_000).toISOString();
    const a = resign(approval, `rerun/${d.runId}-${attempt}.approval.json`, uri, (s) => {
      s.predicate.run = { ...s.predicate.run, attempt, uri };
      s.predicate.readAt = later(s.predicate.readAt);
    });
    const r = resign(record, `rerun/${d.runId}-${attempt}.record.json`, uri, (s) => {
      s.predicate.timeVerified = later(s.predicate.timeVerified);
      const named = environment(attempt);
      if (named === undefined) delete s.predicate['https://twokey.dev/decision/v1'].environment;
      else s.predicate['https://twokey.dev/decision/v1'].environment = named;
      s.predicate.inputAttestations = [
        s.predicate.inputAttestations[0],
        { uri: `file:///runner/work/approval-${attempt}.json`, digest: { sha256: a.sha256 } },
      ];
    });
    out.push(a, r);
  }
  return out;
}

describe('re-run attempts of one deploy run', () => {
  it('count as one passed deploy in M1 and one in M10: 50 re-runs do not dilute the break-glasses', () => {
    const before = report(honest);
    const after = report([...honest, ...reRuns(50)]);
    expect(before.verdict).toBe('fail');
    expect(after.indicators.M1.passed).toBe(before.indicators.M1.passed);
    expect(after.indicators.M1.unapproved).toBe(before.indicators.M1.unapproved);
    expect(after.indicators.M1.rate).toBe(before.indicators.M1.rate);
    expect(after.indicators.M10.matched).toBe(before.indicators.M10.matched);
    expect(after.verdict).toBe('fail');
  });

  it('count once however each attempt names its environment: anew each time, or none', () => {
    const before = report(honest);
    for (const environment of [(attempt: number) => `prod-${attempt}`, () => undefined]) {
      const after = report([...honest, ...reRuns(50, environment)]);
      expect(after.indicators.M1.passed).toBe(before.indicators.M1.passed);
      expect(after.indicators.M1.rate).toBe(before.indicators.M1.rate);
      expect(after.verdict).toBe('fail');
    }
  });
});

// The deploy run is M1's unit. A run whose break-glass deploy is followed by a reviewed PASSED record (another gate
// job of the run) is still one unapproved deploy, listed with its break-glass and the break-glassed artifact.
describe('a run with a break-glass deploy and a reviewed one', () => {
  it('is one unapproved deploy, listed with its break-glass and every artifact of the run', () => {
    const glass = history.deploys.find((d) => d.breakGlass === 0)!;
    const runUri = `https://github.com/${glass.repository}/actions/runs/${glass.runId}/attempts/1`;
    const reviewed = history.deploys.find(
      (d) =>
        d.repository === glass.repository &&
        d.result === 'PASSED' &&
        d.pullRequest !== undefined &&
        'own' in d.approval,
    )!;
    const record = honest.find((b) => b.source === `${reviewed.repository}/decisions.jsonl#${reviewed.runId}`)!;
    const later = resign(record, `later/${glass.runId}.json`, runUri, (s) => {
      s.predicate.timeVerified = new Date(Date.parse(glass.at) + 10 * 60_000).toISOString();
    });
    const before = report(honest);
    const after = report([...honest, later]);
    expect(after.indicators.M1.unapproved).toBe(before.indicators.M1.unapproved);
    const entry = after.indicators.M1.unapprovedDeploys.find((u) => u.run === runUri)!;
    expect(entry.breakGlass.length).toBeGreaterThan(0);
    expect(entry.artifacts).toEqual(expect.arrayContaining([glass.artifact.sha256, reviewed.artifact.sha256]));
  });
});
