// Row 152's defence (a break-glass deploy whose files were deleted is still seen through GitHub's deployment of its
// run, `deployment-without-record`) against one more unsigned API call by the same writer (threat model row 184): she
// posts a deployment status on her production deployment whose log_url names ANOTHER run (a reviewed production
// deploy). The run used to be the first status's that named one (GitHub lists them newest first): hers, and the
// deployment was joined to the other run's PASSED record. A deployment whose statuses name two runs is now one no
// record covers, and only a page of the deployment's own repository names a run.
import {
  computeSodReport,
  deploymentsFromGitHub,
  EvidenceLedger,
  parsePolicy,
  type VerifiedBundle,
} from '@twokey/core';
import { type OrgHistory, orgHistoryDeployments, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf } from './sod-truth';

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

describe('a deployment status naming another run (row 184)', () => {
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

  it('files deleted + one forged status (POST /deployments/ID/statuses, log_url of another run): still a gap, refused', () => {
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
    const gaps = r.indicators.M6.items.filter(
      (f) => f.kind === 'deployment-without-record' && f.reason.includes(glassDeploy.runId),
    );
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.reason).toContain(`its statuses name several runs: ${decoy.runId}, ${glassDeploy.runId}`);
    expect(r.verdict).toBe('fail');
  });

  it('takes a run only from a page of the deployment’s own repository, and none from statuses that disagree', () => {
    const deployment = (...links: string[]) =>
      deploymentsFromGitHub(
        [
          {
            id: 1,
            url: 'https://api.github.com/repos/acme/app/deployments/1',
            environment: 'production',
            sha: 'a',
            created_at: '2026-01-01T00:00:00Z',
            statuses: links.map((log_url, i) => ({
              state: 'success',
              created_at: `2026-01-0${i + 2}T00:00:00Z`,
              log_url,
            })),
          },
        ],
        'x',
      )[0]!;
    expect(deployment('https://github.com/acme/app/actions/runs/7/job/1').runId).toBe('7');
    expect(deployment('https://github.com/ACME/App/actions/runs/7').runId).toBe('7');
    for (const elsewhere of [
      'https://evil.example/actions/runs/42',
      'https://github.com/acme/other/actions/runs/42/job/1',
      'https://evil.example/x/acme/app/actions/runs/42',
      'javascript:/acme/app/actions/runs/42',
    ]) {
      expect(deployment(elsewhere).runId, elsewhere).toBeUndefined();
      expect(deployment('https://github.com/acme/app/actions/runs/7/job/1', elsewhere).runId, elsewhere).toBe('7');
    }
    const twoRuns = deployment(
      'https://github.com/acme/app/actions/runs/7/job/1',
      'https://github.com/acme/app/actions/runs/8',
    );
    expect(twoRuns.runId).toBeUndefined();
    expect(twoRuns.runsNamed).toEqual(['7', '8']);
  });
});
