// The policy file (.twokey/policy.yml): parsed from YAML, validated against policy.schema.json with ajv, then
// turned into the typed Policy every decision reads. Anything unknown, mistyped or ambiguous is an error that names
// the file and the key, because a policy that silently means less than it says is how a gate gets bypassed.

import { createHash } from 'node:crypto';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { type Document, isAlias, isCollection, isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { CodedError } from './error';
import {
  compileIdentityPattern,
  type IdentityPattern,
  IdentityPatternError,
  MAX_MATCHED_SAN_LENGTH,
} from './identity-pattern';
import type { IdentityRule, ReviewRules, SignerIdentity } from './model';
import { compileNameGlob, coveredBy, NameGlobError } from './name-glob';
import policySchema from './policy.schema.json' with { type: 'json' };
import { withoutTrailingSlashes } from './provenance';
import { DEFAULT_MIN_SECONDS_AFTER_PUSH } from './review';
import validatePolicy from './validators/policy.validate.js';

/** The policy, typed and with every default applied. */
export interface Policy {
  /** Where it was read from (a path), for messages and reports: the org policy. */
  source: string;
  /** sha256 (hex) of the file's text, recorded in reports and decision records. */
  digest: string;
  /** The repository policy that tightened it (parseRepositoryPolicy), if any: its path and the sha256 of its text. */
  repository?: { source: string; digest: string };
  version: 1;
  identities: { build: IdentityRule; sign: IdentityRule; deploy?: IdentityRule; breakGlass?: IdentityRule };
  review: ReviewRules;
  deploy: {
    /** Approvals of the deploy job's environment the gate requires (deploy-approval.ts). */
    approvals: DeployApprovalRules;
    /** How a break-glass attestation may stand in for the review rules (break-glass.ts). */
    breakGlass: { maxDurationSeconds: number; minApprovers: number };
    /** Oldest acceptable evidence, in seconds, from its verified signing time. */
    maxAgeSeconds: number;
    /** `public-good` or a path to a trusted_root.json, as written in the file. */
    trustedRoot?: string;
    /** Names or globs of the artifacts the policy covers, as written in the file. */
    artifacts?: string[];
    /** The repositories (`owner/name`) whose chains this policy deploys; absent: the caller binds one. */
    repositories?: string[];
  };
  /** Thresholds on `twokey report`'s indicators (sod-metrics.ts); absent when the policy sets none. */
  report?: ReportThresholds;
}

/**
 * The `report:` keys: limits on the segregation-of-duties indicators (docs/sod-report.md), each optional. A `max-`
 * fails when the indicator is above it, a `min-` when below; rates are shares (0–1), latencies seconds.
 */
export interface ReportThresholds {
  maxUnapprovedRate?: number;
  maxReviewLatencyP90Seconds?: number;
  maxPrivilegedApprovalShare?: number;
  maxAuditGaps?: number;
  maxApprovalReuse?: number;
  maxBreakGlassPerMonth?: number;
  maxBreakGlassWithoutFollowUp?: number;
  maxTopApproverShare?: number;
  minDeploySuccessRate?: number;
  /**
   * The shortest window, in seconds, the report action (the platform's scheduled report) may count over: a shorter
   * `period`, `since` or `until` is refused (report.min-period). Not an indicator: no pass/fail line.
   */
  minPeriodSeconds?: number;
}

/** Each threshold: its policy key, its field, and whether it is an upper (`max`) or lower (`min`) limit. */
export const REPORT_THRESHOLD_KEYS = [
  { key: 'max-unapproved-rate', field: 'maxUnapprovedRate', bound: 'max' },
  { key: 'max-review-latency-p90', field: 'maxReviewLatencyP90Seconds', bound: 'max' },
  { key: 'max-privileged-approval-share', field: 'maxPrivilegedApprovalShare', bound: 'max' },
  { key: 'max-audit-gaps', field: 'maxAuditGaps', bound: 'max' },
  { key: 'max-approval-reuse', field: 'maxApprovalReuse', bound: 'max' },
  { key: 'max-break-glass-per-month', field: 'maxBreakGlassPerMonth', bound: 'max' },
  { key: 'max-break-glass-without-follow-up', field: 'maxBreakGlassWithoutFollowUp', bound: 'max' },
  { key: 'max-top-approver-share', field: 'maxTopApproverShare', bound: 'max' },
  { key: 'min-deploy-success-rate', field: 'minDeploySuccessRate', bound: 'min' },
] as const satisfies readonly { key: string; field: keyof ReportThresholds; bound: 'max' | 'min' }[];

/** A reciprocal pair is named as suspected collusion when each gives the other at least this share of approvals,
 * unless the policy's max-top-approver-share sets another (M9). */
export const DEFAULT_COLLUSION_SHARE = 0.8;

/**
 * The thresholds that take effect when no policy sets them (the report applies the default, not "no limit"): a
 * repository policy is compared with, and merged into, the org policy's value or this default.
 */
const REPORT_THRESHOLD_DEFAULTS: Partial<Record<keyof ReportThresholds, number>> = {
  maxTopApproverShare: DEFAULT_COLLUSION_SHARE,
};

/** A `report:` key as the policy file spells it. */
export type ReportThresholdKey = (typeof REPORT_THRESHOLD_KEYS)[number]['key'];

/** Error codes of parsePolicy: the text is not YAML, or it is YAML that is not a valid policy. */
export type PolicyErrorCode = 'POLICY_SYNTAX' | 'POLICY_INVALID';

/** One thing wrong with a policy: the key path (`identities.build.san`), what is wrong, and the line when known. */
export interface PolicyProblem {
  path: string;
  message: string;
  line?: number;
}

/**
 * A policy that cannot be used. `message` names the file, each key and what is wrong with it, one per line: the
 * first MAX_REPORTED_PROBLEMS, then how many more.
 */
export class PolicyError extends CodedError<PolicyErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'PolicyError';
  readonly problems: PolicyProblem[];

  constructor(
    code: PolicyErrorCode,
    readonly source: string,
    problems: PolicyProblem[],
  ) {
    const more = problems.length - MAX_REPORTED_PROBLEMS;
    const reported =
      more > 0
        ? [...problems.slice(0, MAX_REPORTED_PROBLEMS), { path: '(policy)', message: `and ${more} more problems` }]
        : problems;
    super(
      code,
      reported.map((p) => `${source}: ${p.path}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`).join('\n'),
    );
    this.problems = reported;
  }
}

/**
 * Longest policy text, in characters: a policy is a few KiB (every list at its bound, ~50 KiB), and yaml takes
 * 2–3 ms a KiB to parse.
 */
export const MAX_POLICY_LENGTH = 128 * 1024;

/** Deepest nesting of mappings and lists in a policy; a valid policy is 4 deep. */
export const MAX_POLICY_DEPTH = 16;

/** Problems listed in one PolicyError; the rest are counted. */
export const MAX_REPORTED_PROBLEMS = 20;

/** The only YAML tags a policy may carry, explicitly or not: the core schema's plain values. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** The JSON Schema the policy file is validated against (draft 2020-12). */
export const POLICY_SCHEMA = policySchema;

/**
 * Default review rules (issue 4): one independent approval, on the merged head and at least 30 s after its last push,
 * no bots, changes requested blocks.
 */
export const DEFAULT_REVIEW_RULES: ReviewRules = {
  minApprovals: 1,
  allowBots: false,
  requireApprovalOnHead: true,
  changesRequestedBlocks: true,
  unidentifiedCoAuthors: 'refuse',
  nonHumanCoAuthors: [],
  allowActivityFallback: false,
  allowNonDefaultBranches: false,
  minSecondsAfterPush: DEFAULT_MIN_SECONDS_AFTER_PUSH,
  botPushers: [],
};

/** Whom a deploy approver may not be (deploy.approvals.distinct-from). */
export type DeployApproverExclusion = 'author' | 'contributors' | 'pusher' | 'code-approvers' | 'requester';

export interface DeployApprovalRules {
  min: number;
  distinctFrom: DeployApproverExclusion[];
  requirePreventSelfReview: boolean;
}

/** Default deploy.approvals: none required; when required, distinct from the change's author, contributors, pusher. */
export const DEFAULT_DEPLOY_APPROVAL_RULES: DeployApprovalRules = {
  min: 0,
  distinctFrom: ['author', 'contributors', 'pusher'],
  requirePreventSelfReview: false,
};

/** Default deploy.break-glass: a window of at most 24 hours, one approver besides the requester and the author. */
export const DEFAULT_BREAK_GLASS_RULES = { maxDurationSeconds: 24 * 60 * 60, minApprovers: 1 };

/** Default `deploy.max-age`: 30 days. */
export const DEFAULT_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

interface PolicyDocument {
  version: 1;
  identities: {
    build: IdentityDocument;
    sign: IdentityDocument;
    deploy?: IdentityDocument;
    'break-glass'?: IdentityDocument;
  };
  review?: {
    'min-approvals'?: number;
    'allow-bots'?: boolean;
    'require-approval-on-head'?: boolean;
    'changes-requested-blocks'?: boolean;
    'protected-branches'?: string[];
    'unidentified-co-authors'?: 'refuse' | 'allow';
    'non-human-co-authors'?: string[];
    'allow-activity-fallback'?: boolean;
    'allow-non-default-branches'?: boolean;
    'min-seconds-after-push'?: number;
    'bot-pushers'?: string[];
    'reviewed-history'?: boolean;
    'history-since'?: string;
  };
  deploy?: {
    'max-age'?: number | string;
    'trusted-root'?: string;
    approvals?: { min?: number; 'distinct-from'?: DeployApproverExclusion[]; 'require-prevent-self-review'?: boolean };
    'break-glass'?: { 'max-duration'?: number | string; 'min-approvers'?: number };
    artifacts?: string[];
    repositories?: string[];
  };
  report?: Partial<Record<ReportThresholdKey | 'min-period', number | string>>;
}

interface IdentityDocument {
  issuer: string;
  san?: string | string[];
  'san-pattern'?: string;
  'source-repository'?: string;
  'runner-environment'?: 'github-hosted' | 'any';
  triggers?: string[];
  workflows?: string[];
}

/** Parses and validates a policy file's text; `source` (the path) is used in every message. Throws PolicyError. */
export function parsePolicy(text: string, source: string): Policy {
  const read = readPolicyData(text, source);
  validateDocument(read.data, read, source);
  return policyFromDocument(read.data as unknown as PolicyDocument, read, text, source);
}

/** A policy's YAML, read: the document (for lines) and its plain data, a mapping. */
interface PolicyData {
  doc: Document;
  lines: LineCounter;
  data: Record<string, unknown>;
}

/** The YAML of a policy file (or a repository policy), read into plain data with every YAML-level check. */
function readPolicyData(text: string, source: string): PolicyData {
  if (text.length > MAX_POLICY_LENGTH) {
    throw new PolicyError('POLICY_INVALID', source, [
      {
        path: '(document)',
        message: `${text.length} characters, more than the ${MAX_POLICY_LENGTH} a policy may have`,
      },
    ]);
  }
  const lines = new LineCounter();
  // Keys are checked for uniqueness below, in one pass: yaml's own check compares every pair (20,000 keys: 3 s).
  // Known tags beyond the core schema (!!binary, !!set, !!timestamp…) stay unresolved, so yaml warns at each.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: true,
    uniqueKeys: false,
    resolveKnownTags: false,
  });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      'POLICY_SYNTAX',
      source,
      doc.errors.map((e) => ({
        path: '(yaml)',
        message:
          e.code === 'RESOURCE_EXHAUSTION'
            ? `nested too deeply to read (a policy may nest ${MAX_POLICY_DEPTH} levels)`
            : e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        line: e.linePos?.[0]?.line,
      })),
    );
  }
  const shape = yamlProblems(doc, lines);
  if (shape.length > 0) throw new PolicyError('POLICY_SYNTAX', source, shape);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    throw new PolicyError('POLICY_SYNTAX', source, [{ path: '(yaml)', message: String((error as Error).message) }]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new PolicyError('POLICY_INVALID', source, [
      {
        path: '(root)',
        message: `expected a mapping of keys (version, identities, review, deploy, report), found ${kindOf(data)}`,
      },
    ]);
  }
  return { doc, lines, data: data as Record<string, unknown> };
}

/** Validates data against policy.schema.json; throws PolicyError naming each key (with its line in `read`). */
function validateDocument(data: unknown, read: PolicyData, source: string): void {
  const validate = policyValidator();
  if (!validate(data)) {
    // Lines only for the problems the message lists: each lookup walks a mapping's keys.
    const problems = schemaProblems(validate.errors ?? [], data).map((p, i) =>
      i < MAX_REPORTED_PROBLEMS ? { ...p, line: lineOf(read.doc.contents, p.path, read.lines) } : p,
    );
    throw new PolicyError('POLICY_INVALID', source, problems);
  }
}

/** The typed Policy of a valid document, after the checks the schema cannot express. */
function policyFromDocument(document: PolicyDocument, read: PolicyData, text: string, source: string): Policy {
  const problems: PolicyProblem[] = [];
  const build = identityRule(document.identities.build, 'identities.build', problems);
  const sign = identityRule(document.identities.sign, 'identities.sign', problems);
  const deployDocument = document.identities.deploy;
  const deployer = deployDocument && identityRule(deployDocument, 'identities.deploy', problems);
  const breakGlassDocument = document.identities['break-glass'];
  const breakGlass = breakGlassDocument && identityRule(breakGlassDocument, 'identities.break-glass', problems);
  if (problems.length === 0) problems.push(...overlappingIdentities(build, sign));
  if (problems.length === 0 && breakGlass) {
    // A fourth identity: the break-glass workflow may be neither the build nor the sign workflow.
    problems.push(
      ...overlappingIdentities(build, breakGlass, 'build', 'break-glass'),
      ...overlappingIdentities(sign, breakGlass, 'sign', 'break-glass'),
    );
  }
  if (problems.length === 0 && deployer) {
    problems.push(
      ...overlappingIdentities(build, deployer, 'build', 'deploy'),
      ...overlappingIdentities(sign, deployer, 'sign', 'deploy'),
      ...(breakGlass ? overlappingIdentities(deployer, breakGlass, 'deploy', 'break-glass') : []),
    );
  }
  problems.push(...documentGlobProblems(document), ...botPusherProblems(document), ...historyProblems(document));
  throwProblems(problems, read, source);

  const review = document.review ?? {};
  const historySince = historySinceOf(review['history-since']);
  const deploy = document.deploy ?? {};
  return {
    source,
    digest: sha256Hex(text),
    version: 1,
    identities: { build, sign, ...(deployer && { deploy: deployer }), ...(breakGlass && { breakGlass }) },
    review: {
      minApprovals: review['min-approvals'] ?? DEFAULT_REVIEW_RULES.minApprovals,
      allowBots: review['allow-bots'] ?? DEFAULT_REVIEW_RULES.allowBots,
      requireApprovalOnHead: review['require-approval-on-head'] ?? DEFAULT_REVIEW_RULES.requireApprovalOnHead,
      changesRequestedBlocks: review['changes-requested-blocks'] ?? DEFAULT_REVIEW_RULES.changesRequestedBlocks,
      ...(review['protected-branches'] !== undefined && { protectedBranches: review['protected-branches'] }),
      unidentifiedCoAuthors: review['unidentified-co-authors'] ?? DEFAULT_REVIEW_RULES.unidentifiedCoAuthors,
      nonHumanCoAuthors: (review['non-human-co-authors'] ?? []).map((email) => email.toLowerCase()),
      allowActivityFallback: review['allow-activity-fallback'] ?? DEFAULT_REVIEW_RULES.allowActivityFallback,
      allowNonDefaultBranches: review['allow-non-default-branches'] ?? DEFAULT_REVIEW_RULES.allowNonDefaultBranches!,
      minSecondsAfterPush: review['min-seconds-after-push'] ?? DEFAULT_MIN_SECONDS_AFTER_PUSH,
      botPushers: (review['bot-pushers'] ?? []).map((login) => login.toLowerCase()),
      // Only when set: review attestations and fixtures without the rule keep their recorded rules as they were.
      ...(review['reviewed-history'] === true && { reviewedHistory: true }),
      ...(historySince !== undefined && { historySince }),
    },
    deploy: {
      approvals: {
        min: deploy.approvals?.min ?? DEFAULT_DEPLOY_APPROVAL_RULES.min,
        distinctFrom: [...new Set(deploy.approvals?.['distinct-from'] ?? DEFAULT_DEPLOY_APPROVAL_RULES.distinctFrom)],
        requirePreventSelfReview:
          deploy.approvals?.['require-prevent-self-review'] ?? DEFAULT_DEPLOY_APPROVAL_RULES.requirePreventSelfReview,
      },
      breakGlass: {
        maxDurationSeconds:
          deploy['break-glass']?.['max-duration'] === undefined
            ? DEFAULT_BREAK_GLASS_RULES.maxDurationSeconds
            : parseDuration(deploy['break-glass']['max-duration']),
        minApprovers: deploy['break-glass']?.['min-approvers'] ?? DEFAULT_BREAK_GLASS_RULES.minApprovers,
      },
      maxAgeSeconds: deploy['max-age'] === undefined ? DEFAULT_MAX_AGE_SECONDS : parseDuration(deploy['max-age']),
      ...(deploy['trusted-root'] !== undefined && { trustedRoot: deploy['trusted-root'] }),
      ...(deploy.artifacts !== undefined && { artifacts: deploy.artifacts }),
      ...(deploy.repositories !== undefined && { repositories: deploy.repositories }),
    },
    ...(document.report !== undefined && { report: reportThresholds(document.report) }),
  };
}

/** The `report:` keys as thresholds (a latency read as a duration). */
function reportThresholds(document: NonNullable<PolicyDocument['report']>): ReportThresholds {
  const thresholds: ReportThresholds = {};
  for (const { key, field } of REPORT_THRESHOLD_KEYS) {
    const value = document[key];
    if (value !== undefined) thresholds[field] = parseDuration(value);
  }
  if (document['min-period'] !== undefined) thresholds.minPeriodSeconds = parseDuration(document['min-period']);
  return thresholds;
}

/**
 * The stricter of two sets of thresholds, key by key: the lower `max-`, the higher `min-` (a key the org policy does not
 * set compared with its default, where the report applies one).
 */
function tighterThresholds(org: ReportThresholds | undefined, repository: ReportThresholds): ReportThresholds {
  const merged: ReportThresholds = { ...org };
  for (const { field, bound } of REPORT_THRESHOLD_KEYS) {
    const own = repository[field];
    if (own === undefined) continue;
    const theirs = merged[field] ?? REPORT_THRESHOLD_DEFAULTS[field];
    merged[field] = theirs === undefined ? own : bound === 'max' ? Math.min(theirs, own) : Math.max(theirs, own);
  }
  if (repository.minPeriodSeconds !== undefined) {
    merged.minPeriodSeconds = Math.max(merged.minPeriodSeconds ?? 0, repository.minPeriodSeconds);
  }
  return merged;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The org policy tightened by a repository's own policy (`.twokey/policy.yml` on the repository's default branch),
 * which may only make it stricter: more approvals, a longer wait after a push, a shorter max-age, fewer protected
 * branches, artifacts or repositories, a permission turned off. It names no identity and no trusted root: those are the
 * org's. Every key that would loosen the org policy is an error naming the key and the org policy (README, "For
 * platform teams").
 */
export function parseRepositoryPolicy(text: string, source: string, org: Policy): Policy {
  const read = readPolicyData(text, source);
  const problems: PolicyProblem[] = [];
  for (const key of ['identities'] as const) {
    if (key in read.data) {
      problems.push({
        path: key,
        message: `a repository policy may not name identities: they are the org policy's (${org.source})`,
      });
    }
  }
  const deployData = read.data.deploy;
  if (deployData && typeof deployData === 'object' && 'trusted-root' in deployData) {
    problems.push({
      path: 'deploy.trusted-root',
      message: `a repository policy may not choose the trusted root: it is the org policy's (${org.source})`,
    });
  }
  if (deployData && typeof deployData === 'object' && 'break-glass' in deployData) {
    problems.push({
      path: 'deploy.break-glass',
      message: `a repository policy may not set how break-glass works: it is the org policy's (${org.source})`,
    });
  }
  throwProblems(problems, read, source);
  // The same schema as an org policy, with the org's identities standing in for the ones a repository may not name.
  validateDocument({ ...read.data, identities: STAND_IN_IDENTITIES }, read, source);
  const document = read.data as Pick<PolicyDocument, 'review' | 'deploy' | 'report'>;
  problems.push(...documentGlobProblems(document), ...historyProblems(document, org));
  if (problems.length === 0) problems.push(...loosenings(document, org));
  throwProblems(problems, read, source);
  const review = document.review ?? {};
  const historySince = historySinceOf(review['history-since']);
  const deploy = document.deploy ?? {};
  return {
    ...org,
    repository: { source, digest: sha256Hex(text) },
    review: {
      ...org.review,
      ...(review['min-approvals'] !== undefined && { minApprovals: review['min-approvals'] }),
      ...(review['allow-bots'] !== undefined && { allowBots: review['allow-bots'] }),
      ...(review['require-approval-on-head'] !== undefined && {
        requireApprovalOnHead: review['require-approval-on-head'],
      }),
      ...(review['changes-requested-blocks'] !== undefined && {
        changesRequestedBlocks: review['changes-requested-blocks'],
      }),
      ...(review['protected-branches'] !== undefined && { protectedBranches: review['protected-branches'] }),
      ...(review['unidentified-co-authors'] !== undefined && {
        unidentifiedCoAuthors: review['unidentified-co-authors'],
      }),
      ...(review['non-human-co-authors'] !== undefined && {
        nonHumanCoAuthors: review['non-human-co-authors'].map((email) => email.toLowerCase()),
      }),
      ...(review['allow-activity-fallback'] !== undefined && {
        allowActivityFallback: review['allow-activity-fallback'],
      }),
      ...(review['allow-non-default-branches'] !== undefined && {
        allowNonDefaultBranches: review['allow-non-default-branches'],
      }),
      ...(review['min-seconds-after-push'] !== undefined && { minSecondsAfterPush: review['min-seconds-after-push'] }),
      ...((review['reviewed-history'] === true || org.review.reviewedHistory === true) && { reviewedHistory: true }),
      // Never later than the org's (loosenings): an earlier time judges more of the branch's history.
      ...(historySince !== undefined && { historySince }),
      ...(review['bot-pushers'] !== undefined && {
        botPushers: review['bot-pushers'].map((login) => login.toLowerCase()),
      }),
    },
    deploy: {
      ...org.deploy,
      approvals: {
        min: Math.max(org.deploy.approvals.min, deploy.approvals?.min ?? 0),
        distinctFrom: [
          ...new Set([...org.deploy.approvals.distinctFrom, ...(deploy.approvals?.['distinct-from'] ?? [])]),
        ],
        requirePreventSelfReview:
          org.deploy.approvals.requirePreventSelfReview || deploy.approvals?.['require-prevent-self-review'] === true,
      },
      ...(deploy['max-age'] !== undefined && { maxAgeSeconds: parseDuration(deploy['max-age']) }),
      ...(deploy.artifacts !== undefined && { artifacts: deploy.artifacts }),
      ...(deploy.repositories !== undefined && { repositories: deploy.repositories }),
    },
    ...(document.report !== undefined && { report: tighterThresholds(org.report, reportThresholds(document.report)) }),
  };
}

/** Throws the problems found in a policy (PolicyError, each with its line), if there are any. */
function throwProblems(problems: PolicyProblem[], read: PolicyData, source: string): void {
  if (problems.length === 0) return;
  throw new PolicyError(
    'POLICY_INVALID',
    source,
    problems.map((p) => ({ ...p, line: lineOf(read.doc.contents, p.path, read.lines) })),
  );
}

/** The globs of a policy (or a repository policy) that do not compile. */
function documentGlobProblems(document: Pick<PolicyDocument, 'review' | 'deploy'>): PolicyProblem[] {
  return [
    ...globProblems(document.deploy?.artifacts, 'deploy.artifacts'),
    ...globProblems(document.review?.['protected-branches'], 'review.protected-branches'),
  ];
}

/**
 * review.history-since as a UTC ISO 8601 time (`2026-01-15` is its midnight UTC), or undefined when not given (or not
 * a time: historyProblems reports it).
 */
function historySinceOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(time)) return undefined;
  const iso = new Date(time).toISOString();
  // A time whose offset takes it out of years 0000–9999 (9999-12-31T23:59-14:00 is in year 10000: `+010000-…`, which
  // sorts before every four-digit year as text, and no predicate may record) is no time twokey can compare or sign.
  if (!/^\d{4}-/.test(iso)) return undefined;
  // A day the month does not have (2026-02-30, 2026-02-30T00:00Z) is no date, though Date.parse rolls it over.
  const day = value.slice(0, 10);
  const midnight = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(midnight) && new Date(midnight).toISOString().slice(0, 10) === day ? iso : undefined;
}

/**
 * review.history-since that is no time (2026-02-30), and review.reviewed-history on without a history-since (its own,
 * or for a repository policy the org's): the walk would have no baseline.
 */
function historyProblems(document: Pick<PolicyDocument, 'review'>, org?: Policy): PolicyProblem[] {
  const review = document.review ?? {};
  const problems: PolicyProblem[] = [];
  const given = review['history-since'];
  if (given !== undefined && historySinceOf(given) === undefined) {
    problems.push({ path: 'review.history-since', message: `${given} is not a date or time (ISO 8601)` });
  } else if (given === undefined && review['reviewed-history'] === true && org?.review.historySince === undefined) {
    problems.push({
      path: 'review.reviewed-history',
      message:
        'true requires review.history-since: the time (ISO 8601, e.g. 2026-01-15) from which every arrival on the protected branch must be a reviewed pull request merge — arrivals before it are the trusted baseline',
    });
  }
  return problems;
}

/** Valid identities for validating a repository policy against the one schema; never read. */
const STAND_IN_IDENTITIES = {
  build: { issuer: 'https://stand-in.invalid', san: 'build' },
  sign: { issuer: 'https://stand-in.invalid', san: 'sign' },
};

/** Every key of a repository policy that would make the org policy less strict, with why. */
function loosenings(document: Pick<PolicyDocument, 'review' | 'deploy' | 'report'>, org: Policy): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const looser = (path: string, what: string) =>
    problems.push({ path, message: `${what}: a repository policy may only tighten the org policy (${org.source})` });
  const review = document.review ?? {};
  const deploy = document.deploy ?? {};
  const approvals = deploy.approvals;
  if (approvals?.min !== undefined && approvals.min < org.deploy.approvals.min) {
    looser('deploy.approvals.min', `${approvals.min} is fewer than the org policy's ${org.deploy.approvals.min}`);
  }
  if (approvals?.['require-prevent-self-review'] === false && org.deploy.approvals.requirePreventSelfReview) {
    looser('deploy.approvals.require-prevent-self-review', 'false where the org policy says true');
  }
  if (approvals?.['distinct-from'] !== undefined) {
    const dropped = org.deploy.approvals.distinctFrom.filter((who) => !approvals['distinct-from']!.includes(who));
    if (dropped.length > 0) {
      looser('deploy.approvals.distinct-from', `leaves out ${dropped.join(', ')}, which the org policy excludes`);
    }
  }
  const minApprovals = review['min-approvals'];
  if (minApprovals !== undefined && minApprovals < org.review.minApprovals) {
    looser('review.min-approvals', `${minApprovals} is fewer than the org policy's ${org.review.minApprovals}`);
  }
  const minSecondsAfterPush = review['min-seconds-after-push'];
  const orgMinSecondsAfterPush = org.review.minSecondsAfterPush ?? DEFAULT_MIN_SECONDS_AFTER_PUSH;
  if (minSecondsAfterPush !== undefined && minSecondsAfterPush < orgMinSecondsAfterPush) {
    looser(
      'review.min-seconds-after-push',
      `${minSecondsAfterPush} is fewer seconds than the org policy's ${orgMinSecondsAfterPush}`,
    );
  }
  const turnedOn = (key: string, value: boolean | undefined, orgValue: boolean) => {
    if (value === true && !orgValue) looser(`review.${key}`, 'true where the org policy says false');
  };
  const turnedOff = (key: string, value: boolean | undefined, orgValue: boolean) => {
    if (value === false && orgValue) looser(`review.${key}`, 'false where the org policy says true');
  };
  turnedOn('allow-bots', review['allow-bots'], org.review.allowBots);
  turnedOff('require-approval-on-head', review['require-approval-on-head'], org.review.requireApprovalOnHead);
  turnedOff('changes-requested-blocks', review['changes-requested-blocks'], org.review.changesRequestedBlocks);
  turnedOn('allow-activity-fallback', review['allow-activity-fallback'], org.review.allowActivityFallback);
  turnedOn(
    'allow-non-default-branches',
    review['allow-non-default-branches'],
    org.review.allowNonDefaultBranches === true,
  );
  turnedOff('reviewed-history', review['reviewed-history'], org.review.reviewedHistory === true);
  const since = historySinceOf(review['history-since']);
  if (since !== undefined && org.review.historySince !== undefined && since > org.review.historySince) {
    looser(
      'review.history-since',
      `${review['history-since']} is later than the org policy's ${org.review.historySince}: it would leave arrivals unjudged that the org policy judges`,
    );
  }
  if (review['unidentified-co-authors'] === 'allow' && org.review.unidentifiedCoAuthors === 'refuse') {
    looser('review.unidentified-co-authors', 'allow where the org policy says refuse');
  }
  const orgNonHuman = org.review.nonHumanCoAuthors;
  (review['non-human-co-authors'] ?? []).forEach((email, i) => {
    if (!orgNonHuman.includes(email.toLowerCase())) {
      looser(`review.non-human-co-authors.${i}`, `${email} is not among the org policy's non-human co-authors`);
    }
  });
  const orgBotPushers = org.review.botPushers;
  (review['bot-pushers'] ?? []).forEach((login, i) => {
    if (!orgBotPushers.includes(login.toLowerCase())) {
      looser(`review.bot-pushers.${i}`, `${login} is not among the org policy's bot pushers`);
    }
  });
  const branches = review['protected-branches'];
  if (branches !== undefined) {
    if (org.review.protectedBranches === undefined) {
      looser(
        'review.protected-branches',
        "the org policy protects only each repository's default branch; naming branches would add others",
      );
    } else {
      branches.forEach((branch, i) => {
        if (!coveredBy(branch, org.review.protectedBranches!)) {
          looser(`review.protected-branches.${i}`, `${branch} is not a branch the org policy protects`);
        }
      });
    }
  }
  const maxAge = deploy['max-age'] === undefined ? undefined : parseDuration(deploy['max-age']);
  if (maxAge !== undefined && maxAge > org.deploy.maxAgeSeconds) {
    looser(
      'deploy.max-age',
      `${deploy['max-age']} is longer than the org policy's ${org.deploy.maxAgeSeconds} seconds`,
    );
  }
  if (deploy.artifacts !== undefined && org.deploy.artifacts !== undefined) {
    deploy.artifacts.forEach((name, i) => {
      if (!coveredBy(name, org.deploy.artifacts!)) {
        looser(`deploy.artifacts.${i}`, `${name} is not an artifact the org policy covers`);
      }
    });
  }
  if (deploy.repositories !== undefined) {
    if (org.deploy.repositories === undefined) {
      looser(
        'deploy.repositories',
        'the org policy binds each deploy to its own repository; naming repositories would accept other chains',
      );
    } else {
      deploy.repositories.forEach((repository, i) => {
        if (!org.deploy.repositories!.some((r) => r.toLowerCase() === repository.toLowerCase())) {
          looser(`deploy.repositories.${i}`, `${repository} is not a repository the org policy deploys`);
        }
      });
    }
  }
  problems.push(...thresholdLoosenings(document.report, org));
  return problems;
}

/** A `report:` threshold is loosened by a higher `max-` or a lower `min-` than the org policy's. */
function thresholdLoosenings(document: PolicyDocument['report'], org: Policy): PolicyProblem[] {
  if (document === undefined) return [];
  const own = reportThresholds(document);
  const orgMinimum = org.report?.minPeriodSeconds;
  const shorter =
    own.minPeriodSeconds !== undefined && orgMinimum !== undefined && own.minPeriodSeconds < orgMinimum
      ? [
          {
            path: 'report.min-period',
            message: `${document['min-period']} is shorter than the org policy's ${orgMinimum} seconds: a repository policy may only tighten the org policy (${org.source})`,
          },
        ]
      : [];
  return [
    ...shorter,
    ...REPORT_THRESHOLD_KEYS.flatMap(({ key, field, bound }) => {
      const value = own[field];
      // Where a default applies when the org policy sets none (M9's collusion share), the default is the org's value.
      const orgValue = org.report?.[field] ?? REPORT_THRESHOLD_DEFAULTS[field];
      if (value === undefined || orgValue === undefined) return [];
      if (bound === 'max' ? value <= orgValue : value >= orgValue) return [];
      const byDefault = org.report?.[field] === undefined ? ' (the default; it sets none)' : '';
      return [
        {
          path: `report.${key}`,
          message: `${document[key]} is ${bound === 'max' ? 'higher' : 'lower'} than the org policy's ${orgValue}${byDefault}: a repository policy may only tighten the org policy (${org.source})`,
        },
      ];
    }),
  ];
}

/** Seconds in a duration: an integer (seconds) or `<n>[smhd]` (`30d`, `12h`, `90m`, `45s`, `3600`). */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^([1-9][0-9]{0,9})([smhd]?)$/.exec(value);
  if (!match) throw new RangeError(`expected a duration such as 30d, 12h, 90m or a number of seconds, found ${value}`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** One of the policy's signing identities. */
export type PolicyRole = 'deploy' | 'break-glass' | 'sign' | 'build';

/**
 * Every identity of the policy the signer matches, in the order deploy, break-glass, sign, build: one, or none, in a
 * policy whose identities are apart; more than one where patterns overlap (which the policy's load does not always
 * tell), and then the signer is none of them for what it signs (the gate's decisions, the report's evidence).
 */
export function policyRolesOf(signer: SignerIdentity, policy: Pick<Policy, 'identities'>): PolicyRole[] {
  const rules: [PolicyRole, IdentityRule | undefined][] = [
    ['deploy', policy.identities.deploy],
    ['break-glass', policy.identities.breakGlass],
    ['sign', policy.identities.sign],
    ['build', policy.identities.build],
  ];
  return rules.filter(([, rule]) => rule !== undefined && matchIdentity(signer, rule).ok).map(([role]) => role);
}

/**
 * Whether a signer is the identity a rule names: exact issuer, and exact SAN or the whole SAN matching the pattern
 * (RE2 semantics, linear time: identity-pattern.ts).
 */
export function matchIdentity(signer: SignerIdentity, rule: IdentityRule): { ok: boolean; reason: string } {
  const expected =
    rule.san ?? (rule.sans ? describeIdentityRule(rule) : `a SAN matching ${describeIdentityRule(rule)}`);
  const found =
    signer.san.length > MAX_MATCHED_SAN_LENGTH
      ? `a SAN of ${signer.san.length} characters (more than the ${MAX_MATCHED_SAN_LENGTH} an identity is matched on)`
      : signer.san || '(no SAN)';
  if (rule.san !== undefined) {
    if (signer.san !== rule.san) return { ok: false, reason: `expected ${expected}, found ${found}` };
  } else if (rule.sans !== undefined) {
    if (!rule.sans.includes(signer.san)) return { ok: false, reason: `expected ${expected}, found ${found}` };
  } else if (rule.sanPattern !== undefined) {
    let pattern: IdentityPattern;
    try {
      pattern = compileIdentityPattern(rule.sanPattern);
    } catch (error) {
      return { ok: false, reason: `the SAN pattern ${rule.sanPattern} cannot be used: ${(error as Error).message}` };
    }
    if (!pattern.matches(signer.san)) return { ok: false, reason: `expected ${expected}, found ${found}` };
  } else {
    return { ok: false, reason: 'the identity rule names neither a SAN nor a SAN pattern' };
  }
  if (signer.issuer !== rule.issuer) {
    return {
      ok: false,
      reason: `expected issuer ${rule.issuer}, found ${signer.issuer || '(no issuer)'} (SAN ${found})`,
    };
  }
  if (rule.runnerEnvironment !== undefined && signer.extensions.runnerEnvironment !== rule.runnerEnvironment) {
    const runner = signer.extensions.runnerEnvironment ?? 'none in the certificate';
    return {
      ok: false,
      reason: `expected a job on a GitHub-hosted runner, found runner environment ${runner} (SAN ${found}): whoever runs a self-hosted runner holds the jobs' tokens it runs (runner-environment: any in the policy's identity accepts it)`,
    };
  }
  if (rule.sourceRepository !== undefined && signer.extensions.sourceRepositoryURI !== rule.sourceRepository) {
    const repository = signer.extensions.sourceRepositoryURI ?? '(none in the certificate)';
    return {
      ok: false,
      reason: `expected a run of ${rule.sourceRepository}, found source repository ${repository} (SAN ${found})`,
    };
  }
  return { ok: true, reason: `${found} (issuer ${signer.issuer}) matches ${expected}` };
}

/** How a rule reads in messages: the exact SAN, or `^(?:pattern)$`. */
export function describeIdentityRule(rule: IdentityRule): string {
  if (rule.san !== undefined) return rule.san;
  if (rule.sans !== undefined) return `one of ${rule.sans.join(', ')}`;
  if (rule.sanPattern !== undefined) return `^(?:${rule.sanPattern})$`;
  return '(no SAN)';
}

/** Compiled ahead of time from policy.schema.json (ajv standalone, validators/): nothing is compiled at start. */
function policyValidator(): ValidateFunction {
  return validatePolicy;
}

function identityRule(document: IdentityDocument, path: string, problems: PolicyProblem[]): IdentityRule {
  if (document.triggers !== undefined && path !== 'identities.build') {
    problems.push({
      path: `${path}.triggers`,
      message: 'only identities.build takes triggers (the events that may start the build run)',
    });
  }
  if (document.workflows !== undefined && path !== 'identities.build') {
    problems.push({
      path: `${path}.workflows`,
      message: 'only identities.build takes workflows (the workflow files whose runs build releases)',
    });
  }
  problems.push(...globProblems(document.workflows, `${path}.workflows`));
  const build = path === 'identities.build';
  if (document['san-pattern'] !== undefined) {
    try {
      compileIdentityPattern(document['san-pattern']);
    } catch (error) {
      if (!(error instanceof IdentityPatternError)) throw error;
      problems.push({ path: `${path}.san-pattern`, message: error.message });
    }
    return withCertificateClaims({ issuer: document.issuer, sanPattern: document['san-pattern'] }, document, build);
  }
  const san = document.san;
  if (Array.isArray(san)) {
    return withCertificateClaims(
      san.length === 1 ? { issuer: document.issuer, san: san[0] } : { issuer: document.issuer, sans: san },
      document,
      build,
    );
  }
  return withCertificateClaims({ issuer: document.issuer, san }, document, build);
}

/** The issuer of GitHub Actions' job tokens (github.com; an enterprise's own issuer adds a path to it). */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
/** A GitHub Enterprise Cloud tenant's with data residency (GHE.com): `https://token.actions.TENANT.ghe.com`. */
const GHE_COM_ACTIONS_ISSUER = /^https:\/\/token\.actions\.[a-z0-9-]+\.ghe\.com(?:\/[A-Za-z0-9_.-]+)?$/;

/**
 * A rule's certificate claims beside its SAN: the source repository when pinned, and the runner. A GitHub Actions
 * identity signs only from a GitHub-hosted runner unless the policy says `runner-environment: any`: the job of a
 * reusable workflow runs on whatever runner the caller's labels reach, the repository admin's self-hosted runner
 * included, and that runner holds the job's token.
 */
function withCertificateClaims(rule: IdentityRule, document: IdentityDocument, build: boolean): IdentityRule {
  const sourceRepository = document['source-repository'];
  const runner = document['runner-environment'];
  const github =
    document.issuer === GITHUB_ACTIONS_ISSUER ||
    document.issuer.startsWith(`${GITHUB_ACTIONS_ISSUER}/`) ||
    GHE_COM_ACTIONS_ISSUER.test(document.issuer);
  const hosted = runner === 'github-hosted' || (runner === undefined && github);
  const triggers = document.triggers ?? (github ? DEFAULT_BUILD_TRIGGERS : undefined);
  return {
    ...rule,
    ...(sourceRepository !== undefined && { sourceRepository }),
    ...(hosted && { runnerEnvironment: 'github-hosted' as const }),
    ...(build && triggers !== undefined && { triggers }),
    ...(build && document.workflows !== undefined && { workflows: document.workflows }),
  };
}

/**
 * The events whose runs build the branch's own reviewed code: a push to it, a dispatch on it. A run started by
 * another event may build what that event brought in (workflow_run: another run's artifact; pull_request_target,
 * issue_comment: a pull request's code), with a certificate naming the branch and its reviewed head all the same.
 */
export const DEFAULT_BUILD_TRIGGERS: readonly string[] = ['push', 'workflow_dispatch'];

/**
 * Why a build identity's certificate does not qualify by the event that started its run (Fulcio's Build Trigger,
 * against identities.build.triggers), or undefined when it does or the rule names no events.
 */
export function buildTriggerProblem(signer: SignerIdentity, rule: IdentityRule): string | undefined {
  if (rule.triggers === undefined) return undefined;
  const trigger = signer.extensions.buildTrigger;
  if (trigger !== undefined && rule.triggers.includes(trigger)) return undefined;
  return `expected a build run started by ${rule.triggers.join(' or ')}, found ${trigger === undefined ? 'no Build Trigger in the certificate' : `one started by ${trigger} (the certificate's Build Trigger)`}: a run started by another event may build what that event brought in, which no review covers (identities.build.triggers lists the events accepted)`;
}

/**
 * Why a build identity's certificate does not qualify by the workflow its run was started from (Fulcio's Build Config
 * URI, against identities.build.workflows), or undefined when it does or the rule names none. The reusable build
 * workflow's SAN is the same whichever workflow of the repository calls it: a reviewed utility workflow that builds
 * a ref given as an input (a preview) would otherwise be a release build of whatever that input names.
 */
export function buildWorkflowProblem(signer: SignerIdentity, rule: IdentityRule): string | undefined {
  if (rule.workflows === undefined) return undefined;
  const config = signer.extensions.buildConfigURI;
  const repository = signer.extensions.sourceRepositoryURI;
  const ref = signer.extensions.sourceRepositoryRef;
  // `REPOSITORY/PATH@REF`, the ref the certificate names as the run's: a branch may hold an `@` itself.
  const prefix = repository === undefined ? undefined : `${withoutTrailingSlashes(repository)}/`;
  const suffix = ref === undefined ? undefined : `@${ref}`;
  const path =
    config !== undefined &&
    prefix !== undefined &&
    suffix !== undefined &&
    config.length > prefix.length + suffix.length &&
    config.startsWith(prefix) &&
    config.endsWith(suffix)
      ? config.slice(prefix.length, config.length - suffix.length)
      : undefined;
  if (path !== undefined && rule.workflows.some((glob) => compileNameGlob(glob).matches(path))) return undefined;
  return `expected a build run of ${rule.workflows.join(' or ')}, found ${config === undefined ? 'no Build Config URI in the certificate' : path === undefined ? `${config} (the certificate's Build Config URI), not a workflow of ${repository ?? 'the repository that ran it'} at ${ref ?? 'the ref the certificate names'}` : `one of ${path} (the certificate's Build Config URI)`}: another workflow calling the build workflow (a preview of a ref given as input) builds what it is told to, which no review covers (identities.build.workflows lists the workflows accepted)`;
}

/** Why a build identity's run does not qualify: the event that started it, or the workflow it ran from. */
export function buildRunProblem(signer: SignerIdentity, rule: IdentityRule): string | undefined {
  return buildTriggerProblem(signer, rule) ?? buildWorkflowProblem(signer, rule);
}

/** Each glob of a list compiles (name-glob.ts): braces, extglobs and unclosed classes are named by key. */
function globProblems(globs: string[] | undefined, key: string): PolicyProblem[] {
  return (globs ?? []).flatMap((glob, i) => {
    try {
      compileNameGlob(glob);
      return [];
    } catch (error) {
      if (error instanceof NameGlobError) return [{ path: `${key}.${i}`, message: `${show(glob)}: ${error.message}` }];
      throw error;
    }
  });
}

/** Build and sign must be different workflow files: a policy that lets one identity pass as both is refused. */
function overlappingIdentities(
  build: IdentityRule,
  sign: IdentityRule,
  buildKey = 'build',
  signKey = 'sign',
): PolicyProblem[] {
  const why = `${buildKey} and ${signKey} must be different identities (different workflow files)`;
  const exact = (rule: IdentityRule) => (rule.san !== undefined ? [rule.san] : (rule.sans ?? []));
  const shared = exact(sign).find((san) => exact(build).includes(san));
  if (shared !== undefined) {
    return [{ path: `identities.${signKey}.san`, message: `${shared} is also in identities.${buildKey}.san; ${why}` }];
  }
  if (build.sanPattern !== undefined && build.sanPattern === sign.sanPattern) {
    return [
      {
        path: `identities.${signKey}.san-pattern`,
        message: `is the same as identities.${buildKey}.san-pattern; ${why}`,
      },
    ];
  }
  // Both patterns compiled when the rules were read (identityRule): no problem was found.
  const matches = (pattern: string, san: string) => compileIdentityPattern(pattern).matches(san);
  const buildMatched =
    sign.sanPattern === undefined ? undefined : exact(build).find((san) => matches(sign.sanPattern!, san));
  if (buildMatched !== undefined) {
    return [
      {
        path: `identities.${signKey}.san-pattern`,
        message: `matches identities.${buildKey}.san (${buildMatched}); ${why}`,
      },
    ];
  }
  const signMatched =
    build.sanPattern === undefined ? undefined : exact(sign).find((san) => matches(build.sanPattern!, san));
  if (signMatched !== undefined) {
    return [
      {
        path: `identities.${buildKey}.san-pattern`,
        message: `matches identities.${signKey}.san (${signMatched}); ${why}`,
      },
    ];
  }
  return [];
}

/** Ajv's errors in the words of the policy file: the key path and what was expected versus found. */
function schemaProblems(errors: ErrorObject[], data: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ path, message });
  };
  for (const error of errors) {
    const path = keyPath(error.instancePath);
    const found = valueAt(data, error.instancePath);
    // `san` is one SAN or a list of them: the branch of the value's own kind says what is wrong with it.
    const sanBranch = /\/san\/oneOf\/(\d)\//.exec(error.schemaPath)?.[1];
    if (sanBranch !== undefined) {
      const value = valueAt(data, error.instancePath.replace(/^(.*\/san)(\/.*)?$/, '$1'));
      if ((sanBranch === '0') !== (typeof value === 'string')) continue;
    } else if (error.schemaPath.includes('/oneOf/')) {
      // The branches of the san/san-pattern choice report `required`; the oneOf error itself says it better.
      continue;
    }
    if (error.keyword === 'oneOf' && path.endsWith('.san')) {
      if (typeof found !== 'string' && !Array.isArray(found)) {
        add(path, `expected a SAN or a list of SANs, found ${kindOf(found)}`);
      }
      continue;
    }
    if (path === 'deploy.max-age' || path === 'report.max-review-latency-p90' || path === 'report.min-period') {
      add(path, `expected a duration such as 30d, 12h, 90m or a number of seconds, found ${show(found)}`);
      continue;
    }
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(error.params.additionalProperty);
        const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
        add(join(path, key), `unknown key (expected one of: ${known.join(', ')})`);
        break;
      }
      case 'required':
        add(join(path, String(error.params.missingProperty)), 'required key is missing');
        break;
      case 'oneOf':
        add(
          path,
          Array.isArray(error.params.passingSchemas)
            ? 'give exactly one of san and san-pattern, found both'
            : 'give san (exact) or san-pattern (anchored regular expression), found neither',
        );
        break;
      case 'type':
        add(path, `expected ${[error.params.type].flat().join(' or ')}, found ${kindOf(found)}`);
        break;
      case 'const':
        add(path, `expected ${JSON.stringify(error.params.allowedValue)}, found ${show(found)}`);
        break;
      case 'minimum':
        add(path, `expected at least ${error.params.limit}, found ${show(found)}`);
        break;
      case 'maximum':
        add(path, `expected at most ${error.params.limit}, found ${show(found)}`);
        break;
      case 'minLength':
        add(path, 'expected a non-empty string');
        break;
      case 'minItems':
        add(path, `expected at least ${error.params.limit} entry`);
        break;
      case 'maxLength':
        add(path, `expected at most ${error.params.limit} characters, found ${Array.from(String(found)).length}`);
        break;
      case 'maxItems':
        add(path, `expected at most ${error.params.limit} entries, found ${(found as unknown[]).length}`);
        break;
      case 'enum':
        add(
          path,
          `expected one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${show(found)}`,
        );
        break;
      case 'pattern':
        add(path, patternMessage(path, found));
        break;
      default:
        add(path, error.message ?? 'invalid');
    }
  }
  return problems;
}

/**
 * Bots any writer can make push what they choose, which a policy may never list as review.bot-pushers, and why: the
 * GITHUB_TOKEN's bot, and the Copilot coding agent (REST names it `Copilot`, its commits `copilot-swe-agent[bot]`),
 * which pushes what whoever asks it chooses — alice's own commits too, put on its branch by a fast-forward she asks
 * for, with no trailer naming her (found by the review of bots and agents).
 */
const DIRECTED_BOTS = new Map<string, string>([
  ...['github-actions[bot]', 'github-actions'].map(
    (login) => [login, 'any writer pushes what they choose as it, from a workflow with the GITHUB_TOKEN'] as const,
  ),
  // The coding agents' apps known here; any other agent must not be listed either (docs/policy.example.yml).
  ...[
    'copilot',
    'copilot[bot]',
    'copilot-swe-agent',
    'copilot-swe-agent[bot]',
    'claude[bot]',
    'cursor[bot]',
    'devin-ai-integration[bot]',
    'openai-codex[bot]',
    'chatgpt-codex-connector[bot]',
  ].map((login) => [login, 'a coding agent pushes what whoever asks it chooses, and names nobody who did'] as const),
]);

function botPusherProblems(document: PolicyDocument): PolicyProblem[] {
  return (document.review?.['bot-pushers'] ?? []).flatMap((login, i) => {
    const why = DIRECTED_BOTS.get(login.toLowerCase());
    return why ? [{ path: `review.bot-pushers.${i}`, message: `${login} cannot be a bot pusher: ${why}` }] : [];
  });
}

function patternMessage(path: string, found: unknown): string {
  if (path.endsWith('.issuer') || path.endsWith('.source-repository'))
    return `expected an https:// URL, found ${show(found)}`;
  if (/^deploy\.repositories\.\d+$/.test(path)) return `expected owner/name, found ${show(found)}`;
  if (/^review\.protected-branches\.\d+$/.test(path)) {
    return `expected a branch name or glob without refs/heads/ (e.g. main, release/*), found ${show(found)}`;
  }
  if (/^review\.non-human-co-authors\.\d+$/.test(path)) return `expected an e-mail address, found ${show(found)}`;
  if (/^review\.bot-pushers\.\d+$/.test(path)) {
    return `expected a bot's login (e.g. dependabot[bot]), found ${show(found)}`;
  }
  return `invalid value ${show(found)}`;
}

/** `/identities/build` → `identities.build`; JSON Pointer escapes undone. */
function keyPath(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');
}

function join(path: string, key: string): string {
  return path === '(root)' ? key : `${path}.${key}`;
}

function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'string') return `the string ${show(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** A value as a message quotes it: strings JSON-quoted and cut at 100 characters. */
function show(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  return value.length > 100
    ? `${JSON.stringify(value.slice(0, 100))}… (${value.length} characters)`
    : JSON.stringify(value);
}

/** The line of a key in the YAML (the key itself when present, else its closest parent). */
function lineOf(root: unknown, path: string, lines: LineCounter): number | undefined {
  let node = root as Node | null | undefined;
  let offset = node?.range?.[0];
  if (path.startsWith('(')) return offset === undefined ? undefined : lines.linePos(offset).line;
  for (const key of path.split('.')) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (!pair) break;
    offset = (pair.key as Node).range?.[0] ?? offset;
    node = pair.value as Node | null;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

/**
 * What the schema cannot see in the YAML itself: a tag other than the plain ones (`!!python/object`, `!!js/function`,
 * `!custom`: a reader that honoured them would run or build something; yaml only warns and reads a string), any other
 * warning of the parser, and in one pass over the nodes: nesting beyond MAX_POLICY_DEPTH, a key that is not a scalar
 * or that appears twice in a mapping (`1` and `"1"` included: both would become the same key).
 */
function yamlProblems(doc: Document, lines: LineCounter): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const lineAt = (node: Node) => (node.range ? lines.linePos(node.range[0]).line : undefined);
  const notAllowed = (tag: string, line: number | undefined) =>
    problems.push({
      path: '(yaml)',
      message: `the tag ${showTag(tag)} is not allowed: a policy holds plain strings, numbers, booleans, mappings and lists`,
      line,
    });
  // yaml warns at the tag itself (a node's range starts at its value: a tagged mapping's first key).
  const warned = new Set<string>();
  for (const warning of doc.warnings) {
    const tag = warning.code === 'TAG_RESOLVE_FAILED' && /^Unresolved tag: (\S+)/.exec(warning.message)?.[1];
    if (tag) {
      warned.add(tag);
      notAllowed(tag, warning.linePos?.[0]?.line);
    } else {
      problems.push({
        path: '(yaml)',
        message: warning.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        line: warning.linePos?.[0]?.line,
      });
    }
  }
  const pending: { node: Node; depth: number }[] = doc.contents ? [{ node: doc.contents, depth: 1 }] : [];
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    if (isAlias(node)) continue;
    if (node.tag !== undefined && !PLAIN_TAGS.has(node.tag) && !warned.has(node.tag))
      notAllowed(node.tag, lineAt(node));
    if (!isCollection(node)) continue;
    if (depth > MAX_POLICY_DEPTH) {
      problems.push({
        path: '(yaml)',
        message: `nested more than ${MAX_POLICY_DEPTH} levels deep`,
        line: lineAt(node),
      });
      continue;
    }
    if (!isMap(node)) {
      for (const item of node.items) if (item) pending.push({ node: item as Node, depth: depth + 1 });
      continue;
    }
    const keys = new Set<string>();
    for (const { key, value } of node.items) {
      if (isScalar(key)) {
        const name = String(key.value);
        if (keys.has(name)) {
          problems.push({
            path: '(yaml)',
            message: `Map keys must be unique: ${show(name)} appears twice`,
            line: lineAt(key),
          });
        }
        keys.add(name);
        pending.push({ node: key, depth: depth + 1 });
      } else if (key !== null) {
        problems.push({ path: '(yaml)', message: 'a key must be a plain scalar', line: lineAt(key as Node) });
      }
      if (value) pending.push({ node: value as Node, depth: depth + 1 });
    }
  }
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** `tag:yaml.org,2002:python/object` as it was written: `!!python/object`. */
function showTag(tag: string): string {
  const short = tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag;
  return short.length > 100 ? `${short.slice(0, 100)}…` : short;
}
