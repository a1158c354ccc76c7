// The deploy report: the model `twokey verify --json` prints and the deploy action writes to `report-path`, its JSON
// Schema (report.schema.json, docs/report.md), and how it reads — plain text for the terminal (`twokey verify`) and
// Markdown for the step summary. Both draw the same chain — commit → pull request → author → approvers → build
// identity → sign identity → verdict — and then every check that did not pass, with its verdict in the report's own
// words. Fields come from attestations (a pull request title is whatever its author typed): the terminal shows control
// characters as escapes, and the step summary is written by markdown.ts's renderSummary, which escapes everything.

import { randomUUID } from 'node:crypto';
import { CodedError } from './error';
import { type Inline, renderSummary, type SummaryBlock } from './markdown';
import type { Check, Verdict } from './model';
import reportSchema from './report.schema.json' with { type: 'json' };
import type { ReviewResult } from './review';
import validateReport from './validators/report.validate.js';

/** The version of the report's format (`schemaVersion`): within it, fields are only added (docs/report.md). */
export const REPORT_SCHEMA_VERSION = 1;

/** The JSON Schema every deploy report follows (draft 2020-12). */
export const REPORT_SCHEMA = reportSchema;

/** The ids of the deploy checks, in the order they are reported. */
export const DEPLOY_CHECK_IDS = [
  'covered-by-policy',
  'artifact-signature',
  'review-attestation',
  'review-rules',
  'build-provenance',
  'same-commit',
  'same-repository',
  'distinct-identities',
  'fresh',
  'deploy-approval',
  'break-glass',
] as const;

/** A deploy check id. */
export type DeployCheckId = (typeof DEPLOY_CHECK_IDS)[number];

/** A bundle that did not verify cryptographically, with the verifier's code and reason. */
export interface RejectedEvidence {
  /** The bundle's file, relative to the working directory. */
  source: string;
  code?: string;
  reason: string;
}

/** Bundles rejected for one cause: its code, the cause in words (without a file's name), and the files. */
export interface RejectionCause {
  code?: string;
  cause: string;
  sources: string[];
}

/**
 * The rejected bundles grouped by what went wrong, in the order each cause was first met: the bundles of another
 * Sigstore instance all read `CERTIFICATE_CHAIN_UNTRUSTED: the signing certificate (issued by …) chains to no
 * certificate authority of the public-good trusted root`, so a release of them is one cause, not one line per bundle.
 */
export function rejectionCauses(rejected: readonly RejectedEvidence[]): RejectionCause[] {
  const causes = new Map<string, RejectionCause>();
  for (const { source, code, reason } of rejected) {
    // A reason may name its file first (`FILE: what went wrong`); the cause is what follows.
    const cause = reason.startsWith(`${source}: `) ? reason.slice(source.length + 2) : reason;
    const key = `${code ?? ''}\n${cause}`;
    const known = causes.get(key);
    if (known) known.sources.push(source);
    else causes.set(key, { ...(code !== undefined && { code }), cause, sources: [source] });
  }
  return [...causes.values()];
}

/** What to do about a cause of rejection, when it has one remedy. */
export function rejectionHint(cause: RejectionCause): string | undefined {
  if (cause.code !== 'CERTIFICATE_CHAIN_UNTRUSTED') return undefined;
  return (
    'these bundles come from another Sigstore instance: give its trusted root — github for GitHub’s (private ' +
    'repositories), else a trusted_root.json — with --trusted-root (the deploy action’s trusted-root input) or the ' +
    'policy’s deploy.trusted-root'
  );
}

/** `CODE, N bundles: cause`: one line for one cause of rejection. */
export function describeRejectionCause(cause: RejectionCause): string {
  const count = cause.sources.length === 1 ? '1 bundle' : `${cause.sources.length} bundles`;
  return `${cause.code ? `${cause.code}, ` : ''}${count}: ${cause.cause}`;
}

/** A piece of evidence the verdict rests on (the VSA names these). */
export interface EvidenceUsed {
  role: 'signature' | 'review' | 'provenance' | 'deploy-approval' | 'break-glass';
  /** The bundle's file, relative to the working directory. */
  source: string;
  signer: { san: string; issuer: string };
  /** Verified signing times, ISO 8601. */
  signedAt: string[];
}

/** The chain of custody shown to people: commit → pull request → author → approvers → build → sign. */
export interface ArtifactChain {
  /** `owner/name`. */
  repository?: string;
  commit?: string;
  pullRequest?: { number: number; url: string; title: string };
  author?: string;
  /**
   * Under a break-glass, everyone who made the change, as it records them: `alice (author, pusher)`. Absent otherwise
   * (the review names the people of a reviewed change).
   */
  contributors?: string[];
  /** Logins of the independent approvers (empty when none counted). */
  approvers: string[];
  buildIdentity?: string;
  signIdentity?: string;
}

/** The verdict on one artifact, every check, the chain and the evidence it rests on. */
export interface ArtifactReport {
  /** The name it was judged under (absent when given by digest alone) and its digest, `sha256:HEX`. */
  artifact: { name?: string; digest: string };
  verdict: Verdict;
  /** Every deploy check, in DEPLOY_CHECK_IDS order. */
  checks: Check[];
  /**
   * When it passed: until when its evidence passes what depends on the time judged — each bundle's oldest verified
   * signing time plus deploy.max-age, and a used break-glass's expiry, the earliest of them.
   */
  validUntil?: string;
  chain: ArtifactChain;
  evidence: EvidenceUsed[];
  /** The review rules re-run under the policy on the attested evidence, when a review attestation was found. */
  review?: ReviewResult;
  /** THE BREAK-GLASS the artifact was accepted under, in place of its review: only when one was used. */
  breakGlass?: BreakGlassUsed;
  /** Who approved the deploy through its environment, when the policy asks or an attestation says. */
  deployApproval?: { source: string; environment: string; approvers: string[] };
  /** Decision records of earlier deploys of this artifact found among the evidence. */
  decisions?: DecisionSeen[];
}

/** A decision record about an artifact, as `twokey verify` reads it back. */
export interface DecisionSeen {
  source: string;
  result: 'PASSED' | 'FAILED';
  timeVerified: string;
  environment?: string;
  /** Who signed it (the deploy job's SAN). */
  signer: string;
  /**
   * The repository whose run signed it (its certificate's Source Repository URI): a record of a deploy in another
   * repository (the shared deploy workflow called from one the developer owns) is about the same bytes, not this
   * repository's deploy.
   */
  repository?: string;
  /** Whether the deploy it records used a break-glass for this artifact. */
  breakGlass: boolean;
  /** `check-id` of each check that did not pass, for this artifact. */
  failedChecks?: string[];
}

/** A break-glass used in place of an artifact's review, as the report and the decision record name it. */
export interface BreakGlassUsed {
  /** The break-glass attestation's file. */
  source: string;
  /** breakGlassId: the sha256 of its statement. */
  id: string;
  /**
   * The run that signed it (breakGlassRunOf: `INSTANCE/actions/runs/ID`, the GitHub instance and the run id): one approval releases every job of a
   * run, so its single use is counted per run. Absent in reports written before it was recorded.
   */
  run?: string;
  reason: string;
  incident: string;
  environment: string;
  requester: { login: string; id: number };
  approvers: { login: string; id: number }[];
  /**
   * The change it let through, as it records it: the commit, its author, the pull request merged as it, and everyone
   * who wrote, committed, co-authored, opened or pushed it (none of whom approved). Absent in reports written before.
   */
  change?: {
    commit: string;
    author: { login: string; id: number };
    pullRequest?: { number: number; url: string; title: string };
    contributors: { login: string; id: number; roles: string[] }[];
  };
  notBefore: string;
  expires: string;
  waives: string[];
}

/** The deploy report: what `twokey verify --json` prints and the deploy action writes to `report-path`. */
export interface DeployReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  verdict: Verdict;
  /** When the evaluation ran (ISO 8601). */
  evaluatedAt: string;
  /** When the evidence was judged as of another time (`twokey verify --at`): freshness is measured from it. */
  asOf?: string;
  /**
   * When the verdict is pass: the earliest of the artifacts' validUntil — after it, the same evidence no longer passes
   * (a job that ships what passed checks it first).
   */
  validUntil?: string;
  /** The policy file (relative to the working directory) and the sha256 of its bytes. */
  policy: {
    source: string;
    digest: string;
    /** The repository's own policy that tightened the org policy, if any. */
    repository?: { source: string; digest: string };
  };
  artifacts: ArtifactReport[];
  /** Bundles that did not verify (each once), so a refusal can say why expected evidence was not there. */
  rejected: RejectedEvidence[];
}

export type ReportErrorCode = 'REPORT_NOT_JSON' | 'REPORT_INVALID';

/** Text that is not a deploy report of this version (a file or an output someone gave to read: exit 2). */
export class ReportError extends CodedError<ReportErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'ReportError';
}

/** Why a value is not a deploy report of this version, one `/path: problem` per line; empty when it is one. */
export function deployReportProblems(value: unknown): string[] {
  if (validateReport(value)) return [];
  return (validateReport.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`);
}

/**
 * Reads a deploy report (a `report-path` file, `twokey verify --json`'s output) as its consumers do: JSON, checked
 * against report.schema.json. `source` names it in messages. Throws ReportError naming every problem.
 */
export function readDeployReport(text: string, source: string): DeployReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReportError('REPORT_NOT_JSON', `${source}: not JSON: ${(error as Error).message}`);
  }
  const problems = deployReportProblems(value);
  if (problems.length > 0) {
    throw new ReportError(
      'REPORT_INVALID',
      `${source}: not a deploy report of schemaVersion ${REPORT_SCHEMA_VERSION}: ${problems.slice(0, 10).join('; ')}`,
    );
  }
  return value as DeployReport;
}

/** The report as plain text for a terminal: each artifact's chain and verdict, then each check that did not pass. */
export function describeReport(report: DeployReport): string {
  const lines: string[] = [];
  lines.push(
    `policy ${text(report.policy.source)} (sha256 ${report.policy.digest.slice(0, 12)}…), evaluated at ${report.evaluatedAt}`,
  );
  const repositoryPolicy = report.policy.repository;
  if (repositoryPolicy) {
    lines.push(
      `  tightened by the repository policy ${text(repositoryPolicy.source)} (sha256 ${repositoryPolicy.digest.slice(0, 12)}…)`,
    );
  }
  if (report.asOf) lines.push(asOfWarning(report.asOf));
  for (const artifact of report.artifacts) {
    lines.push('');
    lines.push(`${artifact.verdict === 'pass' ? 'ACCEPTED' : 'REFUSED '} ${text(shownArtifact(artifact))}`);
    if (artifact.breakGlass) lines.push(`  ${text(breakGlassWarning(artifact.breakGlass))}`);
    for (const decision of artifact.decisions ?? []) lines.push(`  ${text(describeDecision(decision))}`);
    for (const [label, value, url] of chainRows(artifact)) {
      lines.push(`  ${label.padEnd(13)} ${text(value)}${url ? ` (${text(url)})` : ''}`);
    }
    for (const check of notPassed(artifact)) lines.push(`  ✗ ${check.id} (${check.verdict}): ${text(check.reason)}`);
  }
  if (report.rejected.length > 0) {
    lines.push('');
    lines.push('bundles that did not verify (never used as evidence), by cause:');
    for (const cause of rejectionCauses(report.rejected)) {
      lines.push(`  ${text(describeRejectionCause(cause))}`);
      lines.push(`    ${text(fileList(cause.sources))}`);
      const hint = rejectionHint(cause);
      if (hint) lines.push(`    hint: ${hint}`);
    }
  }
  lines.push('');
  const refused = report.artifacts.filter((a) => a.verdict === 'fail').length;
  const asOf = report.asOf ? ` AS OF ${report.asOf}` : '';
  lines.push(
    report.verdict === 'pass'
      ? `verdict: accepted${asOf} (${report.artifacts.length} of ${report.artifacts.length} artifacts pass every check)`
      : `verdict: refused${asOf} (${refused} of ${report.artifacts.length} artifacts refused)`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The report as Markdown for a GitHub step summary: one table per artifact, then the checks that did not pass. Every
 * field is data for renderSummary (markdown.ts), the one writer of every summary: nothing in it is read as Markdown.
 */
export function markdownReport(report: DeployReport): string {
  const verdict = report.verdict === 'pass' ? 'accepted' : 'refused';
  const policy = `(sha256 ${report.policy.digest.slice(0, 12)}…), evaluated at ${report.evaluatedAt}.`;
  const rejected = rejectionCauses(report.rejected).map((cause): Inline => {
    const hint = rejectionHint(cause);
    return [`${describeRejectionCause(cause)} (`, { code: fileList(cause.sources) }, `)${hint ? `. ${hint}` : ''}`];
  });
  return renderSummary([
    { heading: `twokey deploy gate: ${verdict}${report.asOf ? ` AS OF ${report.asOf}` : ''}` },
    { paragraph: ['Policy ', { code: report.policy.source }, ` ${policy}`] },
    ...(report.policy.repository
      ? [
          {
            paragraph: [
              'Tightened by the repository policy ',
              { code: report.policy.repository.source },
              ` (sha256 ${report.policy.repository.digest.slice(0, 12)}…).`,
            ],
          },
        ]
      : []),
    ...(report.asOf ? [{ paragraph: `⚠️ ${asOfWarning(report.asOf)}` }] : []),
    ...report.artifacts.flatMap(artifactSummary),
    ...(rejected.length > 0
      ? [{ paragraph: 'Bundles that did not verify (never used as evidence):' }, { list: rejected }]
      : []),
  ]);
}

/** Files as `a, b, c, d, e and 3 more`: every cause keeps to a line; the JSON report lists them all. */
function fileList(sources: readonly string[]): string {
  const shown = sources.slice(0, 5).join(', ');
  return sources.length > 5 ? `${shown} and ${sources.length - 5} more` : shown;
}

/** One artifact in the step summary: its verdict, its chain as a table, then each check that did not pass. */
function artifactSummary(artifact: ArtifactReport): SummaryBlock[] {
  const rows: Inline[][] = [
    ['artifact', { code: artifact.artifact.digest }],
    ...chainRows(artifact).map(([label, value, url]): Inline[] => [label, url ? { text: value, href: url } : value]),
  ];
  const notPassing = notPassed(artifact).map((c): Inline => [{ code: c.id }, ` (${c.verdict}): ${c.reason}`]);
  return [
    {
      heading: `${artifact.verdict === 'pass' ? '✅' : '❌'} ${artifact.artifact.name ?? artifact.artifact.digest}`,
      level: 3,
    },
    ...(artifact.breakGlass ? [{ paragraph: `🚨 ${breakGlassWarning(artifact.breakGlass)}` }] : []),
    { table: { header: ['', ''], rows } },
    ...(notPassing.length > 0 ? [{ paragraph: 'Checks that did not pass:' }, { list: notPassing }] : []),
  ];
}

/** Every check of an artifact that did not pass (failed, or could not be evaluated), as `id (verdict): reason`. */
export function describeNotPassed(artifact: ArtifactReport): string[] {
  return notPassed(artifact).map((c) => `${c.id} (${c.verdict}): ${c.reason}`);
}

/** One decision record read back: `decision record FAILED at T for production (file): checks`. */
export function describeDecision(decision: DecisionSeen): string {
  const where = decision.environment ? ` for ${decision.environment}` : '';
  const bg = decision.breakGlass ? ' UNDER A BREAK-GLASS' : '';
  const failed = decision.failedChecks?.length ? `: refused on ${decision.failedChecks.join(', ')}` : '';
  const repository = decision.repository ? ` in ${decision.repository}` : ' in an unnamed repository';
  return `decision record ${decision.result}${bg} at ${decision.timeVerified}${where} by ${decision.signer}${repository} (${decision.source})${failed}`;
}

/** Said in capitals wherever an artifact accepted under a break-glass is shown. */
export function breakGlassWarning(breakGlass: BreakGlassUsed): string {
  const approvers = breakGlass.approvers.map((a) => a.login).join(', ');
  return `BREAK-GLASS: ACCEPTED WITHOUT AN INDEPENDENT REVIEW, under the break-glass ${breakGlass.source} requested by ${breakGlass.requester.login}, approved by ${approvers}, for ${breakGlass.environment} from ${breakGlass.notBefore} to ${breakGlass.expires} (${breakGlass.incident}): ${breakGlass.reason}`;
}

/** Said wherever a report judged as of another time is shown, so that nobody takes it for a verdict of now. */
function asOfWarning(asOf: string): string {
  return `AS OF ${asOf}: the evidence was judged as of this time (--at), not now; freshness was measured from it`;
}

function notPassed(artifact: ArtifactReport): Check[] {
  return artifact.checks.filter((c) => c.verdict !== 'pass' && c.verdict !== 'waived');
}

/** Whether a check lets its artifact pass: it passed, or a valid break-glass stands in for it. */
export function checkPasses(check: Check): boolean {
  return check.verdict === 'pass' || check.verdict === 'waived';
}

/** `name sha256:HEX`, or the digest alone for an artifact given by digest. */
function shownArtifact(artifact: ArtifactReport): string {
  const { name, digest } = artifact.artifact;
  return name === undefined ? digest : `${name} ${digest}`;
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
    ...(chain.contributors ? [['made by', chain.contributors.join(', ')] as [string, string]] : []),
    ['approvers', chain.approvers.length ? chain.approvers.join(', ') : '(none independent)'],
    ...(artifact.deployApproval
      ? [
          [
            'deploy by',
            `${artifact.deployApproval.approvers.join(', ') || '(nobody)'} for ${artifact.deployApproval.environment}`,
          ] as [string, string],
        ]
      : []),
    ...(artifact.breakGlass ? [['BREAK-GLASS', artifact.breakGlass.source] as [string, string]] : []),
    ['build', chain.buildIdentity ?? unknown],
    ['sign', chain.signIdentity ?? unknown],
    ['verdict', artifact.verdict === 'pass' ? 'accepted' : 'refused'],
  ];
}

/** Terminal-safe: control characters (escape sequences, newlines) become visible `\u…` escapes. */
function text(value: string): string {
  return terminalText(value);
}

/**
 * Text safe to write to a terminal: control characters (escape sequences, carriage returns, newlines), the line and
 * paragraph separators and the bidirectional formatting characters (which reorder what a line shows) become visible
 * `\u…` escapes. For anything a file's name or a bundle's content can put in a line.
 */
/**
 * Text for a GitHub Actions runner's log that may hold what someone else chose (a file's or a bundle's name, a pull
 * request's title, an error GitHub answered), with the runner's workflow commands turned off around it: the runner
 * acts on a `::command::` at a line's start and on the older `##[command]` anywhere in one, so a file named
 * `app##[stop-commands]x` would turn off the step's own annotations, and `##[set-output name=…]` set an output the
 * step never wrote. `::stop-commands::TOKEN` … `::TOKEN::` is GitHub's documented way; the token is fresh and random,
 * so the text cannot know it. Returns the lines to write, without a final newline.
 */
export function withoutWorkflowCommands(text: string, token: string = randomUUID()): string {
  return `::stop-commands::${token}\n${text.endsWith('\n') ? text.slice(0, -1) : text}\n::${token}::`;
}

export function terminalText(value: string): string {
  return value.replace(TERMINAL_ESCAPED, unicodeEscape);
}

/** What terminalText escapes: control characters, the line and paragraph separators, bidirectional formatting. */
const TERMINAL_ESCAPED = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** terminalText line by line: a message's own lines kept, every other control character escaped. */
export function terminalLines(text: string): string {
  return text.split('\n').map(terminalText).join('\n');
}

/**
 * A value as JSON (two-space indented) that is safe to write to a terminal or a runner's log, and reads back as the
 * same value: JSON.stringify escapes U+0000–U+001F only, so the other characters terminalText escapes — DEL, the C1
 * controls (U+009B introduces a control sequence, as ESC [ does), the line and paragraph separators, the
 * bidirectional formatting characters — are written as `\u…` escapes, and `##[` (a workflow command anywhere in a
 * runner's log line) as `#\u0023[`. Outside strings JSON is ASCII without `#`: each stands inside a string, where an
 * escape is the same character (found by the review of what twokey writes).
 */
export function terminalJSON(value: unknown): string {
  // Below U+0020 JSON.stringify has escaped every one in a string: those left are the layout's line breaks.
  return JSON.stringify(value, null, 2)
    .replace(TERMINAL_ESCAPED, (c) => (c < ' ' ? c : unicodeEscape(c)))
    .replace(/##\[/g, '#\\u0023[');
}
