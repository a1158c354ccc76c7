// PoC: row 152's defence (a break-glass deploy whose files were deleted is still seen through GitHub's deployment of
// its run, `deployment-without-record`) is undone by the same attacker with one unsigned API call: she posts a
// deployment status on her production deployment whose log_url names ANOTHER run (a reviewed production deploy).
// GitHub lists statuses newest first; deploymentsFromGitHub takes the run of the first status naming one, so her
// status wins and the deployment is joined to the other run's PASSED record: no finding, the report passes.
import { computeSodReport, deploymentsFromGitHub, EvidenceLedger, parsePolicy, type VerifiedBundle } from '@twokey/core';
import { type OrgHistory, orgHistoryDeployments, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf } from '../report/sod-truth';

const history: OrgHistory = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);
// GitHub's API order: newest status first (the testkit writes them oldest first).
const github = () =>
  (JSON.parse(JSON.stringify(orgHistoryDeployments(history))) as { statuses: object[] }[]).map((d) => ({
    ...d,
    statuses: [...d.statuses].reverse(),
  }));

function report(bundles: readonly VerifiedBundle[], deployments: object[], thresholds: string) {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', thresholds), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  return computeSodReport({
    policy,
    ledger,
    deployments: { source: 'github:acme/payments/deployments', records: deploymentsFromGitHub(deployments, 'x') },
    generatedAt: new Date('2026-12-01T00:00:00Z'),
  });
}

describe('row 152 bypass: a deployment status re-points the break-glass deployment to another run', () => {
  const glassDeploy = history.deploys.find((d) => d.breakGlass === 0)!;
  const glassIndex = glassDeploy.breakGlass!;
  const gone = (b: VerifiedBundle) =>
    b.source === `${glassDeploy.repository}/decisions.jsonl#${glassDeploy.runId}` ||
    b.source === `${glassDeploy.repository}/deploy-approvals/${glassDeploy.runId}.sigstore.json` ||
    b.source === `${history.breakGlasses[glassIndex]!.repository}/break-glass/${glassIndex}.sigstore.json`;
  const kept = honest.filter((b) => !gone(b));
  // A reviewed production deploy of the same repository: the run her forged status names.
  const decoy = history.deploys.find(
    (d) => d.repository === glassDeploy.repository && d.result === 'PASSED' && d.breakGlass === undefined && d.recorded,
  )!;
  // Thresholds the honest history meets except for its break-glasses' audit trail: with the files gone, the only
  // trace left is the production deployment of the break-glass run.
  const thresholds = 'report:\n  max-audit-gaps: 1\n';

  it('files deleted: the deployment is a gap and the report fails (the stated defence)', () => {
    const r = report(kept, github(), thresholds);
    expect(
      r.indicators.M6.items.filter(
        (f) => f.kind === 'deployment-without-record' && f.reason.includes(`run ${glassDeploy.runId})`),
      ),
    ).toHaveLength(1);
    expect(r.verdict).toBe('fail');
  });

  it('files deleted + one forged status (POST /deployments/ID/statuses, log_url of another run): no gap, pass', () => {
    const deployments = github();
    const mine = deployments.find((d) =>
      JSON.stringify(d.statuses).includes(`/actions/runs/${glassDeploy.runId}/`),
    )! as { statuses: object[] };
    mine.statuses.unshift({
      state: 'success',
      created_at: '2026-11-30T00:00:00Z',
      log_url: `https://github.com/${decoy.repository}/actions/runs/${decoy.runId}/job/1`,
    });
    const r = report(kept, deployments, thresholds);
    expect(r.indicators.M6.items.filter((f) => f.reason.includes(glassDeploy.runId))).toEqual([]);
    expect(r.indicators.M1.unapprovedDeploys.map((d) => d.run ?? '')).not.toContainEqual(
      expect.stringContaining(glassDeploy.runId),
    );
    expect(r.verdict).toBe('pass');
  });

  it('the run regex is not even anchored to GitHub or to the repository: any URL containing /actions/runs/N', () => {
    const [d] = deploymentsFromGitHub(
      [
        {
          id: 1,
          environment: 'production',
          sha: 'a',
          created_at: '2026-01-01T00:00:00Z',
          statuses: [
            { state: 'success', created_at: '2026-01-02T00:00:00Z', target_url: 'https://evil.example/actions/runs/42' },
            { state: 'in_progress', created_at: '2026-01-01T00:00:00Z', log_url: 'https://github.com/acme/app/actions/runs/7/job/1' },
          ],
        },
      ],
      'x',
    );
    expect(d!.runId).toBe('42');
  });
});
