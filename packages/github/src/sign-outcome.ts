// What the sign step reports: its outputs (the verdict, every check, the commit, and on a pass the bundles), an error
// annotation per failed check and a failed step when anything was refused, and a summary showing the pull request, its
// author, the approvers, the identities and every check. Titles, logins and reasons come from GitHub, where they are
// whatever someone typed: renderSummary escapes every one of them.
import type { Check, Inline, SummaryBlock } from '@twokey/core';
import { renderSummary } from '@twokey/core';
import { runSignStage, type SignStageInputs, type SignStageResult } from './sign-stage';
import { failedStep, type StepOutcome } from './step';

/** The artifacts listed in the summary. */
const SHOWN_ARTIFACTS = 20;

/** The sign step as data, what actions/sign runs: the stage's outcome, or the error it stopped on (nothing signed). */
export function signStep(inputs: SignStageInputs): Promise<StepOutcome> {
  return runSignStage(inputs)
    .then(signStepOutcome)
    .catch((error: unknown) => failedStep('twokey sign: nothing signed', error));
}

export function signStepOutcome(result: SignStageResult): StepOutcome {
  const { decision, bundles } = result;
  const outputs: Record<string, string> = { verdict: decision.verdict, checks: JSON.stringify(decision.checks) };
  if (decision.source) outputs.commit = decision.source.commit;
  const summary = renderSummary(signSummary(result));
  if (decision.verdict === 'pass' && bundles) {
    outputs['bundle-paths'] = [...bundles.signatures.map((s) => s.path), bundles.review].join('\n');
    outputs['review-bundle-path'] = bundles.review;
    if (bundles.stored) {
      outputs['attestation-id'] = bundles.stored.map((s) => s.id).join('\n');
      outputs['attestation-url'] = bundles.stored.map((s) => s.url).join('\n');
    }
    return { outputs, errors: [], summary };
  }
  const failed = decision.checks.filter((c) => c.verdict === 'fail');
  return {
    outputs,
    errors: failed.map((check) => `${check.id}: ${check.reason}`),
    failure: `SIGN_REFUSED: nothing was signed; ${failed.length} of ${decision.checks.length} checks failed: ${failed.map((c) => c.id).join(', ')}`,
    summary,
  };
}

function signSummary(result: SignStageResult): SummaryBlock[] {
  const { decision, bundles } = result;
  const signed = decision.verdict === 'pass' && bundles !== undefined;
  const blocks: SummaryBlock[] = [
    { heading: `twokey sign: ${signed ? 'signed' : 'nothing signed'}` },
    { table: { header: ['', ''], rows: chainRows(result, signed) } },
    { heading: 'Checks', level: 3 },
    { table: { header: ['', 'check', 'reason'], rows: decision.checks.map(checkRow) } },
  ];
  const approvals = decision.review?.approvals ?? [];
  if (approvals.length > 0) {
    blocks.push({ heading: 'Approvals', level: 3 });
    blocks.push({
      list: approvals.map((a) => [
        `${a.counted ? '✅' : '❌'} ${a.reviewer.login} on `,
        { code: a.commitId.slice(0, 12) },
        `: ${a.reason}`,
      ]),
    });
  }
  if (bundles) {
    blocks.push({ heading: 'Bundles', level: 3 });
    blocks.push({
      list: [
        ['review attestation: ', { code: bundles.review }],
        ...bundles.signatures.map((s): Inline => ['signature of ', { code: s.artifact.name }, ': ', { code: s.path }]),
      ],
    });
  }
  return blocks;
}

/** The chain, top to bottom: verdict, source, pull request, author, approvers, identities, artifacts. */
function chainRows(result: SignStageResult, signed: boolean): Inline[][] {
  const { decision, signer } = result;
  const pr = result.evidence?.pullRequest;
  const rows: Inline[][] = [['verdict', signed ? '✅ every check passed, signed' : '❌ refused']];
  if (decision.source) {
    rows.push(['built from', [{ code: decision.source.repository }, ' at ', { code: decision.source.commit }]]);
  }
  if (pr) {
    rows.push(['pull request', { text: `#${pr.number} ${pr.title}`, href: pr.url }]);
    rows.push(['merged', [`${pr.mergeMethod} into `, { code: pr.baseRef }, ', head ', { code: pr.headSha }]]);
    rows.push(['author', pr.author.login]);
  }
  if (decision.review) {
    const approvers = decision.review.independentApprovers.map((a) => a.login);
    rows.push(['independent approvers', approvers.join(', ') || '(none)']);
  }
  // The evidence is read through GraphQL; through REST only when asked for, or when GraphQL refused the token.
  if (result.evidenceRead && result.evidenceRead.api === 'rest') {
    const why = result.evidenceRead.fallback
      ? `GraphQL refused the token: ${result.evidenceRead.fallback}`
      : 'as asked';
    rows.push(['GitHub read through', `REST (${why})`]);
  }
  const builders = decision.source?.builders.map((b) => ({ code: b.san }));
  rows.push(['build identity', builders ? separated(builders) : '(none verified)']);
  rows.push(['sign identity', { code: signer.san }]);
  for (const artifact of result.artifacts.slice(0, SHOWN_ARTIFACTS)) {
    rows.push(['artifact', [{ code: artifact.name }, ' ', { code: `sha256:${artifact.digest.hex}` }]]);
  }
  const more = result.artifacts.length - SHOWN_ARTIFACTS;
  if (more > 0) rows.push(['artifact', `… and ${more} more`]);
  return rows;
}

function checkRow(check: Check): Inline[] {
  return [check.verdict === 'pass' ? '✅' : '❌', { code: check.id }, check.reason];
}

function separated(parts: Inline[]): Inline[] {
  return parts.flatMap((part, i) => (i > 0 ? [', ', part] : [part]));
}
