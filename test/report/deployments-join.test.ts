// GitHub's deployments are joined with the signed decision records by workflow run AND environment (M6, M10). Joined
// by run alone, any record of a run — a FAILED one, or a PASSED one for another environment — made every deployment of
// that run "recorded": a deploy the gate refused and a later job of the same run shipped anyway, or a break-glass deploy
// whose files were deleted, hidden behind a staging gate of the same run, left no audit finding. Built the way the
// attacker would, from the generated organisation's genuine evidence and GitHub's deployments API shape.
import {
  computeSodReport,
  type DeploymentRecord,
  deploymentsFromGitHub,
  EvidenceLedger,
  parsePolicy,
  type SodReport,
  type VerifiedBundle,
} from '@twokey/core';
import { type OrgHistory, orgHistoryDeployments, orgHistoryPolicy, planOrgHistory } from '@twokey/testkit';
import { describe, expect, it } from 'vitest';
import { bundlesOf, resign, stagingLegOf } from './sod-truth';

const history: OrgHistory = planOrgHistory({ firstMonth: '2026-01', months: 3 });
const honest = bundlesOf(history);
const github = () => JSON.parse(JSON.stringify(orgHistoryDeployments(history))) as Record<string, unknown>[];

function report(bundles: readonly VerifiedBundle[], deployments: object[], thresholds = ''): SodReport {
  const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', thresholds), 'org-policy.yml');
  const ledger = new EvidenceLedger(policy, { owner: 'acme' });
  for (const b of bundles) ledger.addVerified(b);
  const records: DeploymentRecord[] = deploymentsFromGitHub(deployments, 'deployments.json');
  return computeSodReport({
    policy,
    ledger,
    deployments: { source: 'deployments.json', records },
    generatedAt: new Date('2026-12-01T00:00:00Z'),
  });
}

/** A GitHub deployment of `run` in `environment` that ended in success (what GitHub lists for an environment job). */
function deployment(id: number, repository: string, run: string, environment: string, at: string, sha: string) {
  const log = `https://github.com/${repository}/actions/runs/${run}/job/${id}`;
  return {
    id,
    url: `https://api.github.com/repos/${repository}/deployments/${id}`,
    environment,
    sha,
    ref: 'main',
    created_at: at,
    statuses: [
      { state: 'in_progress', created_at: at, log_url: log },
      { state: 'success', created_at: new Date(Date.parse(at) + 120_000).toISOString(), log_url: log },
    ],
  };
}

const summary = (r: SodReport) => ({
  passed: r.indicators.M1.passed,
  unapproved: r.indicators.M1.unapproved,
  refused: r.indicators.M1.refused,
  breakGlassUsed: r.indicators.M8.used,
  auditFindings: r.indicators.M6.findings,
  deploymentWithoutRecord: r.indicators.M6.items.filter((f) => f.kind === 'deployment-without-record').length,
  deploymentRefusedByRecord: r.indicators.M6.items.filter((f) => f.kind === 'deployment-refused-by-record').length,
  verdict: r.verdict,
});

describe('deployments are joined with decision records by run and environment', () => {
  const gaps = 'report:\n  max-audit-gaps: 1\n'; // the honest history has 1 finding: it passes
  const baseline = report(honest, github(), gaps);

  it('a refused deploy forced through by a later job of the same run: an audit finding, and the report fails', () => {
    const refused = history.deploys.find((d) => d.result === 'FAILED' && d.recorded)!;
    const at = new Date(Date.parse(refused.at) + 5 * 60_000).toISOString();
    // The gate job of the run refused (FAILED record); `ship: needs: gate, if: always()` deployed anyway.
    const forced = report(
      honest,
      [...github(), deployment(99_001, refused.repository, refused.runId, 'production', at, refused.commit)],
      gaps,
    );
    expect(baseline.verdict).toBe('pass');
    expect(summary(forced).deploymentRefusedByRecord).toBe(summary(baseline).deploymentRefusedByRecord + 1);
    expect(forced.indicators.M6.items).toContainEqual(
      expect.objectContaining({
        kind: 'deployment-refused-by-record',
        reason: expect.stringContaining(
          `GitHub deployment 99001 to production (${at}, run ${refused.runId}) succeeded, but a decision record of that run for production refused sha256:`,
        ),
      }),
    );
    expect(forced.verdict).toBe('fail');

    // A later status a writer posts (`error`, `failure`) does not unship it: the deployment once succeeded.
    const statusAfter = deployment(99_001, refused.repository, refused.runId, 'production', at, refused.commit);
    statusAfter.statuses.push({
      state: 'error',
      created_at: new Date(Date.parse(at) + 600_000).toISOString(),
      log_url: '',
    });
    const relabelled = report(honest, [...github(), statusAfter], gaps);
    expect(summary(relabelled).deploymentRefusedByRecord).toBe(summary(baseline).deploymentRefusedByRecord + 1);
    expect(relabelled.verdict).toBe('fail');

    // A decoy: a second gate job of the same run, in production, passes an old reviewed release (GitHub's
    // deployment does not say which artifact it shipped). The refused artifact is still one no record passed.
    const decoy = history.deploys.find(
      (x) =>
        x.result === 'PASSED' &&
        x.repository === refused.repository &&
        'own' in x.approval &&
        x.artifact.sha256 !== refused.artifact.sha256,
    )!;
    const record = honest.find((b) => b.source === `${decoy.repository}/decisions.jsonl#${decoy.runId}`)!;
    const approval = honest.find(
      (b) => b.source === `${decoy.repository}/deploy-approvals/${decoy.runId}.sigstore.json`,
    )!;
    const uri = `https://github.com/${refused.repository}/actions/runs/${refused.runId}/attempts/1`;
    const decoyApproval = resign(approval, `decoy/${refused.runId}.approval.json`, uri, (s) => {
      s.predicate.run = { ...s.predicate.run, id: Number(refused.runId), attempt: 1, uri };
    });
    const decoyRecord = resign(record, `decoy/${refused.runId}.record.json`, uri, (s) => {
      s.predicate.inputAttestations = [
        s.predicate.inputAttestations[0],
        { uri: 'file:///runner/work/decoy-approval.json', digest: { sha256: decoyApproval.sha256 } },
      ];
    });
    const hidden = report(
      [...honest, decoyApproval, decoyRecord],
      [...github(), deployment(99_001, refused.repository, refused.runId, 'production', at, refused.commit)],
      gaps,
    );
    expect(summary(hidden).deploymentRefusedByRecord).toBe(summary(baseline).deploymentRefusedByRecord + 1);
    expect(hidden.verdict).toBe('fail');
  });

  it('a job that ran in production beside a refusing gate, without a record: an audit gap, whatever its status', () => {
    // Found by the review of the fix above: a forced job that ships, then fails (`./deploy.sh artifacts/*`, then
    // `exit 1`), ends its deployment in failure, as the refused gate's — no status is ever success. More jobs of the run
    // ran in production than gates recorded there: a gap, named as one. A gate attempt that ended before recording (a
    // failed download, then "Re-run failed jobs") reads the same (found by the review of that fix): a gap too, never
    // a refused deploy shipped.
    const refused = history.deploys.find((d) => d.result === 'FAILED' && d.recorded)!;
    const at = new Date(Date.parse(refused.at) + 5 * 60_000).toISOString();
    const job = (id: number, states: string[], environment = 'production') => {
      const made = deployment(id, refused.repository, refused.runId, environment, at, refused.commit);
      const log = made.statuses[0]!.log_url;
      made.statuses = states.map((state, i) => ({
        state,
        created_at: new Date(Date.parse(at) + i * 60_000).toISOString(),
        log_url: log,
      }));
      return made;
    };
    const gap = `run ${refused.runId}) is one of 2 jobs of that run that ran in production, more than the 1 decision record of the run there, which refused sha256:${refused.artifact.sha256}: a job ran in production without a record (one that shipped and failed, or a gate attempt that ended before it recorded)`;
    for (const states of [
      ['in_progress', 'failure'],
      ['in_progress', 'error'], // cancelled after the deploy step
      ['waiting', 'in_progress', 'failure'], // a gate attempt that failed before its gate step, run again
    ]) {
      const reported = report(honest, [...github(), job(99_003, states)], gaps);
      expect(summary(reported).deploymentWithoutRecord).toBe(summary(baseline).deploymentWithoutRecord + 1);
      expect(summary(reported).deploymentRefusedByRecord).toBe(summary(baseline).deploymentRefusedByRecord);
      expect(reported.indicators.M6.items).toContainEqual(
        expect.objectContaining({ kind: 'deployment-without-record', reason: expect.stringContaining(gap) }),
      );
      expect(reported.verdict).toBe('fail');
    }

    // A later job whose environment's reviewers rejected it never ran (no in_progress): nothing shipped, no gap.
    expect(summary(report(honest, [...github(), job(99_003, ['waiting', 'failure'])], gaps))).toEqual(
      summary(baseline),
    );
    // A job in staging is another environment's.
    const staging = report(honest, [...github(), job(99_003, ['in_progress', 'failure'], 'staging')], gaps);
    expect(summary(staging).deploymentWithoutRecord).toBe(summary(baseline).deploymentWithoutRecord + 1);
    expect(staging.indicators.M6.items).toContainEqual(
      expect.objectContaining({ reason: expect.stringContaining('has no decision record for staging') }),
    );
  });

  it('a re-run in the next window: a run’s jobs and records are counted over its whole life', () => {
    // Found by the review of the fix: attempt 1 of a refused run in one window, "Re-run all jobs" in the next — the
    // gate refuses again (a second record) and a ship job ships, then fails. The window saw 2 jobs and 2 records (every
    // attempt's), the window before 1 job: no gap in either.
    const refused = history.deploys.find((d) => d.result === 'FAILED' && d.recorded)!;
    const record = honest.find((b) => b.source === `${refused.repository}/decisions.jsonl#${refused.runId}`)!;
    const rerun = new Date(Date.parse(refused.at) + 20 * 86_400_000);
    const uri = `https://github.com/${refused.repository}/actions/runs/${refused.runId}/attempts/2`;
    const second = {
      ...resign(record, `rerun/${refused.runId}.record.json`, uri, (statement) => {
        statement.predicate.timeVerified = rerun.toISOString();
      }),
      signedAt: [rerun],
    };
    const at = rerun.toISOString();
    const job = (id: number) => {
      const made = deployment(id, refused.repository, refused.runId, 'production', at, refused.commit);
      made.statuses[1]!.state = 'failure';
      return made;
    };
    const policy = parsePolicy(orgHistoryPolicy('trusted_root.json', gaps), 'org-policy.yml');
    const window = (deployments: object[]) => {
      const ledger = new EvidenceLedger(policy, { owner: 'acme' });
      for (const b of [...honest, second]) ledger.addVerified(b);
      return computeSodReport({
        policy,
        ledger,
        since: new Date(rerun.getTime() - 86_400_000),
        until: new Date(rerun.getTime() + 86_400_000),
        deployments: { source: 'deployments.json', records: deploymentsFromGitHub(deployments, 'deployments.json') },
        generatedAt: new Date('2026-12-01T00:00:00Z'),
      });
    };
    const gapsOf = (r: SodReport) => r.indicators.M6.items.filter((f) => f.kind === 'deployment-without-record');
    // The re-run's gate alone: the run's life holds two gates (attempt 1's, before the window) and two records.
    const honestRerun = window([...github(), job(99_010)]);
    expect(gapsOf(honestRerun)).toEqual([]);
    const forced = window([...github(), job(99_010), job(99_011)]);
    expect(gapsOf(forced)).toEqual([
      expect.objectContaining({
        reason: expect.stringContaining(
          `run ${refused.runId}) is one of 3 jobs of that run that ran in production, more than the 2 decision records of the run there`,
        ),
      }),
    ]);
  });

  it('a deployment GitHub listed twice (a page boundary that moved) is one job', () => {
    // Found by the review of the fix: the list is read newest first, a page at a time; a deployment created meanwhile
    // pushes the last of a page onto the next. A refusing gate's deployment listed twice read as two jobs: a gap.
    const refused = history.deploys.find((d) => d.result === 'FAILED' && d.recorded)!;
    const listed = github();
    const gate = listed.find((d) => JSON.stringify(d.statuses).includes(`/actions/runs/${refused.runId}/`))!;
    expect(summary(report(honest, [...listed, JSON.parse(JSON.stringify(gate))], gaps))).toEqual(summary(baseline));
  });

  it('a deployment whose statuses spell its environment in another case is one deployment of that environment', () => {
    // GitHub's environment names are not case sensitive (row 200): a status naming `Production` on a deployment to
    // `production` did not move it elsewhere, and its run is still known (found by the review of this stop's fixes).
    const spelt = github().map((d) => ({
      ...d,
      statuses: (d.statuses as Record<string, unknown>[]).map((s) => ({ ...s, environment: 'Production' })),
    }));
    expect(summary(report(honest, spelt, gaps))).toEqual(summary(baseline));
    // Another environment named by a status still moves it: neither its run nor its environment is known.
    const moved = github().map((d, i) =>
      i === 0
        ? { ...d, statuses: (d.statuses as Record<string, unknown>[]).map((s) => ({ ...s, environment: 'staging' })) }
        : d,
    );
    expect(summary(report(honest, moved, gaps)).deploymentWithoutRecord).toBe(
      summary(baseline).deploymentWithoutRecord + 1,
    );
  });

  it('a break-glass deploy whose own files are gone, behind a staging gate of the same run: its production deployment has no record', () => {
    const thresholds = 'report:\n  max-unapproved-rate: 0.1\n  max-audit-gaps: 1\n';
    const glassDeploy = history.deploys.find((d) => d.breakGlass === 0)!;
    const glassIndex = glassDeploy.breakGlass!;
    // The attacker deletes the run's deploy-report artifact (write access), so the weekly collect job does not find the
    // break-glass record, its deploy approval, or the break-glass.
    const gone = (b: VerifiedBundle) =>
      b.source === `${glassDeploy.repository}/decisions.jsonl#${glassDeploy.runId}` ||
      b.source === `${glassDeploy.repository}/deploy-approvals/${glassDeploy.runId}.sigstore.json` ||
      b.source === `${history.breakGlasses[glassIndex]!.repository}/break-glass/${glassIndex}.sigstore.json`;
    const kept = honest.filter((b) => !gone(b));
    expect(honest.length - kept.length).toBe(3);

    // The same run also had a gate job for staging over a reviewed artifact: its record and deploy approval (what the
    // genuine deploy identity signs when called with environment: staging) are found through that artifact.
    const run = glassDeploy.runId;
    const { reviewed, at, stagingApproval, stagingRecord } = stagingLegOf(history, honest, glassDeploy);
    const honestWithThresholds = report(honest, github(), thresholds);
    const attacked = report(
      [...kept, stagingApproval, stagingRecord],
      [...github(), deployment(99_002, glassDeploy.repository, run, 'staging', at, reviewed.commit)],
      thresholds,
    );
    // The staging record covers the staging deployment only: GitHub's production deployment of the run is a gap.
    expect(summary(attacked).deploymentWithoutRecord).toBe(summary(honestWithThresholds).deploymentWithoutRecord + 1);
    expect(attacked.indicators.M6.items).toContainEqual(
      expect.objectContaining({
        kind: 'deployment-without-record',
        reason: expect.stringMatching(
          new RegExp(`to production \\(.*, run ${run}\\) has no decision record for production`),
        ),
      }),
    );
    expect(attacked.verdict).toBe('fail');
  });
});
