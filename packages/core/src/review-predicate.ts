// The review attestation: an in-toto Statement v1 over the artifacts and the git commit, whose predicate records
// the review evidence, the rules applied and their verdicts. The sign stage writes it; the deploy gate reads it back
// (parseReviewPredicate → evidenceFromPredicate) and runs the review rules again under its own policy.
// Documented in docs/review-predicate.md; validated against review-predicate.schema.json.

import { createHash } from 'node:crypto';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { CodedError } from './error';
import { IN_TOTO_STATEMENT_TYPE, InTotoError, type ResourceDescriptor, type Statement, type Subject } from './intoto';
import type {
  AccountProfile,
  ActivityEvidence,
  Check,
  GitHubAccount,
  GitPerson,
  MergeMethod,
  PullRequestCommit,
  RefActivity,
  RepositoryPermission,
  Review,
  ReviewEvidence,
  ReviewedHistory,
  ReviewRules,
  Verdict,
} from './model';
import { withoutTrailingSlashes } from './provenance';
import { evaluateReview, type ReviewResult } from './review';
import reviewPredicateSchema from './review-predicate.schema.json' with { type: 'json' };
import validateReviewPredicate from './validators/review-predicate.validate.js';

/** The predicate type URI of twokey's review attestation. */
export const REVIEW_PREDICATE_TYPE = 'https://twokey.dev/attestations/review/v1';

/** The JSON Schema of the review predicate (draft 2020-12). */
export const REVIEW_PREDICATE_SCHEMA = reviewPredicateSchema;

/** A contributor of the pull request: a git identity and what it did in the PR's commits. */
export type ReviewContributor = {
  name: string;
  email: string;
  account?: GitHubAccount;
  roles: ('author' | 'committer' | 'co-author')[];
};

/** The review predicate: the in-toto human-review/vcs fields, then everything independence is judged on. */
export type ReviewPredicate = {
  /** in-toto human-review/vcs: the reviewers whose approval counted (name: login, uri: the account's API URL). */
  reviewers: ResourceDescriptor[];
  /** in-toto human-review/vcs: the pull request's URL. */
  reviewLink: string;
  /** in-toto human-review/vcs: when the latest review was submitted. */
  reviewTime: string;
  repository: { name: string; uri: string };
  /** The commit that was built and reviewed (the merge commit). */
  commit: string;
  /** The ref the build ran on, from verified build provenance. */
  builtRef?: string;
  /** The repository's default branch, as GitHub reported it. */
  defaultBranch?: string;
  pullRequest: {
    number: number;
    url: string;
    title: string;
    baseRef: string;
    headRef?: string;
    headRepository?: string;
    createdAt?: string;
    mergedAt: string;
    mergedBy?: GitHubAccount;
    baseChanges?: { at: string; actor: GitHubAccount | null; automatic?: true }[];
    reopens?: { at: string; actor: GitHubAccount | null }[];
  };
  mergeMethod: MergeMethod;
  /** The pull request's head commit when it was merged: approvals count only on it. */
  mergedHead: string;
  mergeCommit: string;
  author: GitHubAccount;
  /** Summary of `commits` for readers; the rules are evaluated on `commits`. */
  contributors: ReviewContributor[];
  commits: PullRequestCommit[];
  /** Co-authored-by trailers of the merge or squash commit's own message. */
  mergeCommitCoAuthors?: { name: string; email: string }[];
  reviews: Review[];
  /** The public profile of every reviewer who approved. */
  profiles?: AccountProfile[];
  lastPush: ReviewEvidence['lastPush'];
  /** What the repository activity feed said. */
  activity?: ActivityEvidence;
  permissions: Record<string, RepositoryPermission>;
  /** review.reviewed-history: how the built commit's base came to be on the branch (absent when the rule was off). */
  history?: ReviewedHistory;
  gaps: string[];
  rules: ReviewRules;
  checks: Check[];
  verdict: Verdict;
};

/** Why a review statement could not be built: the review did not pass, or the subjects are unusable. */
export type ReviewAttestationErrorCode = 'REVIEW_NOT_PASSED' | 'SUBJECTS_INVALID' | 'PREDICATE_INVALID';

/** Refusal to build a review attestation; nothing is signed when this is thrown. */
export class ReviewAttestationError extends CodedError<ReviewAttestationErrorCode> {
  readonly kind = 'internal';
  override readonly name = 'ReviewAttestationError';
}

/** An artifact subject of the review attestation. */
export interface ReviewSubject {
  name: string;
  digest: { sha256: string };
}

/**
 * Builds the review attestation's Statement: subjects are the artifacts and the git commit, the predicate is the
 * evidence with the rules and their verdicts. Throws ReviewAttestationError unless the review passes.
 */
export function buildReviewStatement(input: {
  subjects: ReviewSubject[];
  evidence: ReviewEvidence;
  rules: ReviewRules;
  result: ReviewResult;
  /** The GitHub server (`GITHUB_SERVER_URL`); defaults to the pull request URL's origin. */
  serverUrl?: string;
}): Statement<ReviewPredicate> {
  const { subjects, evidence, rules } = input;
  // Re-evaluated here so a caller can never attest a review that the rules refuse.
  const result = evaluateReview(evidence, rules);
  if (input.result.verdict !== 'pass' || result.verdict !== 'pass') {
    const failed = result.checks.filter((c) => c.verdict !== 'pass').map((c) => `${c.id}: ${c.reason}`);
    throw new ReviewAttestationError(
      'REVIEW_NOT_PASSED',
      `the review of ${evidence.repository}@${evidence.commit} did not pass: ${failed.join('; ') || 'the given result says fail'}`,
    );
  }
  const pr = evidence.pullRequest!;
  if (subjects.length === 0) throw new ReviewAttestationError('SUBJECTS_INVALID', 'expected at least one artifact');
  if (subjects.some((s) => s.name === REVIEWED_COMMIT_SUBJECT)) {
    throw new ReviewAttestationError(
      'SUBJECTS_INVALID',
      `an artifact may not be named ${REVIEWED_COMMIT_SUBJECT}: the review attestation's subject of that name is the reviewed commit`,
    );
  }
  for (const subject of subjects) {
    if (!/^[0-9a-f]{64}$/.test(subject.digest.sha256) || subject.name === '') {
      throw new ReviewAttestationError(
        'SUBJECTS_INVALID',
        `expected a named artifact with a lowercase hex sha256 digest, found ${JSON.stringify(subject)}`,
      );
    }
  }

  const server = withoutTrailingSlashes(input.serverUrl ?? new URL(pr.url).origin);
  const api = server === 'https://github.com' ? 'https://api.github.com' : `${server}/api/v3`;
  const repositoryUri = `${server}/${evidence.repository}`;
  const reviews = evidence.reviews.filter((r) => r.state !== 'PENDING');
  const predicate: ReviewPredicate = {
    reviewers: result.independentApprovers.map((a) => ({ name: a.login, uri: `${api}/user/${a.id}` })),
    reviewLink: pr.url,
    reviewTime: latestTime(reviews.map((r) => r.submittedAt)) ?? pr.mergedAt,
    repository: { name: evidence.repository, uri: repositoryUri },
    commit: evidence.commit,
    ...(evidence.builtRef !== undefined && { builtRef: evidence.builtRef }),
    ...(evidence.defaultBranch !== undefined && { defaultBranch: evidence.defaultBranch }),
    pullRequest: {
      number: pr.number,
      url: pr.url,
      title: pr.title,
      baseRef: pr.baseRef,
      ...(pr.headRef !== undefined && { headRef: pr.headRef }),
      ...(pr.headRepository !== undefined && { headRepository: pr.headRepository }),
      ...(pr.createdAt !== undefined && { createdAt: pr.createdAt }),
      mergedAt: pr.mergedAt,
      ...(pr.mergedBy && { mergedBy: pr.mergedBy }),
      ...(pr.baseChanges && { baseChanges: pr.baseChanges }),
      ...(pr.reopens && { reopens: pr.reopens }),
    },
    mergeMethod: pr.mergeMethod,
    mergedHead: pr.headSha,
    mergeCommit: pr.mergeCommitSha,
    author: pr.author,
    contributors: contributorsOf(evidence.commits),
    commits: evidence.commits,
    ...(evidence.mergeCommitCoAuthors && { mergeCommitCoAuthors: evidence.mergeCommitCoAuthors }),
    reviews,
    ...(evidence.profiles && { profiles: evidence.profiles }),
    lastPush: evidence.lastPush,
    ...(evidence.activity && { activity: evidence.activity }),
    permissions: evidence.permissions,
    ...(evidence.history && { history: evidence.history }),
    gaps: evidence.gaps,
    rules,
    checks: result.checks,
    verdict: result.verdict,
  };
  // Never hand out a predicate the deploy gate could not read back.
  try {
    parseReviewPredicate(JSON.parse(JSON.stringify(predicate)));
  } catch (error) {
    throw new ReviewAttestationError(
      'PREDICATE_INVALID',
      `the review predicate would be invalid: ${(error as Error).message}`,
    );
  }

  // Under review.reviewed-history, a passing walk makes the commit a baseline of later walks: one more subject, found
  // in the attestation store by the commit alone (reviewedCommitDigest).
  const history = evidence.history;
  const reviewed =
    rules.reviewedHistory === true && history?.verdict === 'pass'
      ? [reviewedCommitSubject(repositoryUri, history.ref, evidence.commit)]
      : [];
  const subject: Subject[] = [
    ...subjects.map((s) => ({ name: s.name, digest: { sha256: s.digest.sha256 } })),
    { name: `git+${repositoryUri}@${evidence.commit}`, uri: repositoryUri, digest: { gitCommit: evidence.commit } },
    ...reviewed,
  ];
  return { _type: IN_TOTO_STATEMENT_TYPE, subject, predicateType: REVIEW_PREDICATE_TYPE, predicate };
}

/**
 * The name of the subject a review attestation signed under review.reviewed-history with a passing walk carries
 * besides its artifacts and its commit: the reviewed commit, on its branch. It is no artifact: never judged, reported,
 * recorded or listed as one (reviewArtifactSubjects).
 */
export const REVIEWED_COMMIT_SUBJECT = 'twokey-reviewed-commit';

/**
 * The digest of a reviewed commit, as its subject carries it: sha256 of `twokey-reviewed-commit`, a NUL, the
 * repository's URI (`https://github.com/OWNER/REPO`, lower-cased), a NUL, the branch (`refs/heads/…`), a NUL, and the
 * commit (lower-case hex). The attestation store lists the review attestations of that commit under it: the sign
 * stage's walk of a later commit's history stops at it (the moving baseline of review.reviewed-history).
 */
export function reviewedCommitDigest(repositoryUri: string, ref: string, commit: string): string {
  return createHash('sha256')
    .update(`${REVIEWED_COMMIT_SUBJECT}\0${repositoryUri.toLowerCase()}\0${ref}\0${commit.toLowerCase()}`, 'utf8')
    .digest('hex');
}

/** The reviewed-commit subject of a review attestation of `commit` on `ref` of the repository at `repositoryUri`. */
export function reviewedCommitSubject(repositoryUri: string, ref: string, commit: string): Subject {
  return { name: REVIEWED_COMMIT_SUBJECT, digest: { sha256: reviewedCommitDigest(repositoryUri, ref, commit) } };
}

/** A review attestation's subjects that may be artifacts: all but its reviewed-commit subject (any of that name). */
export function reviewArtifactSubjects<S extends { name?: unknown }>(subjects: readonly S[]): S[] {
  return subjects.filter((s) => s?.name !== REVIEWED_COMMIT_SUBJECT);
}

/** Validates a review predicate (the Statement's `predicate`); throws InTotoError('PREDICATE_INVALID') naming the field. */
export function parseReviewPredicate(json: unknown): ReviewPredicate {
  const validate = predicateValidator();
  if (!validate(json)) {
    const error = mostSpecific(validate.errors ?? []);
    throw new InTotoError('PREDICATE_INVALID', fieldPath(error), describeSchemaError(error));
  }
  return json as ReviewPredicate;
}

/** The review evidence an attestation recorded, so the deploy gate can run evaluateReview on it again. */
export function evidenceFromPredicate(predicate: ReviewPredicate): ReviewEvidence {
  const p = predicate;
  const pr = p.pullRequest;
  return {
    repository: p.repository.name,
    commit: p.commit,
    ...(p.builtRef !== undefined && { builtRef: p.builtRef }),
    ...(p.defaultBranch !== undefined && { defaultBranch: p.defaultBranch }),
    gaps: [...p.gaps],
    pullRequest: {
      number: pr.number,
      url: pr.url,
      title: pr.title,
      author: account(p.author),
      headSha: p.mergedHead,
      ...(pr.headRef !== undefined && { headRef: pr.headRef }),
      ...(pr.headRepository !== undefined && { headRepository: pr.headRepository }),
      mergeCommitSha: p.mergeCommit,
      ...(pr.createdAt !== undefined && { createdAt: pr.createdAt }),
      mergedAt: p.pullRequest.mergedAt,
      ...(p.pullRequest.mergedBy && { mergedBy: account(p.pullRequest.mergedBy) }),
      ...(pr.baseChanges && {
        baseChanges: pr.baseChanges.map((c) => ({
          at: c.at,
          actor: c.actor ? account(c.actor) : null,
          ...(c.automatic === true && { automatic: true as const }),
        })),
      }),
      ...(pr.reopens && {
        reopens: pr.reopens.map((c) => ({ at: c.at, actor: c.actor ? account(c.actor) : null })),
      }),
      mergeMethod: p.mergeMethod,
      baseRef: p.pullRequest.baseRef,
    },
    commits: p.commits.map((c) => ({
      sha: c.sha,
      author: person(c.author),
      committer: person(c.committer),
      coAuthors: c.coAuthors.map((a) => ({ name: a.name, email: a.email })),
      committedAt: c.committedAt,
    })),
    ...(p.mergeCommitCoAuthors && {
      mergeCommitCoAuthors: p.mergeCommitCoAuthors.map((a) => ({ name: a.name, email: a.email })),
    }),
    reviews: p.reviews.map((r) => ({
      id: r.id,
      reviewer: account(r.reviewer),
      state: r.state,
      commitId: r.commitId,
      submittedAt: r.submittedAt,
    })),
    ...(p.profiles && { profiles: p.profiles.map(profile) }),
    lastPush: {
      accounts: p.lastPush.accounts.map(account),
      people: p.lastPush.people.map(person),
      source: p.lastPush.source,
    },
    ...(p.activity && { activity: activity(p.activity) }),
    // Own properties only: a login named `__proto__` stays data.
    permissions: Object.fromEntries(Object.entries(p.permissions)),
    ...(p.history && { history: { ...history(p.history), judgedUnder: p.rules } }),
  };
}

/** The git commit a review statement is about: its one `gitCommit` subject (undefined when none or several differ). */
export function reviewedCommitOf(statement: Statement): string | undefined {
  const commits = new Set(
    statement.subject.map((s) => s.digest.gitCommit).filter((c): c is string => typeof c === 'string'),
  );
  return commits.size === 1 ? [...commits][0] : undefined;
}

// Only the fields of the model are copied: whatever else an attestation carries stays out of the evaluation.
function account(a: GitHubAccount): GitHubAccount {
  return { login: a.login, id: a.id, type: a.type };
}

function person(p: GitPerson): GitPerson {
  return { name: p.name, email: p.email, ...(p.account && { account: account(p.account) }) };
}

function profile(p: AccountProfile): AccountProfile {
  return {
    account: account(p.account),
    ...(p.name !== undefined && { name: p.name }),
    ...(p.email !== undefined && { email: p.email }),
  };
}

function history(h: ReviewedHistory): ReviewedHistory {
  return {
    since: h.since,
    ref: h.ref,
    base: h.base,
    arrivals: h.arrivals.map((a) => ({
      commit: a.commit,
      before: a.before,
      type: a.type,
      at: a.at,
      actor: a.actor ? account(a.actor) : null,
      ...(a.pullRequest !== undefined && { pullRequest: a.pullRequest }),
      verdict: a.verdict,
      reason: a.reason,
    })),
    ...(h.baseline && {
      baseline: {
        commit: h.baseline.commit,
        at: h.baseline.at,
        ...(h.baseline.attestation !== undefined && { attestation: h.baseline.attestation }),
      },
    }),
    verdict: h.verdict,
    reason: h.reason,
  };
}

function activity(a: ActivityEvidence): ActivityEvidence {
  if (!a.available) return { available: false, reason: a.reason };
  const entry = (e: RefActivity): RefActivity => ({
    id: e.id,
    ref: e.ref,
    before: e.before,
    after: e.after,
    timestamp: e.timestamp,
    activityType: e.activityType,
    actor: e.actor ? account(e.actor) : null,
  });
  return {
    available: true,
    headPushes: a.headPushes.map(entry),
    builtCommitArrivals: a.builtCommitArrivals.map(entry),
  };
}

function contributorsOf(commits: PullRequestCommit[]): ReviewContributor[] {
  const byIdentity = new Map<string, ReviewContributor>();
  const add = (who: { name: string; email: string; account?: GitHubAccount }, role: ReviewContributor['roles'][0]) => {
    const key = who.account ? `account:${who.account.id}` : `email:${who.email.toLowerCase()}`;
    const entry = byIdentity.get(key) ?? {
      name: who.name,
      email: who.email,
      ...(who.account && { account: who.account }),
      roles: [],
    };
    if (!entry.roles.includes(role)) entry.roles.push(role);
    byIdentity.set(key, entry);
  };
  for (const commit of commits) {
    add(commit.author, 'author');
    add(commit.committer, 'committer');
    for (const coAuthor of commit.coAuthors) add(coAuthor, 'co-author');
  }
  return [...byIdentity.values()];
}

function latestTime(times: string[]): string | undefined {
  let latest: string | undefined;
  for (const t of times) if (latest === undefined || Date.parse(t) > Date.parse(latest)) latest = t;
  return latest;
}

/** Compiled ahead of time from review-predicate.schema.json (ajv standalone, validators/). */
function predicateValidator(): ValidateFunction {
  return validateReviewPredicate;
}

/** The error to report: the deepest one (ajv lists a failed `$ref` target before the branch that referenced it). */
function mostSpecific(errors: ErrorObject[]): ErrorObject {
  return errors.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a), errors[0]!);
}

/** `/reviews/3/reviewer/id` → `predicate.reviews[3].reviewer.id`; a missing key is named in full. */
function fieldPath(error: ErrorObject): string {
  let path = 'predicate';
  for (const raw of error.instancePath.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  if (error.keyword === 'required') path += `.${error.params.missingProperty}`;
  return path;
}

function describeSchemaError(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'missing (required)';
    case 'type':
      return `expected ${error.params.type}`;
    case 'enum':
      return `expected one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `invalid value (expected to match ${error.params.pattern})`;
    case 'minimum':
      return `expected at least ${error.params.limit}`;
    default:
      return error.message ?? 'invalid';
  }
}
