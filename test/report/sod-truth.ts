// The report's numbers against the history's ground truth (packages/testkit/src/org-history.ts): one comparison for
// the evidence read straight from the plan and for the same history signed, written and verified.
import { createHash } from 'node:crypto';
import type { SodReport, VerifiedBundle } from '@twokey/core';
import {
  GITHUB_ACTIONS_ISSUER,
  type OrgHistory,
  type OrgHistoryTruth,
  orgHistoryStatements,
  type PlannedDeploy,
  type PlannedStatement,
} from '@twokey/testkit';
import { expect } from 'vitest';
import { sodSchemaProblems } from '../../packages/core/src/__fixtures__/sod-report-validate';

export { sodSchemaProblems };

/** The report's values in the truth's shape: every indicator, and who is named. */
export function measuredTruth(report: SodReport): OrgHistoryTruth {
  const m = report.indicators;
  const runOf = (uri: string | undefined) => /\/runs\/(\d+)/.exec(uri ?? '')?.[1] ?? '?';
  return {
    M1: {
      // The history's truth counts every passed deploy run; the report counts a reviewed redeploy of an artifact
      // already shipped to its environment apart (acme/payments' last release, deployed again on a reused approval).
      passed: m.M1.passed + (m.M1.redeploys ?? 0),
      refused: m.M1.refused,
      unapproved: m.M1.unapproved,
      refusalsByCheck: Object.fromEntries(m.M1.refusalsByCheck.map((c) => [c.check, c.count])),
    },
    M2: {
      review: {
        count: m.M2.review.count,
        unmeasured: m.M2.review.unmeasured,
        medianSeconds: m.M2.review.medianSeconds,
        p90Seconds: m.M2.review.p90Seconds,
      },
      deploy: {
        count: m.M2.deploy.count,
        unmeasured: m.M2.deploy.unmeasured,
        medianSeconds: m.M2.deploy.medianSeconds,
        p90Seconds: m.M2.deploy.p90Seconds,
      },
    },
    M3: {
      approvals: m.M3.approvals,
      privileged: m.M3.privileged,
      privilegedApprovers: Object.fromEntries(m.M3.privilegedApprovers.map((a) => [a.login, a.approvals])),
    },
    M6: { findings: m.M6.findings, byKind: Object.fromEntries(m.M6.byKind.map((k) => [k.kind, k.count])) },
    M7: {
      reuses: m.M7.reuses,
      reviewApprovals: m.M7.reviewApprovals.map((r) => ({
        reviewId: r.reviewId,
        reviewer: r.reviewer,
        commits: r.commits,
      })),
      deployApprovals: m.M7.deployApprovals.map((d) => ({
        run: runOf(d.run),
        usedByRuns: d.usedBy.map((u) => runOf(u.run)),
      })),
      breakGlasses: m.M7.breakGlasses.map((b) => ({
        artifact: b.artifact,
        runs: b.records.map((r) => runOf(m.M1.unapprovedDeploys.find((d) => d.record.source === r.source)?.run)),
      })),
    },
    M8: {
      used: m.M8.used,
      signed: m.M8.signed,
      withoutFollowUp: m.M8.withoutFollowUp,
      maxPerMonth: m.M8.maxPerMonth,
      usedByMonth: Object.fromEntries(m.M8.byMonth.filter((b) => b.used > 0).map((b) => [b.month, b.used])),
    },
    M9: {
      approvals: m.M9.approvals,
      authors: m.M9.authors,
      approvers: m.M9.approvers,
      suspectedCollusion: m.M9.suspectedCollusion.map((s) => [s.a, s.b]),
    },
    M10: { matched: m.M10.matched, succeeded: m.M10.succeeded, failed: m.M10.failed, pending: m.M10.pending },
  };
}

/** Every indicator equals its truth; the colluding pair and the reused approvals are named. */
export function expectTruth(report: SodReport, truth: OrgHistoryTruth): void {
  expect(sodSchemaProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
  const measured = measuredTruth(report);
  const sorted = <T>(list: T[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  for (const key of Object.keys(truth) as (keyof OrgHistoryTruth)[]) {
    if (key === 'M7') continue;
    expect(measured[key], key).toEqual(truth[key]);
  }
  expect(measured.M7.reuses, 'M7').toBe(truth.M7.reuses);
  expect(
    sorted(measured.M7.reviewApprovals.map((r) => ({ ...r, commits: [...r.commits].sort() }))),
    'M7 reviews',
  ).toEqual(sorted(truth.M7.reviewApprovals.map((r) => ({ ...r, commits: [...r.commits].sort() }))));
  expect(measured.M7.deployApprovals, 'M7 deploy approvals').toEqual(truth.M7.deployApprovals);
  expect(measured.M7.breakGlasses, 'M7 break-glasses').toEqual(truth.M7.breakGlasses);
}

/** A planned statement as the verifier hands it over: the identity Fulcio would certify for its token. */
export function verified(planned: PlannedStatement, sha256: string): VerifiedBundle {
  const job = planned.signer;
  return {
    source: planned.file,
    sha256,
    evidenceKey: sha256,
    kind: 'dsse',
    signer: {
      san: `https://github.com/${job.job_workflow_ref}`,
      issuer: GITHUB_ACTIONS_ISSUER,
      extensions: {
        issuer: GITHUB_ACTIONS_ISSUER,
        sourceRepositoryURI: `https://github.com/${job.repository}`,
        runInvocationURI: `https://github.com/${job.repository}/actions/runs/${job.run_id}/attempts/${job.run_attempt}`,
        runnerEnvironment: job.runner_environment,
      },
    },
    signedAt: [new Date('2026-12-01T00:00:00Z')],
    payloadType: 'application/vnd.in-toto+json',
    statement: JSON.parse(JSON.stringify(planned.statement)),
  };
}

export function bundlesOf(plan: OrgHistory): VerifiedBundle[] {
  const digests = new Map<string, string>();
  const bundles: VerifiedBundle[] = [];
  for (const batch of orgHistoryStatements(plan, (file) => digests.get(file)!)) {
    for (const planned of batch) {
      const sha256 = createHash('sha256').update(JSON.stringify(planned.statement)).digest('hex');
      digests.set(planned.file, sha256);
      bundles.push(verified(planned, sha256));
    }
  }
  return bundles;
}

/**
 * A genuine statement of the history re-issued for another run (its certificate's run invocation URI), edited as
 * JSON: what an attacker's second gate job, re-run attempt or decoy would have the deploy identity sign.
 */
export function resign(
  bundle: VerifiedBundle,
  source: string,
  runUri: string,
  // biome-ignore lint/suspicious/noExplicitAny: statements are edited as JSON
  edit: (statement: any) => void,
): VerifiedBundle & { sha256: string } {
  const statement = JSON.parse(JSON.stringify(bundle.statement));
  edit(statement);
  const sha256 = createHash('sha256').update(JSON.stringify(statement)).digest('hex');
  return {
    ...bundle,
    source,
    sha256,
    evidenceKey: sha256,
    signer: { ...bundle.signer, extensions: { ...bundle.signer.extensions, runInvocationURI: runUri } },
    statement,
  };
}

/**
 * Row 152's decoy: the run of `deploy` also had a gate job for staging over a reviewed artifact of its repository —
 * its record and deploy approval, as the genuine deploy identity signs them when called with environment: staging,
 * ten minutes before `deploy`. From the history's own bundles, re-issued for that run.
 */
export function stagingLegOf(
  history: OrgHistory,
  honest: readonly VerifiedBundle[],
  deploy: PlannedDeploy,
): { reviewed: PlannedDeploy; at: string; stagingApproval: VerifiedBundle; stagingRecord: VerifiedBundle } {
  const reviewed = history.deploys.find(
    (d) =>
      d.repository === deploy.repository && d.result === 'PASSED' && d.pullRequest !== undefined && 'own' in d.approval,
  )!;
  const run = deploy.runId;
  const runUri = `https://github.com/${deploy.repository}/actions/runs/${run}/attempts/1`;
  const at = new Date(Date.parse(deploy.at) - 10 * 60_000).toISOString();
  const approval = honest.find(
    (b) => b.source === `${reviewed.repository}/deploy-approvals/${reviewed.runId}.sigstore.json`,
  )!;
  const stagingApproval = resign(approval, `staging/approval-${run}.json`, runUri, (s) => {
    s.predicate.environment = 'staging';
    s.predicate.run = { id: Number(run), attempt: 1, uri: runUri };
    for (const a of s.predicate.approvals) a.environments = ['staging'];
    s.predicate.requestedAt = new Date(Date.parse(at) - 5 * 60_000).toISOString();
    s.predicate.readAt = new Date(Date.parse(at) - 60_000).toISOString();
  });
  const record = honest.find((b) => b.source === `${reviewed.repository}/decisions.jsonl#${reviewed.runId}`)!;
  const stagingRecord = resign(record, `staging/record-${run}.json`, runUri, (s) => {
    s.predicate.timeVerified = at;
    s.predicate.resourceUri = `https://github.com/${deploy.repository}/deployments/staging`;
    s.predicate['https://twokey.dev/decision/v1'].environment = 'staging';
    s.predicate.inputAttestations = [
      s.predicate.inputAttestations[0],
      { uri: 'file:///runner/work/staging-approval.json', digest: { sha256: stagingApproval.sha256 } },
    ];
  });
  return { reviewed, at, stagingApproval, stagingRecord };
}
