// M1's denominator was the passed deploy runs. Row 153/157 stopped re-run attempts of one run diluting a break-glass,
// but a fresh run of the deploy workflow (workflow_dispatch, "Run workflow" again) over a reviewed artifact already
// deployed was one more passed deploy: a developer who shipped unreviewed hotfixes under break-glasses dispatched the
// deploy workflow N more times for last week's reviewed release, each run's genuine gate signing its deploy approval
// and a PASSED record at the two-person level, and M1 fell under max-unapproved-rate with no finding and no reuse.
// A passed run now counts only when it ships an artifact (repository, environment, sha256) no earlier passed run
// shipped to that environment (before the window too); the others are `redeploys`, listed, not counted. An unapproved
// run counts whatever it ships. The redeploys are the history's genuine record and approval, re-issued for new runs.
import {
  computeSodReport,
  DECISION_EXTENSION,
  deploymentsFromGitHub,
  EvidenceLedger,
  parsePolicy,
  type SodReport,
  type VerifiedBundle,
} from '@twokey/core';
import { orgHistoryDeployments, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { renderSodReportHtml } from '../../packages/cli/src/report-html';
import { bundlesOf, resign, sodSchemaProblems } from './sod-truth';

const history = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);
const THRESHOLDS = 'report:\n  max-unapproved-rate: 0.05\n  max-approval-reuse: 3\n  max-audit-gaps: 1\n';

function report(bundles: readonly VerifiedBundle[], since?: Date): SodReport {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', THRESHOLDS), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  const sod = computeSodReport({
    policy,
    ledger,
    deployments: {
      source: 'deployments.json',
      records: deploymentsFromGitHub(JSON.parse(JSON.stringify(orgHistoryDeployments(history))), 'deployments.json'),
    },
    ...(since && { since }),
    generatedAt: new Date('2026-12-01T00:00:00Z'),
  });
  expect(sodSchemaProblems(sod)).toEqual([]);
  return sod;
}

const reviewed = history.deploys.find(
  (x) => x.result === 'PASSED' && x.pullRequest !== undefined && 'own' in x.approval,
)!;
const glassed = history.deploys.find((d) => d.breakGlass !== undefined && d.result === 'PASSED')!;

/**
 * N fresh deploy runs (new run ids, attempt 1) of one deploy already made, `hours` apart after it: each run's gate
 * signs its deploy approval and its record, as the genuine deploy identity does for a dispatch of the workflow.
 */
function redeploys(
  n: number,
  of = reviewed,
  firstRun = 990_000_000,
  spelt?: (environment: string, i: number) => string,
): VerifiedBundle[] {
  const record = honest.find((b) => b.source === `${of.repository}/decisions.jsonl#${of.runId}`)!;
  const approval = honest.find((b) => b.source === `${of.repository}/deploy-approvals/${of.runId}.sigstore.json`);
  const out: VerifiedBundle[] = [];
  for (let i = 1; i <= n; i += 1) {
    const runId = firstRun + i;
    const uri = `https://github.com/${of.repository}/actions/runs/${runId}/attempts/1`;
    const later = (t: string) => new Date(Date.parse(t) + i * 60 * 60_000).toISOString();
    const a =
      approval &&
      resign(approval, `redeploy/${runId}.approval.json`, uri, (s) => {
        s.predicate.run = { ...s.predicate.run, id: runId, attempt: 1, uri };
        if (spelt) s.predicate.environment = spelt(s.predicate.environment, i);
        if (s.predicate.requestedAt) s.predicate.requestedAt = later(s.predicate.requestedAt);
        s.predicate.readAt = later(s.predicate.readAt);
      });
    const r = resign(record, `redeploy/${runId}.record.json`, uri, (s) => {
      s.predicate.timeVerified = later(s.predicate.timeVerified);
      if (spelt) {
        const extension = s.predicate[DECISION_EXTENSION];
        extension.environment = spelt(extension.environment, i);
      }
      if (a) {
        s.predicate.inputAttestations = [
          s.predicate.inputAttestations[0],
          { uri: `file:///runner/work/approval-${runId}.json`, digest: { sha256: a.sha256 } },
        ];
      }
    });
    out.push(...(a ? [a] : []), r);
  }
  return out;
}

const rate = (r: SodReport) => r.thresholds.find((t) => t.key === 'max-unapproved-rate')!;

describe('fresh deploy runs of one already deployed, reviewed release', () => {
  it('do not dilute the break-glass deploys: M1 and max-unapproved-rate are as without them', () => {
    const before = report(honest);
    expect(rate(before).verdict).toBe('fail');
    const { unapproved, passed } = before.indicators.M1;
    // Enough to bring the rate under max-unapproved-rate, were they counted.
    const needed = Math.ceil(unapproved / 0.05) - passed;
    const after = report([...honest, ...redeploys(needed)]);
    expect(after.indicators.M1.passed).toBe(passed);
    expect(after.indicators.M1.unapproved).toBe(unapproved);
    expect(after.indicators.M1.rate).toBe(before.indicators.M1.rate);
    expect(rate(after).verdict).toBe('fail');
    expect(after.verdict).toBe('fail');
    // Nothing hidden: each is a redeploy, listed with its record, and the threshold line says so.
    expect(after.indicators.M1.redeploys).toBe((before.indicators.M1.redeploys ?? 0) + needed);
    for (let i = 1; i <= needed; i += 1) {
      const run = `https://github.com/${reviewed.repository}/actions/runs/${990_000_000 + i}/attempts/1`;
      const listed = after.indicators.M1.redeployed!.find((d) => d.run === run)!;
      expect(listed.record.source).toBe(`redeploy/${990_000_000 + i}.record.json`);
      expect(listed.artifacts).toEqual([reviewed.artifact.sha256]);
    }
    expect(rate(after).reason).toMatch(new RegExp(`\\(${after.indicators.M1.redeploys} reviewed redeploys`));
    expect(renderSodReportHtml(after)).toContain('Reviewed redeploys of artifacts already shipped');
  });

  it('do not dilute it when the first deploy of the artifact is before the window', () => {
    const since = new Date(Date.parse(reviewed.at) + 30 * 60_000);
    const before = report(honest, since);
    const after = report([...honest, ...redeploys(200)], since);
    expect(after.indicators.M1.passed).toBe(before.indicators.M1.passed);
    expect(after.indicators.M1.rate).toBe(before.indicators.M1.rate);
    expect(after.indicators.M1.redeploys).toBe((before.indicators.M1.redeploys ?? 0) + 200);
  });

  it('do not dilute it from the same environment spelt in other cases (GitHub takes PRODUCTION for production)', () => {
    // The caller's workflow spells the environment (`environment: ${{ inputs.environment }}`), GitHub runs each in the
    // one environment under its one set of rules, and the record carries the spelling: PRODUCTION, Production, …
    const otherCase = (environment: string, i: number) =>
      [...environment].map((c, k) => ((i >> k) & 1 ? c.toUpperCase() : c.toLowerCase())).join('');
    const before = report(honest);
    const needed = Math.ceil(before.indicators.M1.unapproved / 0.05) - before.indicators.M1.passed;
    const after = report([...honest, ...redeploys(needed, reviewed, 992_000_000, otherCase)]);
    expect(after.indicators.M1.passed).toBe(before.indicators.M1.passed);
    expect(after.indicators.M1.redeploys).toBe((before.indicators.M1.redeploys ?? 0) + needed);
    expect(rate(after).verdict).toBe('fail');
  });

  it('an unapproved redeploy (under a break-glass) still counts, in both the unapproved and the passed deploys', () => {
    const before = report(honest);
    const after = report([...honest, ...redeploys(3, glassed, 991_000_000)]);
    expect(after.indicators.M1.unapproved).toBe(before.indicators.M1.unapproved + 3);
    expect(after.indicators.M1.passed).toBe(before.indicators.M1.passed + 3);
    expect(after.indicators.M1.redeploys).toBe(before.indicators.M1.redeploys);
  });
});
