// How a segregation-of-duties report reads: one headline per indicator and one line per threshold, drawn from the
// report and nothing else, for the terminal (`twokey report`), the step summary (Markdown, through renderSummary's
// escaping) and the HTML page alike. Logins and sources come from attestations: the terminal shows control
// characters as escapes, Markdown escapes everything.
import { renderSummary, type SummaryBlock } from './markdown';
import { terminalText } from './report';
import type { SodReport, ThresholdResult } from './sod-metrics';

/** The indicators in the order they are shown, with their names. */
export const SOD_INDICATORS = [
  ['M1', 'unapproved change rate'],
  ['M2', 'approval latency'],
  ['M3', 'privileged approvers'],
  ['M6', 'audit completeness'],
  ['M7', 'approval reuse'],
  ['M8', 'emergency bypass'],
  ['M9', 'collusion risk'],
  ['M10', 'deploy outcome'],
] as const;

export type SodIndicatorId = (typeof SOD_INDICATORS)[number][0];

/** One line per indicator: what it measured, in words. */
export function sodHeadlines(report: SodReport): { id: SodIndicatorId; title: string; headline: string }[] {
  const m = report.indicators;
  const headline: Record<SodIndicatorId, string> = {
    M1: notMeasured(m.M1) ?? m1(report),
    M2: `review: ${latency(m.M2.review)}; deploy: ${notMeasured(m.M2.deploy) ?? latency(m.M2.deploy)}`,
    M3:
      m.M3.approvals === 0
        ? 'no counted approval'
        : `${m.M3.privileged} of ${m.M3.approvals} counted approvals by repository admins (${percent(m.M3.share)})${m.M3.privilegedApprovers.length ? `: ${m.M3.privilegedApprovers.map((a) => `${a.login} ${a.approvals}`).join(', ')}` : ''}`,
    M6:
      m.M6.findings === 0
        ? "no finding: every bundle verified, is the policy's, and every deploy run left its record"
        : `${m.M6.findings} finding${m.M6.findings === 1 ? '' : 's'}: ${m.M6.byKind.map((k) => `${k.kind} ${k.count}`).join(', ')}`,
    M7: m7(report),
    M8:
      notMeasured(m.M8) ??
      `${m.M8.used} break-glass${m.M8.used === 1 ? '' : 'es'} used (at most ${m.M8.maxPerMonth} in a month), ${m.M8.withoutFollowUp} without a follow-up review; ${m.M8.signed} signed`,
    M9: m9(report),
    M10:
      notMeasured(m.M10) ??
      `${m.M10.succeeded} of ${m.M10.succeeded + m.M10.failed} finished deploys succeeded (${percent(m.M10.rate)}); ${m.M10.pending} pending, ${m.M10.unmatched.length} passed deploys without a GitHub deployment`,
  };
  return SOD_INDICATORS.map(([id, title]) => ({ id, title, headline: headline[id] }));
}

/** A threshold line: `✓`/`✗`/`?`, the key and the limit, and why. */
export function describeThreshold(t: ThresholdResult): string {
  const mark = t.verdict === 'pass' ? '✓' : t.verdict === 'fail' ? '✗' : '?';
  return `${mark} ${t.key} ${t.key === 'max-review-latency-p90' ? `${t.limit}s` : t.limit} (${t.indicator}, ${t.verdict}): ${t.reason}`;
}

/** The terminal summary of `twokey report`. */
export function describeSodReport(report: SodReport): string {
  const lines = [
    `twokey report: ${windowText(report)} (policy ${report.policy.source})`,
    `evidence: ${report.evidence.read} bundles read, ${report.evidence.verified} verified, ${report.evidence.rejected} did not verify; counted ${report.evidence.counted.decisionRecords} decision records, ${report.evidence.counted.reviews} review attestations, ${report.evidence.counted.deployApprovals} deploy approvals, ${report.evidence.counted.breakGlasses} break-glasses`,
    '',
    ...sodHeadlines(report).map((h) => `${h.id.padEnd(4)}${h.title.padEnd(24)}${h.headline}`),
  ];
  if (report.thresholds.length > 0) {
    lines.push(
      '',
      "thresholds (the policy's report: keys):",
      ...report.thresholds.map((t) => `  ${describeThreshold(t)}`),
    );
    const failed = report.thresholds.filter((t) => t.verdict !== 'pass').length;
    lines.push('', failed === 0 ? 'every threshold holds' : `${failed} threshold${failed === 1 ? '' : 's'} not met`);
  }
  return `${lines.map(terminalText).join('\n')}\n`;
}

/** The step summary: the indicators as a table, then the thresholds. */
export function markdownSodReport(report: SodReport): string {
  const blocks: SummaryBlock[] = [
    { heading: 'twokey report: segregation of duties' },
    {
      paragraph: `${windowText(report)} — policy ${report.policy.source}; ${report.evidence.verified} of ${report.evidence.read} bundles verified`,
    },
    {
      table: {
        header: ['', 'indicator', 'measured'],
        rows: sodHeadlines(report).map((h) => [h.id, h.title, h.headline]),
      },
    },
  ];
  if (report.thresholds.length > 0) {
    blocks.push({ heading: 'Thresholds', level: 3 }, { list: report.thresholds.map(describeThreshold) });
  }
  return renderSummary(blocks);
}

function m1(report: SodReport): string {
  const m = report.indicators.M1;
  const refusals = m.refusalsByCheck.map((c) => `${c.check} ${c.count}`).join(', ');
  const redeploys = m.redeploys
    ? `; ${m.redeploys} reviewed redeploy${m.redeploys === 1 ? '' : 's'} of artifacts already shipped, not counted`
    : '';
  return `${m.unapproved} of ${m.passed} passed deploys without an independent review (${percent(m.rate)})${redeploys}; ${m.refused} refused${refusals ? ` (${refusals})` : ''}`;
}

function m7(report: SodReport): string {
  const m = report.indicators.M7;
  if (m.reuses === 0) return 'no approval reused';
  const named = [
    ...m.reviewApprovals.map(
      (r) => `review ${r.reviewId} by ${r.reviewer} (${r.pullRequest}) behind ${r.commits.length} commits`,
    ),
    ...m.deployApprovals.map(
      (d) => `the deploy approval of ${d.run} (${d.environment}) used by ${d.usedBy.length} deploys`,
    ),
    ...m.breakGlasses.map((b) => `break-glass ${b.id.slice(0, 12)} used ${b.records.length} times`),
  ];
  return `${m.reuses} reused: ${named.join('; ')}`;
}

function m9(report: SodReport): string {
  const m = report.indicators.M9;
  if (m.approvals === 0) return 'no counted approval';
  const suspects = m.suspectedCollusion.map((s) => `${s.a} ↔ ${s.b}`);
  const top = m.byAuthor.find((a) => a.approvals >= m.minApprovalsForShare);
  return [
    suspects.length ? `suspected collusion: ${suspects.join(', ')}` : 'no suspected collusion',
    top ? `top approver share ${percent(top.topShare)} (${top.topApprover} for ${top.author})` : undefined,
    `${m.reciprocalPairs.length} reciprocal pairs`,
    `${m.approvers} approvers for ${m.authors} authors (Herfindahl ${m.herfindahl === null ? '—' : m.herfindahl.toFixed(3)})`,
  ]
    .filter(Boolean)
    .join('; ');
}

function latency(stats: { count: number; medianSeconds: number | null; p90Seconds: number | null }): string {
  if (stats.count === 0) return 'nothing measured';
  return `median ${hours(stats.medianSeconds!)}, p90 ${hours(stats.p90Seconds!)} (${stats.count})`;
}

function notMeasured(indicator: { status: string; reason?: string }): string | undefined {
  return indicator.status === 'not-measured' ? `not measured: ${indicator.reason}` : undefined;
}

function windowText(report: SodReport): string {
  const { since, until } = report.window;
  return `${since ?? 'all evidence'}${until ? ` → ${until}` : since ? ' → now' : ''}`;
}

export function percent(share: number | null): string {
  if (share === null) return '—';
  return `${(share * 100).toFixed(share < 0.01 && share > 0 ? 2 : 1)}%`;
}

/** Seconds as hours (or minutes under one hour). */
export function hours(seconds: number): string {
  return seconds < 3600 ? `${Math.round(seconds / 60)}m` : `${(seconds / 3600).toFixed(1)}h`;
}
