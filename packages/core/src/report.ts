// How a deploy report reads: plain text for the terminal (`twokey verify`) and Markdown for the step summary.
// Both draw the same chain — commit → pull request → author → approvers → build identity → sign identity → verdict —
// and then every failed check in plain words. Fields come from attestations (a pull request title is whatever its
// author typed), so both renderers neutralise control characters and Markdown/HTML before showing them.

import type { ArtifactReport, DeployReport } from './evaluate';

/** The report as plain text for a terminal: the chain of each artifact, its verdict, then each failed check. */
export function describeReport(report: DeployReport): string {
  const lines: string[] = [];
  lines.push(
    `policy ${text(report.policy.source)} (sha256 ${report.policy.digest.slice(0, 12)}…), evaluated at ${report.evaluatedAt}`,
  );
  for (const artifact of report.artifacts) {
    lines.push('');
    lines.push(
      `${artifact.verdict === 'pass' ? 'ACCEPTED' : 'REFUSED '} ${text(artifact.artifact.name)} ${artifact.artifact.digest}`,
    );
    for (const [label, value, url] of chainRows(artifact)) {
      lines.push(`  ${label.padEnd(13)} ${text(value)}${url ? ` (${text(url)})` : ''}`);
    }
    const failed = artifact.checks.filter((c) => c.verdict === 'fail');
    for (const check of failed) lines.push(`  ✗ ${check.id}: ${text(check.reason)}`);
  }
  if (report.rejected.length > 0) {
    lines.push('');
    lines.push('bundles that did not verify (never used as evidence):');
    for (const r of report.rejected) lines.push(`  ${text(r.source)}: ${text(r.reason)}`);
  }
  lines.push('');
  const refused = report.artifacts.filter((a) => a.verdict === 'fail').length;
  lines.push(
    report.verdict === 'pass'
      ? `verdict: accepted (${report.artifacts.length} of ${report.artifacts.length} artifacts pass every check)`
      : `verdict: refused (${refused} of ${report.artifacts.length} artifacts refused)`,
  );
  return `${lines.join('\n')}\n`;
}

/** The report as Markdown for a GitHub step summary: one table per artifact, then its failed checks. */
export function markdownReport(report: DeployReport): string {
  const out: string[] = [];
  const verdict = report.verdict === 'pass' ? 'accepted' : 'refused';
  out.push(`## twokey deploy gate: ${verdict}`);
  out.push('');
  out.push(
    `Policy ${md(report.policy.source)} (sha256 ${report.policy.digest.slice(0, 12)}…), evaluated at ${report.evaluatedAt}.`,
  );
  for (const artifact of report.artifacts) {
    out.push('');
    out.push(`### ${artifact.verdict === 'pass' ? '✅' : '❌'} ${md(artifact.artifact.name)}`);
    out.push('');
    out.push('| | |');
    out.push('|---|---|');
    out.push(`| artifact | ${md(artifact.artifact.digest)} |`);
    for (const [label, value, url] of chainRows(artifact)) {
      const link = url && /^https:\/\/[^\s()<>\]]+$/.test(url) ? `[${md(value)}](${url})` : md(value);
      out.push(`| ${label} | ${link} |`);
    }
    const failed = artifact.checks.filter((c) => c.verdict === 'fail');
    if (failed.length > 0) {
      out.push('');
      out.push('Failed checks:');
      for (const check of failed) out.push(`- **${md(check.id)}**: ${md(check.reason)}`);
    }
  }
  if (report.rejected.length > 0) {
    out.push('');
    out.push('Bundles that did not verify (never used as evidence):');
    for (const r of report.rejected) out.push(`- ${md(r.source)}: ${md(r.reason)}`);
  }
  return `${out.join('\n')}\n`;
}

/** The chain as label, value (and link) rows; what is unknown says so. */
function chainRows(artifact: ArtifactReport): [string, string, string?][] {
  const chain = artifact.chain;
  const unknown = '(unknown)';
  const pr = chain.pullRequest;
  return [
    ['commit', chain.commit ? `${chain.repository ?? unknown}@${chain.commit}` : unknown],
    ['pull request', pr ? `#${pr.number} ${pr.title}` : unknown, pr?.url],
    ['author', chain.author ?? unknown],
    ['approvers', chain.approvers.length ? chain.approvers.join(', ') : '(none independent)'],
    ['build', chain.buildIdentity ?? unknown],
    ['sign', chain.signIdentity ?? unknown],
    ['verdict', artifact.verdict === 'pass' ? 'accepted' : 'refused'],
  ];
}

/** Terminal-safe: control characters (escape sequences, newlines) become visible `\u…` escapes. */
function text(value: string): string {
  return value.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Markdown-safe inline text: no HTML, no formatting, no links, no line breaks, no table cell breaks. */
function md(value: string): string {
  return text(value)
    .replace(/[\\`*_[\]|~!]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
