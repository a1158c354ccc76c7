// The report action's work (actions/report): the same run as `twokey report` (report-run.ts), written where the
// workflow uploads it — the JSON report and the HTML page — with the step summary drawn from the same report, and the
// step failing when a threshold of the policy is not met, so a scheduled report fails loudly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, markdownSodReport, parseDuration, renderSummary, type SodReport } from '@twokey/core';
import type { StepOutcome } from '@twokey/github';
import type { RepositoryPolicyFile } from '@twokey/sigstore';
import { UsageError } from './io';

export interface ReportStepInputs {
  policy: string;
  repositoryPolicy?: RepositoryPolicyFile;
  /** Bundle files, directories and globs, relative to the workspace. */
  bundles: string[];
  /** The repository whose attestation store and deployments are read (empty: neither). */
  repository: string;
  /** The owner the report is about, when no repository is given (the action: GITHUB_REPOSITORY_OWNER). */
  owner?: string;
  token: string;
  apiUrl: string;
  /** `since`/`until` (ISO 8601 or a date), or `period` (a duration back from now, e.g. 7d). */
  since: string;
  until: string;
  period: string;
  workspace: string;
  outputDirectory: string;
  now?: Date;
}

export async function sodReportStep(inputs: ReportStepInputs): Promise<StepOutcome> {
  let report: SodReport;
  try {
    if (inputs.bundles.length === 0) throw new UsageError('report: bundles: give the files or directories of evidence');
    if (inputs.period && !/^[1-9][0-9]{0,9}[smhd]?$/.test(inputs.period)) {
      throw new UsageError(
        `report: period: expected a duration such as 7d or 24h, found ${JSON.stringify(inputs.period)}`,
      );
    }
    // The run (verifying every bundle, reading GitHub) is read only from here: a step whose inputs are unusable fails
    // without loading it (bench/README.md, "Start-up").
    const { parseReportTime, runSodReport } = await import('./report-run');
    const now = inputs.now ?? new Date();
    const since = inputs.since
      ? parseReportTime('since', inputs.since)
      : inputs.period
        ? periodStart(inputs.period, now)
        : undefined;
    const until = inputs.until ? parseReportTime('until', inputs.until) : undefined;
    ({ report } = await runSodReport({
      policy: inputs.policy,
      boundedWindow: true,
      ...(inputs.repositoryPolicy && { repositoryPolicy: inputs.repositoryPolicy }),
      bundles: inputs.bundles,
      cwd: inputs.workspace,
      ...(inputs.repository && { store: inputs.repository }),
      ...(!inputs.repository && inputs.owner && { owner: inputs.owner }),
      ...(inputs.repository && inputs.token && { deployments: { repository: inputs.repository } }),
      ...(since && { since }),
      ...(until && { until }),
      now,
      apiUrl: inputs.apiUrl,
      token: inputs.token,
    }));
  } catch (error) {
    return {
      outputs: {},
      errors: [],
      failure: describeError(error),
      // Escaped as every summary is (renderSummary): the message names files of someone else's choosing.
      summary: renderSummary([{ heading: 'twokey report: not evaluated' }, { preformatted: describeError(error) }]),
    };
  }
  mkdirSync(inputs.outputDirectory, { recursive: true });
  const reportPath = join(inputs.outputDirectory, 'sod-report.json');
  const htmlPath = join(inputs.outputDirectory, 'sod-report.html');
  writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  // The page's renderer and its chart library are read only here, when the page is written: the action starts lean.
  const { renderSodReportHtml } = await import('./report-html');
  writeFileSync(htmlPath, renderSodReportHtml(report));
  const failed = report.thresholds.filter((t) => t.verdict !== 'pass');
  return {
    outputs: { 'report-path': reportPath, 'html-path': htmlPath, verdict: report.verdict },
    errors: failed.map((t) => `${t.key} ${t.verdict === 'fail' ? 'not met' : 'not evaluated'}: ${t.reason}`),
    ...(failed.length > 0 && {
      failure: `${failed.length} threshold${failed.length === 1 ? '' : 's'} of the policy's report: keys not met`,
    }),
    summary: markdownSodReport(report),
  };
}

/** The earliest time the report writes (its times have four-digit years). */
const EARLIEST = Date.parse('0000-01-01T00:00:00Z');

/**
 * The start of a `period` back from `now`. A period reaching before the year 0 has no start the report can write, and
 * one past the range of a Date (`9999999999d`) none at all — an Invalid Date, which every comparison of the window
 * would let through (report.min-period among them) before the report failed as an internal error: a usage error
 * naming the input instead.
 */
function periodStart(period: string, now: Date): Date {
  const since = new Date(now.getTime() - parseDuration(period) * 1000);
  if (!(since.getTime() >= EARLIEST)) {
    throw new UsageError(
      `report: period: ${JSON.stringify(period)} reaches back before the year 0, the earliest time a report can write: give a duration such as 7d or 24h`,
    );
  }
  return since;
}
