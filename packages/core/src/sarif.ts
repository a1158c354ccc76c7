// SARIF for refusals (docs/sarif.md): the deploy report's checks that did not pass, as a SARIF 2.1.0 log that GitHub
// code scanning accepts. One result per failed or not-evaluated check of each artifact, each anchored to a line of the
// repository: the policy key its rule reads (the repository policy's, then the org policy's), else the workflow's
// `uses:` line, else the nearest parent key, else line 1 of a file — code scanning rejects a whole file for one result
// without a location. Each result carries a fingerprint of the refusal itself (check, artifact, policy), so the same
// refusal is one alert across runs wherever its line moves.

import { createHash } from 'node:crypto';
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import { CodedError } from './error';
import type { Check } from './model';
import { withoutTrailingSlashes } from './provenance';
import { type ArtifactReport, DEPLOY_CHECK_IDS, type DeployCheckId, type DeployReport } from './report';

/** The OASIS schema of SARIF 2.1.0 (errata 01), which every log names and follows. */
export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** Where each rule's help lives: docs/sarif.md has a heading per check id. */
export const SARIF_HELP_URI = 'https://github.com/twokey-dev/twokey/blob/main/docs/sarif.md';

/** Code scanning rejects a run with more results than this (docs: "SARIF results exceed hard limit"). */
export const SARIF_MAX_RESULTS = 25_000;

/** The name under which each result's own fingerprint is kept (the refusal's, independent of its line). */
export const REFUSAL_FINGERPRINT = 'twokeyRefusal/v1';

/** A file a result may be anchored in: its path from the repository's root, as code scanning matches it, and its text. */
export interface SarifSourceFile {
  /** Relative to the repository's root, `/`-separated (e.g. `.twokey/policy.yml`); never absolute, never `..`. */
  path: string;
  text: string;
}

/** A policy file: where it is in its repository, its text, and whether that repository is another one. */
export interface SarifPolicyFile extends SarifSourceFile {
  /**
   * It lives in another repository than the one the log is uploaded to — the org policy of the platform repository,
   * which the deploy action reads from its own commit: no result points into it (code scanning would find no such
   * file), and its `path` there (`.twokey/org-policy.yml`) still names the refusal in fingerprints.
   */
  outsideRepository?: boolean;
}

/** What anchors the results, and who made them. */
export interface SarifOptions {
  /** The org policy the report was judged under (its text must have the report's `policy.digest`). */
  policy: SarifPolicyFile;
  /** The repository policy that tightened it, when the report names one (`policy.repository.digest`). */
  repositoryPolicy?: SarifSourceFile;
  /**
   * The caller's workflow file and the `uses:` of its deploy step or job (e.g. `twokey-dev/twokey@SHA`; matched
   * exactly, else without its `@ref`): the anchor of a check the policies in the repository have no line for.
   */
  workflow?: SarifSourceFile & { uses?: string };
  /** twokey's version, written as the driver's `version` (and `semanticVersion` when it is one). */
  toolVersion: string;
  /**
   * The code scanning category (`runAutomationDetails.id` is `CATEGORY/`). Absent: none is written, and
   * upload-sarif's own `category` input, or its default for the job, applies.
   */
  category?: string;
}

// ── The SARIF this module writes: a subset of SARIF 2.1.0, as GitHub code scanning reads it ─────────────────────────

export interface SarifLog {
  $schema: typeof SARIF_SCHEMA_URI;
  version: '2.1.0';
  runs: [SarifRun];
}

export interface SarifRun {
  tool: { driver: SarifDriver };
  automationDetails?: { id: string };
  originalUriBaseIds: Record<string, { description: { text: string } }>;
  columnKind: 'utf16CodeUnits';
  invocations: [SarifInvocation];
  results: SarifResult[];
  properties: {
    verdict: DeployReport['verdict'];
    evaluatedAt: string;
    asOf?: string;
    policy: DeployReport['policy'];
  };
}

export interface SarifDriver {
  name: 'twokey';
  informationUri: string;
  version: string;
  semanticVersion?: string;
  rules: SarifRule[];
}

export interface SarifRule {
  id: DeployCheckId;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  helpUri: string;
  defaultConfiguration: { level: 'error' };
  properties: { tags: string[]; precision: 'very-high'; 'problem.severity': 'error' };
}

export interface SarifInvocation {
  executionSuccessful: true;
  endTimeUtc: string;
  toolExecutionNotifications?: { level: 'warning'; message: { text: string } }[];
}

export interface SarifResult {
  ruleId: DeployCheckId;
  ruleIndex: number;
  level: 'error';
  message: { text: string };
  locations: [SarifLocation];
  partialFingerprints: { [REFUSAL_FINGERPRINT]: string; primaryLocationLineHash: string };
  properties: { verdict: Check['verdict']; artifact: ArtifactReport['artifact'] };
}

export interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string; uriBaseId: typeof SOURCE_ROOT };
    region: SarifRegion;
  };
}

/** One line of a file: 1-based lines, and columns in UTF-16 code units (`endColumn` is the one after the last). */
export interface SarifRegion {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

export type SarifErrorCode = 'SARIF_PATH_INVALID' | 'SARIF_POLICY_MISMATCH' | 'SARIF_NO_ANCHOR' | 'SARIF_UNKNOWN_CHECK';

/** Options that cannot anchor the report's results truthfully (exit 2). */
export class SarifError extends CodedError<SarifErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'SarifError';
}

// ── The rules: one per deploy check, exhaustive over DeployCheckId ─────────────────────────────────────────────────

interface RuleText {
  name: string;
  short: string;
  full: string;
  /** Markdown; the plain text help is the same without its code spans. */
  help: string;
  /** The policy keys the check reads, most specific first; none when the policy does not configure it. */
  keys: readonly (readonly string[])[];
}

/** Every deploy check's rule: a check id without one fails to compile here. Texts hold no braces (SARIF placeholders). */
const RULES: Record<DeployCheckId, RuleText> = {
  'covered-by-policy': {
    name: 'CoveredByPolicy',
    short: 'The policy covers the artifact',
    full:
      "The policy's deploy.artifacts names the artifact, by its name or its base name, or the policy lists no " +
      'artifacts. Not evaluated when the policy lists deploy.artifacts and the artifact was given by digest alone.',
    help:
      'The deploy gate ships only what the policy says it ships. Add the artifact, or a glob that matches it, to ' +
      '`deploy.artifacts`; an artifact given by digest alone needs its name (`NAME=sha256:HEX`, or `--name`) to be ' +
      'matched. An artifact outside the list is refused even when every other check passes.',
    keys: [['deploy', 'artifacts']],
  },
  'artifact-signature': {
    name: 'ArtifactSignature',
    short: 'The sign identity signed the artifact',
    full:
      "A Sigstore signature over the artifact's sha256 digest by the policy's sign identity (identities.sign). No " +
      'such signature is a failure.',
    help:
      'The sign workflow signs an artifact only once its review passed the rules, so its signature is what says the ' +
      'change was reviewed. Give the gate the bundle made by the workflow `identities.sign` names, over these bytes ' +
      '(an artifact changed after signing has another digest); bundles that did not verify are listed in the ' +
      "report's `rejected`. A signature by any other identity, the build workflow's included, does not count.",
    keys: [['identities', 'sign']],
  },
  'review-attestation': {
    name: 'ReviewAttestation',
    short: 'A review attestation by the sign identity covers the artifact',
    full:
      'A review attestation (https://twokey.dev/attestations/review/v1) signed by the sign identity whose subjects ' +
      "include the artifact's digest. No such attestation is a failure.",
    help:
      'The sign workflow records the review it checked in a review attestation over the artifacts it signs. Give the ' +
      'gate the attestation the workflow `identities.sign` names made for this artifact: one signed by another ' +
      'identity, or made for other artifacts, does not count.',
    keys: [['identities', 'sign']],
  },
  'review-rules': {
    name: 'ReviewRules',
    short: "The attested review meets the policy's review rules",
    full:
      "The review recorded in the review attestation passes the policy's review rules again: the policy's rules, not " +
      'the ones the attestation recorded. Not evaluated when there is no review attestation.',
    help:
      "The change was not reviewed as the policy's `review` rules require. The deploy report's `review.checks` " +
      'names each rule that failed (docs/review-predicate.md): too few independent approvals, an approval given ' +
      'before the last push, changes requested. Merge the change through a pull request an independent reviewer ' +
      'approved on its final commit, then build, sign and deploy it again.',
    keys: [['review']],
  },
  'build-provenance': {
    name: 'BuildProvenance',
    short: "The build identity's SLSA provenance covers the artifact",
    full:
      "SLSA v1 provenance (https://slsa.dev/provenance/v1) signed by the policy's build identity (identities.build) " +
      "whose subjects include the artifact's digest. No such provenance is a failure.",
    help:
      'The artifact must come from the build workflow `identities.build` names, which attests its provenance. Give ' +
      'the gate that provenance bundle: provenance by another workflow, or for other bytes, does not count.',
    keys: [['identities', 'build']],
  },
  'same-commit': {
    name: 'SameCommit',
    short: 'The review and the build are of the same commit',
    full:
      "The review attestation was made for the commit that was built, on the branch it was built on, as the build's " +
      'certificate says. Not evaluated when there is no review attestation or no provenance.',
    help:
      'The artifact was built from a commit, or on a branch, other than the one that was reviewed: a review replayed ' +
      'onto another build. Build the reviewed commit on the branch it was merged into, and sign that build.',
    keys: [],
  },
  'same-repository': {
    name: 'SameRepository',
    short: 'All the evidence names one bound repository',
    full:
      'The provenance, the build certificate, the review attestation and the sign certificates name one repository, ' +
      'and the deploy is bound to it (deploy.repositories, else the deploying repository). Not evaluated when there ' +
      'is no review attestation or no provenance.',
    help:
      'The evidence comes from more than one repository, or from a repository this deploy does not ship. A ' +
      'deployment repository that ships several applications lists them in `deploy.repositories`; otherwise a ' +
      "deploy ships only its own repository's changes.",
    keys: [['deploy', 'repositories']],
  },
  'distinct-identities': {
    name: 'DistinctIdentities',
    short: 'Build, sign and deploy ran under different identities',
    full:
      'The build, sign and deploy identities are three different workflow identities. Not evaluated when there is ' +
      'no provenance, or neither a signature nor a review attestation.',
    help:
      'One workflow played two parts, so nobody else checked it. Keep the build and sign workflows `identities` ' +
      'names apart, and run the deploy from neither of them.',
    keys: [['identities']],
  },
  fresh: {
    name: 'Fresh',
    short: 'All the evidence was signed within deploy.max-age',
    full:
      'Every piece of evidence was signed, by its verified signing time, within deploy.max-age of the evaluation ' +
      'time (or of the time given with --at). Not evaluated when there is no evidence.',
    help:
      'Evidence older than `deploy.max-age` (default 30d), with no verified signing time, or signed in the future is ' +
      'refused: an old approval does not stand for ever. Build, sign and deploy the artifact again.',
    keys: [['deploy', 'max-age']],
  },
  'deploy-approval': {
    name: 'DeployApproval',
    short: 'The deploy was approved as the policy requires',
    full:
      "The approvals of the deploy job's GitHub environment meet the policy's deploy.approvals: enough approvers who " +
      "count, each distinct from whom it names (by default the change's author, its contributors and its last " +
      'pusher), never a bot, and prevent self-review turned on when it is required.',
    help:
      'The environment approval of this deploy does not meet `deploy.approvals`. Have a reviewer who counts (not the ' +
      "change's author, a contributor or its pusher, nor a bot) approve the deploy in its environment, and turn on " +
      'prevent self-review if the policy requires it. `twokey verify` judges the signed deploy-approval attestation ' +
      'under the same rules.',
    keys: [['deploy', 'approvals']],
  },
  'break-glass': {
    name: 'BreakGlass',
    short: 'A break-glass, when one is used, is valid',
    full:
      "A break-glass attestation stands in for the review's checks only when the break-glass identity " +
      '(identities.break-glass) signed it, within its window and deploy.break-glass.max-duration, for this ' +
      'environment, in one deploy run of that environment, approved by people other than its requester and anyone who ' +
      'made the change (wrote, committed, co-authored, opened or pushed it).',
    help:
      'The break-glass given for this artifact cannot be used; the reason says why: expired, for another artifact or ' +
      'environment, used before, approved only by its requester, or signed by an identity other than the break-glass ' +
      'workflow `identities.break-glass` names. Request a new break-glass, or deploy the change after an independent ' +
      'review.',
    keys: [
      ['deploy', 'break-glass'],
      ['identities', 'break-glass'],
    ],
  },
};

const RULE_TAGS = ['security', 'supply-chain', 'segregation-of-duties'];

/** The base every location's relative URI is resolved against: the repository's root (the checkout). */
const SOURCE_ROOT = '%SRCROOT%';

/** The driver's rules, in DEPLOY_CHECK_IDS order (a result's `ruleIndex` is its check's index there). */
export function sarifRules(): SarifRule[] {
  return DEPLOY_CHECK_IDS.map((id) => {
    const rule = RULES[id];
    return {
      id,
      name: rule.name,
      shortDescription: { text: rule.short },
      fullDescription: { text: rule.full },
      help: { text: rule.help.replaceAll('`', ''), markdown: rule.help },
      helpUri: `${SARIF_HELP_URI}#${id}`,
      defaultConfiguration: { level: 'error' },
      properties: { tags: [...RULE_TAGS], precision: 'very-high', 'problem.severity': 'error' },
    };
  });
}

// ── The log ─────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The deploy report as a SARIF 2.1.0 log for GitHub code scanning: one `error` result per check of an artifact that
 * did not pass (`fail` or `not-evaluated`; a `pass` or any other verdict is none), anchored as the module says, with a
 * fingerprint of the refusal. A passing report gives a log with every rule and no result, which closes the alerts of
 * an earlier refusal. Throws SarifError when the options cannot anchor the results truthfully.
 */
export function deployReportToSarif(report: DeployReport, options: SarifOptions): SarifLog {
  const anchors = ruleAnchors(report, options);
  const policyPath = repositoryPath(options.policy.path, 'the policy');
  const refusals = report.artifacts.flatMap((artifact) =>
    artifact.checks.filter(isRefusal).map((check) => refusalResult(artifact, check, anchors, policyPath)),
  );
  const results = refusals.slice(0, SARIF_MAX_RESULTS);
  const leftOut = refusals.length - results.length;
  const semantic = SEMVER.test(options.toolVersion);
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'twokey',
            informationUri: 'https://github.com/twokey-dev/twokey',
            version: options.toolVersion,
            ...(semantic && { semanticVersion: options.toolVersion }),
            rules: sarifRules(),
          },
        },
        ...(options.category && { automationDetails: { id: `${withoutTrailingSlashes(options.category)}/` } }),
        originalUriBaseIds: { [SOURCE_ROOT]: { description: { text: "The repository's root (the checkout)." } } },
        columnKind: 'utf16CodeUnits',
        invocations: [
          {
            executionSuccessful: true,
            endTimeUtc: report.evaluatedAt,
            ...(leftOut > 0 && {
              toolExecutionNotifications: [
                {
                  level: 'warning',
                  message: {
                    text: plainText(
                      `${leftOut} more refusals left out: code scanning takes at most ${SARIF_MAX_RESULTS} results a run; the deploy report lists them all`,
                    ),
                  },
                },
              ],
            }),
          },
        ],
        results,
        properties: {
          verdict: report.verdict,
          evaluatedAt: report.evaluatedAt,
          ...(report.asOf !== undefined && { asOf: report.asOf }),
          policy: structuredClone(report.policy),
        },
      },
    ],
  };
}

/** A check that refuses its artifact: `fail` or `not-evaluated`; `pass` and any verdict to come (`waived`) are not. */
function isRefusal(check: Check): boolean {
  return check.verdict === 'fail' || check.verdict === 'not-evaluated';
}

function refusalResult(
  artifact: ArtifactReport,
  check: Check,
  anchors: ReadonlyMap<string, SarifLocation>,
  policyPath: string,
): SarifResult {
  const location = anchors.get(check.id);
  if (!location) {
    throw new SarifError(
      'SARIF_UNKNOWN_CHECK',
      `the report has a check ${JSON.stringify(check.id)}, expected one of ${DEPLOY_CHECK_IDS.join(', ')}: not a deploy report of this version`,
    );
  }
  const id = check.id as DeployCheckId;
  const fingerprint = refusalFingerprint(id, artifact.artifact, policyPath);
  return {
    ruleId: id,
    ruleIndex: DEPLOY_CHECK_IDS.indexOf(id),
    level: 'error',
    message: { text: plainText(refusalMessage(artifact, check)) },
    locations: [structuredClone(location)],
    partialFingerprints: {
      [REFUSAL_FINGERPRINT]: fingerprint,
      // Code scanning matches alerts by this one alone: the refusal's, so that two artifacts refused on one line
      // stay two alerts, and an edit that moves the line keeps the alert.
      primaryLocationLineHash: `${fingerprint.slice(0, 16)}:1`,
    },
    properties: { verdict: check.verdict, artifact: artifact.artifact },
  };
}

/** `Refused NAME (sha256:HEX): reason` — code scanning shows the first sentence as the alert's title. */
function refusalMessage(artifact: ArtifactReport, check: Check): string {
  const { name, digest } = artifact.artifact;
  const shown = name === undefined ? digest : `${name} (${digest})`;
  return check.verdict === 'not-evaluated'
    ? `Refused ${shown}: ${check.id} could not be evaluated: ${check.reason}`
    : `Refused ${shown}: ${check.reason}`;
}

/** sha256 of the check, the artifact and the policy's path: the same refusal, the same fingerprint, on any line. */
function refusalFingerprint(id: DeployCheckId, artifact: ArtifactReport['artifact'], policyPath: string): string {
  const identity = JSON.stringify([id, artifact.name ?? null, artifact.digest, policyPath]);
  return createHash('sha256').update(identity, 'utf8').digest('hex');
}

/**
 * Text from the report (reasons, artifact names) as a SARIF plain text message: braces doubled (a `{0}` would be a
 * placeholder), and no `[text](destination)` left whole, which a viewer would render as a link to wherever a
 * pull request title or an attestation said.
 */
function plainText(text: string): string {
  return text.replace(/[{}]/g, '$&$&').replaceAll('](', '] (');
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

// ── Anchors: where in the repository each rule's results point ─────────────────────────────────────────────────────

/** A YAML file read for its lines. */
interface YamlFile {
  path: string;
  uri: string;
  digest: string;
  text: string;
  doc: Document;
  lines: LineCounter;
}

/** The files of the repository a result may point into, and the fallback when no key or `uses:` line is found. */
interface Anchors {
  /** The policies in the repository, the repository policy first: the one that tightened is the one in force. */
  policies: YamlFile[];
  /** The workflow's deploy `uses:` line. */
  uses?: SarifLocation;
  /** Line 1 of the org policy, else of the repository policy, else of the workflow. */
  lastResort: SarifLocation;
}

/**
 * Each rule's location, the same for every artifact: the line of its policy key in the repository policy, then in the
 * org policy; else the workflow's `uses:` line; else the nearest parent key of its first key; else line 1 of a file.
 * A policy whose text is not the one the report was judged under is refused: its lines would point at other keys.
 */
function ruleAnchors(report: DeployReport, options: SarifOptions): Map<string, SarifLocation> {
  const org = yamlFile(options.policy, 'the policy');
  if (org.digest !== report.policy.digest) {
    throw new SarifError(
      'SARIF_POLICY_MISMATCH',
      `${options.policy.path}: expected the policy the report was judged under (sha256 ${report.policy.digest}), found sha256 ${org.digest}`,
    );
  }
  const repository = options.repositoryPolicy && yamlFile(options.repositoryPolicy, 'the repository policy');
  if (repository && repository.digest !== report.policy.repository?.digest) {
    const expected = report.policy.repository ? `sha256 ${report.policy.repository.digest}` : 'the report names none';
    throw new SarifError(
      'SARIF_POLICY_MISMATCH',
      `${repository.path}: expected the repository policy the report was judged under (${expected}), found sha256 ${repository.digest}`,
    );
  }
  const workflow = options.workflow && yamlFile(options.workflow, 'the workflow');
  const policies = [repository, options.policy.outsideRepository ? undefined : org].filter((f) => f !== undefined);
  const uses =
    workflow && options.workflow?.uses !== undefined ? usesLocation(workflow, options.workflow.uses) : undefined;
  const first = [...policies, workflow].find((f) => f !== undefined);
  if (!first) {
    throw new SarifError(
      'SARIF_NO_ANCHOR',
      `${options.policy.path} is outside the repository, and no repository policy or workflow was given: code scanning rejects a result that points nowhere`,
    );
  }
  const anchors: Anchors = { policies, ...(uses && { uses }), lastResort: lineLocation(first, 0) };
  return new Map(DEPLOY_CHECK_IDS.map((id) => [id, ruleAnchor(RULES[id].keys, anchors)]));
}

function ruleAnchor(keys: RuleText['keys'], { policies, uses, lastResort }: Anchors): SarifLocation {
  for (const path of keys) {
    for (const file of policies) {
      const found = keyOffset(file.doc, path);
      if (found && found.depth === path.length) return lineLocation(file, found.offset);
    }
  }
  if (uses) return uses;
  const first = keys[0];
  if (first) {
    for (const file of policies) {
      const found = keyOffset(file.doc, first);
      if (found) return lineLocation(file, found.offset);
    }
  }
  return lastResort;
}

/** The deepest key of `path` in the document's mappings: its offset and how many keys of the path it matched. */
function keyOffset(doc: Document, path: readonly string[]): { offset: number; depth: number } | undefined {
  let node = doc.contents as Node | null;
  let found: { offset: number; depth: number } | undefined;
  for (const [depth, key] of path.entries()) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    const offset = (pair?.key as Node | undefined)?.range?.[0];
    if (!pair || offset === undefined) break;
    found = { offset, depth: depth + 1 };
    node = pair.value as Node | null;
  }
  return found;
}

/** The workflow's `uses:` line for the deploy: the value given, else the same action or workflow at any ref. */
function usesLocation(file: YamlFile, uses: string): SarifLocation | undefined {
  const withoutRef = (value: string) => value.split('@')[0];
  let exact: number | undefined;
  let sameAction: number | undefined;
  visit(file.doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'uses' || !isScalar(pair.value)) return;
      const value = String(pair.value.value);
      const offset = (pair.key as Node).range?.[0];
      if (offset === undefined) return;
      if (value === uses) {
        exact = offset;
        return visit.BREAK;
      }
      if (sameAction === undefined && withoutRef(value) === withoutRef(uses)) sameAction = offset;
    },
  });
  const offset = exact ?? sameAction;
  return offset === undefined ? undefined : lineLocation(file, offset);
}

/** The line at `offset`, from that column to its last character that is not a space. */
function lineLocation(file: YamlFile, offset: number): SarifLocation {
  const { line, col } = file.lines.linePos(offset);
  const start = file.lines.lineStarts[line - 1] ?? 0;
  const next = file.lines.lineStarts[line] ?? file.text.length;
  const content = file.text.slice(start, next).trimEnd();
  return {
    physicalLocation: {
      artifactLocation: { uri: file.uri, uriBaseId: SOURCE_ROOT },
      region: { startLine: line, startColumn: col, endLine: line, endColumn: Math.max(col, content.length + 1) },
    },
  };
}

function yamlFile(source: SarifSourceFile, what: string): YamlFile {
  const lines = new LineCounter();
  // Only the first document is a policy; a text that is not YAML still has a line 1.
  const doc = parseDocument(source.text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const path = repositoryPath(source.path, what);
  return { path, uri: uriOf(path), digest: sha256(source.text), text: source.text, doc, lines };
}

/** A path from the repository's root, without `./`; code scanning matches no other (an absolute path, `..`, `\`). */
function repositoryPath(path: string, what: string): string {
  const relative = path.replace(/^(?:\.\/)+/, '');
  const segments = relative.split('/');
  if (/^[A-Za-z]:|\\/.test(relative) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new SarifError(
      'SARIF_PATH_INVALID',
      `${what} ${JSON.stringify(path)}: expected a path relative to the repository's root, such as .twokey/policy.yml`,
    );
  }
  return relative;
}

/** A relative path as a URI reference: each segment percent-encoded (a space, `#`, `%`, `?` stay part of the name). */
function uriOf(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
