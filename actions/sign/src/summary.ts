// How the sign stage shows its decision in the job's step summary: the pull request, its author, the approvers,
// the verdict and every check. Titles, logins and reasons come from GitHub (a title is whatever its author typed),
// so every value is neutralised before it is shown.
import { summary } from '@actions/core';
import type { SignResult } from './main';

export async function writeDecisionSummary(result: SignResult): Promise<void> {
  const { decision, evidence, signer, bundles } = result;
  const pr = evidence?.pullRequest;
  const signed = decision.verdict === 'pass' && bundles !== undefined;
  const out: string[] = [];
  out.push(`## twokey sign: ${signed ? 'signed' : 'nothing signed'}`, '');
  out.push('| | |', '|---|---|');
  const row = (label: string, value: string) => out.push(`| ${label} | ${value} |`);
  row('verdict', signed ? '✅ every check passed, signed' : '❌ refused');
  if (decision.source) row('built from', `${code(decision.source.repository)} at ${code(decision.source.commit)}`);
  if (pr) {
    const link = /^https:\/\/[^\s()<>\]]+$/.test(pr.url) ? pr.url : undefined;
    const title = `#${pr.number} ${md(pr.title)}`;
    row('pull request', link ? `[${title}](${link})` : title);
    row('merged', `${md(pr.mergeMethod)} into ${code(pr.baseRef)}, head ${code(pr.headSha)}`);
    row('author', md(pr.author.login));
  }
  if (decision.review) {
    const approvers = decision.review.independentApprovers.map((a) => md(a.login));
    row('independent approvers', approvers.join(', ') || '(none)');
  }
  row('build identity', decision.source?.builders.map((b) => code(b.san)).join(', ') ?? '(none verified)');
  row('sign identity', code(signer.san));
  for (const artifact of result.artifacts.slice(0, 20)) {
    row('artifact', `${code(artifact.name)} ${code(`sha256:${artifact.sha256}`)}`);
  }
  if (result.artifacts.length > 20) row('artifact', `… and ${result.artifacts.length - 20} more`);

  out.push('', '### Checks', '', '| | check | reason |', '|---|---|---|');
  for (const check of decision.checks) {
    out.push(`| ${check.verdict === 'pass' ? '✅' : '❌'} | ${code(check.id)} | ${md(check.reason)} |`);
  }
  if (decision.review && decision.review.approvals.length > 0) {
    out.push('', '### Approvals', '');
    for (const approval of decision.review.approvals) {
      out.push(
        `- ${approval.counted ? '✅' : '❌'} ${md(approval.reviewer.login)} on ${code(approval.commitId.slice(0, 12))}: ${md(approval.reason)}`,
      );
    }
  }
  if (bundles) {
    out.push('', '### Bundles', '');
    out.push(`- review attestation: ${code(bundles.review)}`);
    for (const s of bundles.signatures) out.push(`- signature of ${code(s.artifact.name)}: ${code(s.path)}`);
  }
  await summary.addRaw(`${out.join('\n')}\n`).write();
}

export async function writeFailureSummary(message: string): Promise<void> {
  await summary.addHeading('twokey sign: nothing signed', 2).addCodeBlock(message).write();
}

/** Plain text in a Markdown table cell: no control characters, no HTML, no Markdown syntax, no cell breaks. */
function md(text: string): string {
  return text
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
    .replace(/[\\`*_{}[\]()#+!|~]/g, '\\$&');
}

/** A value as inline code (HTML, so a backtick in it cannot end the span; Markdown inside stays escaped). */
function code(text: string): string {
  return `<code>${md(text)}</code>`;
}
