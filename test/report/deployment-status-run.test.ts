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
import { bundlesOf, stagingLegOf } from './sod-truth';

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

  it('refuses a deployment whose repository was renamed and one status names another run under the new name', () => {
    // The statuses GitHub Actions posted keep the old name; the API names the deployment by the new one.
    const renamed = `${glassDeploy.repository}-renamed`;
    const deployments = github() as ({ id: number; url: string } & { statuses: object[] })[];
    const mine = deployments.find((d) => JSON.stringify(d.statuses).includes(`/actions/runs/${glassDeploy.runId}/`))!;
    mine.url = mine.url.replace(`/repos/${glassDeploy.repository}/`, `/repos/${renamed}/`);
    mine.statuses.unshift({
      state: 'success',
      created_at: '2026-11-30T00:00:00Z',
      log_url: `https://github.com/${renamed}/actions/runs/${decoy.runId}/job/1`,
    });
    const r = report(kept, deployments, thresholds);
    const about = r.indicators.M6.items.filter(
      (f) => f.kind === 'deployment-without-record' && f.reason.includes(`GitHub deployment ${mine.id} `),
    );
    expect(about).toHaveLength(1);
    expect(about[0]!.reason).toContain('its statuses name several runs');
    expect(r.verdict).toBe('fail');
  });

  it('refuses a deployment a status moved to another environment (the same run’s staging record would cover it)', () => {
    // Row 152's setup: the same run had a genuine staging gate job over a reviewed artifact, which passed.
    const { stagingApproval, stagingRecord } = stagingLegOf(history, honest, glassDeploy);
    const deployments = github() as ({ id: number; environment: string } & Record<string, unknown> & {
        statuses: object[];
      })[];
    const mine = deployments.find((d) => JSON.stringify(d.statuses).includes(`/actions/runs/${glassDeploy.runId}/`))!;
    expect(mine.environment).toBe('production');
    // POST …/deployments/{id}/statuses {environment: staging}: GitHub lists it under staging, original_environment
    // keeps production.
    mine.original_environment = 'production';
    mine.environment = 'staging';
    mine.statuses.unshift({
      state: 'success',
      created_at: '2026-11-30T00:00:00Z',
      environment: 'staging',
      log_url: `https://github.com/${glassDeploy.repository}/actions/runs/${glassDeploy.runId}/job/1`,
    });
    const [read] = deploymentsFromGitHub([mine], 'x');
    expect(read).toMatchObject({ environment: 'production', environmentsNamed: ['production', 'staging'] });
    expect(read!.runId).toBeUndefined();
    const r = report([...kept, stagingApproval, stagingRecord], deployments, thresholds);
    const about = r.indicators.M6.items.filter(
      (f) => f.kind === 'deployment-without-record' && f.reason.includes(`GitHub deployment ${mine.id} `),
    );
    expect(about).toHaveLength(1);
    expect(about[0]!.reason).toContain('moved between environments by its statuses: production, staging');
    expect(r.verdict).toBe('fail');
  });

  it('takes a run from any page of a run, and none from statuses that disagree', () => {
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
    // Not a run's page: names no run, and takes none away.
    for (const elsewhere of ['https://evil.example/actions/runs/42', 'javascript:/acme/app/actions/runs/42']) {
      expect(deployment(elsewhere).runId, elsewhere).toBeUndefined();
      expect(deployment('https://github.com/acme/app/actions/runs/7/job/1', elsewhere).runId, elsewhere).toBe('7');
    }
    // Another repository's or host's run page is a run named all the same (a renamed repository keeps its old name in
    // the statuses posted before): beside the deployment's own, two runs, and none is the deployment's.
    for (const other of [
      'https://github.com/acme/other/actions/runs/42/job/1',
      'https://evil.example/x/acme/actions/runs/42',
    ]) {
      const two = deployment('https://github.com/acme/app/actions/runs/7/job/1', other);
      expect(two.runId, other).toBeUndefined();
      expect(two.runsNamed).toEqual(['7', '42']);
    }
  });
});
