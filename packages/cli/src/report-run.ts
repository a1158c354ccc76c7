// One report run, for `twokey report` and the report action alike: the policy (the org's, tightened by a
// repository's), the trusted root, every bundle verified into the ledger, GitHub's deployments when given or
// readable, and the indicators over the window. Inputs are checked by the caller; this reads and computes.
import { resolve } from 'node:path';
import {
  computeSodReport,
  type DeploymentRecord,
  deploymentsFromGitHub,
  EvidenceLedger,
  isoTime,
  type Policy,
  type SodReport,
} from '@twokey/core';
import { relativePath } from '@twokey/gate';
import {
  deployTrustedRoot,
  type RepositoryPolicyFile,
  readBoundedFile,
  readPolicyFiles,
  SigstoreInputError,
} from '@twokey/sigstore';
import { UsageError } from './io';
import { fetchDeployments } from './report-deployments';
import { readReportEvidence } from './report-evidence';

export interface SodReportRun {
  /** The org policy, relative to `cwd` (or absolute: the action's own repository's). */
  policy: string;
  /**
   * The report action's run: its window (`since` to `until`, else now) must be at least the policy's
   * report.min-period. `twokey report` on an auditor's machine chooses its window freely.
   */
  boundedWindow?: boolean;
  repositoryPolicy?: RepositoryPolicyFile;
  bundles: readonly string[];
  cwd: string;
  trustedRoot?: string;
  /** The attestation store to read for the artifacts the evidence names: OWNER/NAME or OWNER. */
  store?: string;
  /**
   * The owner the report is about (default: the store's): evidence of any other owner's repository is a finding.
   * Absent, and no store: every repository whose evidence the policy's identities signed counts.
   */
  owner?: string;
  /** GitHub's deployments: a file, or a repository to read them from (with a token). */
  deployments?: { file: string } | { repository: string };
  since?: Date;
  until?: Date;
  /** The clock `since` is judged by (default: now). */
  now?: Date;
  /** GitHub's API and a token (empty: anonymous). */
  apiUrl: string;
  token: string;
  onProgress?: (done: number, total: number) => void;
}

export async function runSodReport(run: SodReportRun): Promise<{ report: SodReport; policy: Policy }> {
  const { cwd } = run;
  const policy = readPolicyFiles(
    relativePath(cwd, run.policy),
    run.repositoryPolicy && { ...run.repositoryPolicy, path: relativePath(cwd, run.repositoryPolicy.path) },
    cwd,
  );
  for (const [what, time] of [
    ['since', run.since],
    ['until', run.until],
  ] as const) {
    // An Invalid Date would fail every comparison of the window silently, then the report as an internal error.
    if (time !== undefined && !Number.isFinite(time.getTime())) throw new UsageError(`report: ${what}: not a time`);
  }
  // A window that starts after now holds nothing yet: every count zero, every threshold that passes when empty passed.
  // A report is read as a measure of what happened; one of nothing is a mistake in the command, not a clean bill.
  if (run.since !== undefined && run.since.getTime() > (run.now ?? new Date()).getTime()) {
    throw new UsageError(
      `report: since (${run.since.toISOString()}) is in the future: the window would hold no evidence to judge`,
    );
  }
  if (run.since !== undefined && run.until !== undefined && !(run.since.getTime() < run.until.getTime())) {
    throw new UsageError(
      `report: since (${run.since.toISOString()}) must be before until (${run.until.toISOString()}): the window would hold nothing`,
    );
  }
  const minimum = policy.report?.minPeriodSeconds;
  if (run.boundedWindow && minimum !== undefined) {
    // What the window holds of the past: its part after now holds nothing yet (a window from a second ago to eight
    // days ahead met a 7-day minimum with nothing counted: found by the review of the future-since fix).
    const now = (run.now ?? new Date()).getTime();
    const end = Math.min(run.until?.getTime() ?? now, now);
    const seconds = run.since ? (end - run.since.getTime()) / 1000 : Infinity;
    // Written so that NaN fails it: a window whose length is not a number is not at least the minimum.
    if (!(seconds >= minimum)) {
      throw new UsageError(
        `report: the window (${run.since!.toISOString()} to ${run.until ? run.until.toISOString() : 'now'}) is shorter than the org policy's report.min-period (${minimum} s): a report over less would count too little to judge`,
      );
    }
  }
  const trust = deployTrustedRoot(policy, run.trustedRoot, cwd);
  const given = run.deployments && 'file' in run.deployments ? readDeployments(run.deployments.file, cwd) : undefined;
  const owner = run.owner ?? run.store?.split('/')[0];
  const ledger = new EvidenceLedger(policy, owner === undefined ? {} : { owner });
  await readReportEvidence({
    bundles: run.bundles,
    cwd,
    trust,
    ledger,
    ...(run.store !== undefined && { store: { repository: run.store, apiUrl: run.apiUrl, token: run.token } }),
    ...(run.onProgress && { onProgress: run.onProgress }),
  });
  const repository = run.deployments && 'repository' in run.deployments ? run.deployments.repository : undefined;
  const fetched = repository
    ? {
        source: `github:${repository}/deployments`,
        records: await fetchDeployments({
          repository,
          apiUrl: run.apiUrl,
          token: run.token,
          // From before the window as far as one run's jobs can reach: its earlier attempts' jobs count against its
          // records (M6).
          ...(run.since && {
            since: new Date(run.since.getTime() - RUN_LIFE_DAYS * 86_400_000),
            windowStart: run.since,
          }),
        }),
      }
    : undefined;
  const deployments = given ?? fetched;
  const report = computeSodReport({
    policy,
    ledger,
    ...(run.since && { since: run.since }),
    ...(run.until && { until: run.until }),
    ...(deployments && { deployments }),
    generatedAt: new Date(),
  });
  return { report, policy };
}

/**
 * How far apart one run's jobs can start, by GitHub's docs: a run may be re-run up to 30 days after it began, and one
 * attempt may last 35 days (waiting for approvals included) — 65 days, and a day more (found by the review of the
 * first bound, 31 days).
 */
const RUN_LIFE_DAYS = 66;

/** GitHub's deployments, as a file (the deployments API's list, each with its statuses). */
/** A GitHub deployments export of this size holds ~100,000 deployments with their statuses. */
const MAX_DEPLOYMENTS_BYTES = 64 * 1024 * 1024;

function readDeployments(path: string, cwd: string): { source: string; records: DeploymentRecord[] } {
  const source = relativePath(cwd, path);
  let text: string;
  try {
    // Bounded, and only a regular file: /dev/zero or a FIFO given as the file would never end. (The error's code is
    // not shown: its message is, as the report's usage error.)
    text = readBoundedFile(
      resolve(cwd, path),
      MAX_DEPLOYMENTS_BYTES,
      'POLICY_UNREADABLE',
      'deployments',
      source,
    ).toString('utf8');
  } catch (error) {
    if (!(error instanceof SigstoreInputError)) throw error;
    throw new UsageError(`report: deployments: ${error.message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`report: deployments: ${source} is not JSON: ${(error as Error).message}`);
  }
  return { source, records: deploymentsFromGitHub(json, source) };
}

/** A date (midnight UTC) or an ISO 8601 time with its zone; `what` names the flag or input in the message. */
export function parseReportTime(what: string, value: string): Date {
  const time = isoTime(value);
  if (!time) {
    throw new UsageError(
      `report: ${what}: expected an ISO 8601 time with its zone (2026-11-21T12:00:00Z) or a date (2026-11-21), found ${JSON.stringify(value)}`,
    );
  }
  return time;
}
