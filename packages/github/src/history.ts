// review.reviewed-history: how the built commit's base came to be on the protected branch. twokey judges the pull
// request merged as the built commit C; without this rule, a change the sign stage refused (a merge GitHub allowed,
// an admin's push) stays on the branch and ships, unreviewed, with the next reviewed merge on top of it.
//
// The walk, read from the built branch's activity feed (REST: GraphQL has no feed, so both evidence paths share it):
// - C's own arrival (the one pr_merge or merge_queue_merge of C in the evidence's feed) gives C's base: its `before`;
// - from there, older entries of the branch, newest first, back to the first before `review.history-since`: each at
//   or after it must be a pull request merge (pr_merge, merge_queue_merge) whose `after` is the newer one's `before`
//   (the chain), and whose pull request — the one merged as its `after` — passes the review rules of the same policy,
//   read and judged as C's is (readReviewEvidence, evaluateReview: no second rule engine);
// - the first entry before history-since is the trusted baseline: its `after` must be the oldest arrival's `before`;
// - or, sooner (the moving baseline, when the sign stage can read its attestation store): the newest merge whose
//   `after` the store holds a review attestation of, by the policy's sign identity, carrying the reviewed-commit
//   subject of that commit on this branch, with a passing walk back to no later than history-since
//   (attestedBaselines) — by induction, everything before it was judged when it was signed. The walk stops there,
//   so a busy branch is walked from its last signed release, not from history-since. A store that cannot be read or
//   an entry that does not verify is no baseline: the walk goes on.
// Each merge walked, and C's own arrival, must bring exactly the commits its pull request accounts for
// (bringsOnlyItsPullRequest: its `after`'s first parent is its `before`, or for a rebase merge the first-parent chain
// reaches `before` in as many steps as the pull request has commits): a merge queue group of several pull requests
// moves the branch once, to its last member's merge, and the earlier members, judged by nobody, are refused.
// A push, a force push, a branch creation or deletion, a broken chain, a feed that cannot be read or does not reach
// history-since, a pull request that cannot be read, or more than MAX_HISTORY_ARRIVALS arrivals refuse, each naming
// the arrival (commit, type, actor, pull request) and the rule it fails.
//
// Requests, bounded: the feed at most 10 pages of 100 (readActivity), read only down to the baseline; each arrival's
// review evidence as for C (GraphQL: about 3 requests, REST about 10), at most MAX_HISTORY_ARRIVALS of them,
// HISTORY_CONCURRENCY at a time; for each, and for C's own arrival, one commit read per commit it brings (1, or a
// rebase merge's commit count, at most MAX_ARRIVAL_COMMITS); with the moving baseline, one store read per merge walked
// (fetchAttestations' caps).

import {
  evaluateReview,
  evidenceFromPredicate,
  type HistoryArrival,
  matchIdentity,
  type Policy,
  parseReviewPredicate,
  parseStatement,
  policyRolesOf,
  REVIEW_PREDICATE_TYPE,
  REVIEWED_COMMIT_SUBJECT,
  type RefActivity,
  type ReviewEvidence,
  type ReviewedHistory,
  type ReviewRules,
  reviewedCommitDigest,
  reviewedCommitOf,
  reviewRulesLoosening,
  type Statement,
  sameRepositoryUri,
  type VerifiedBundle,
  withoutTrailingSlashes,
} from '@twokey/core';
import { BundleVerificationError, type BundleVerifier, parseBundle, SigstoreInputError } from '@twokey/sigstore';
import { type AttestationStore, AttestationStoreError, fetchAttestations } from './attestations';
import { mapConcurrently } from './concurrently';
import { failureOf, isApiFailure, readActivity } from './evidence';
import { type GitHubApi, readReviewEvidence } from './evidence-graphql';
import type { GitHubClient } from './octokit';

/** The most arrivals since history-since the walk judges; more refuse (the API requests stay bounded). */
export const MAX_HISTORY_ARRIVALS = 100;
/** Arrivals' pull requests read at once. */
export const HISTORY_CONCURRENCY = 4;

const MERGES: readonly string[] = ['pr_merge', 'merge_queue_merge'];
/** The most first-parent steps read to account for one arrival's commits (a rebase merge's commit count, capped). */
export const MAX_ARRIVAL_COMMITS = 250;

/**
 * The walk of the built branch from C's base back to `rules.historySince` (see the header): never throws for what
 * GitHub answers; a walk that cannot be completed is `verdict: 'fail'` with the reason.
 */
export async function reviewedHistoryOf(
  client: GitHubClient,
  evidence: ReviewEvidence,
  rules: ReviewRules,
  api: GitHubApi,
  attested?: AttestedBaselines,
): Promise<ReviewedHistory> {
  const since = rules.historySince ?? '';
  const pr = evidence.pullRequest;
  const ref = evidence.builtRef?.startsWith('refs/heads/') ? evidence.builtRef : `refs/heads/${pr?.baseRef ?? '?'}`;
  const refuse = (reason: string, partial: Partial<ReviewedHistory> = {}): ReviewedHistory => ({
    since,
    ref,
    base: partial.base ?? evidence.commit,
    arrivals: partial.arrivals ?? [],
    ...(partial.baseline && { baseline: partial.baseline }),
    verdict: 'fail',
    reason: `review.reviewed-history: ${reason}`,
  });
  const sinceTime = Date.parse(since);
  if (Number.isNaN(sinceTime)) return refuse('the policy gives no valid review.history-since');
  if (!pr) return refuse(`no pull request was merged as ${short(evidence.commit)}: there is no base to walk back from`);
  const activity = evidence.activity;
  if (!activity?.available) {
    return refuse(
      `the activity feed of ${ref} could not be read (${activity ? activity.reason : 'not read'}): how ${short(evidence.commit)}'s base reached it cannot be judged`,
    );
  }
  const merges = activity.builtCommitArrivals.filter((a) => a.ref === ref && MERGES.includes(a.activityType));
  if (merges.length !== 1) {
    return refuse(
      `expected one merge of ${short(evidence.commit)} into ${ref} in the activity feed, found ${merges.length}: its base cannot be told`,
    );
  }
  const built = merges[0]!;
  const base = built.before.toLowerCase();

  // The branch's feed, newest first, walked as it is read: from C's arrival down to the first entry before
  // history-since, or (the moving baseline) to the newest arrival of a commit whose own review attestation, by the sign
  // identity with a passing walk, the attestation store holds (`attested`: one look-up per arrival, before it is
  // judged). Every arrival since history-since until then, newest first, is walked.
  const walked: RefActivity[] = [];
  let expected = base;
  let baseline: ReviewedHistory['baseline'];
  let broken: string | undefined;
  /** Why arrivals' commits were no baseline, when the store had something to say (for the refusal's reason). */
  const notBaselines: string[] = [];
  let passedBuilt = false;
  const step = async (entry: RefActivity): Promise<boolean> => {
    if (!passedBuilt) {
      if (entry.id === built.id) passedBuilt = true;
      return false;
    }
    if (Date.parse(entry.timestamp) < sinceTime) {
      if (sameSha(entry.after, expected)) baseline = { commit: entry.after.toLowerCase(), at: entry.timestamp };
      else {
        broken = `the chain is broken before ${since}: expected the baseline to be an arrival of ${short(expected)}, found ${describe(entry)}`;
      }
      return true;
    }
    if (!sameSha(entry.after, expected)) {
      broken = `the chain is broken: expected an arrival of ${short(expected)}, found ${describe(entry)} (something moved ${ref} that the feed does not show)`;
      return true;
    }
    if (attested && MERGES.includes(entry.activityType)) {
      const found = await attested({ repository: evidence.repository, ref, commit: entry.after.toLowerCase() });
      if ('attestation' in found) {
        baseline = { commit: entry.after.toLowerCase(), at: entry.timestamp, attestation: found.attestation };
        return true;
      }
      if (found.reason !== undefined) notBaselines.push(`${short(entry.after)}: ${found.reason}`);
    }
    if (walked.length >= MAX_HISTORY_ARRIVALS) {
      broken = `more than ${MAX_HISTORY_ARRIVALS} arrivals on ${ref} since ${since}: too many to judge (the next is ${describe(entry)}); set a later review.history-since in the org policy`;
      return true;
    }
    walked.push(entry);
    expected = entry.before.toLowerCase();
    // Not a merge: what it brought was nobody's review; nothing older can make up for it.
    return !MERGES.includes(entry.activityType);
  };
  // C's own arrival must bring only C's pull request (not a merge queue group's earlier members): read with the feed,
  // it refuses the walk whatever the arrivals below it are.
  const [read, builtProblem] = await Promise.all([
    readActivity(client, {
      repository: evidence.repository,
      ref,
      reached: step,
      what: `an arrival before review.history-since (${since})`,
    }),
    bringsOnlyItsPullRequest(client, evidence.repository, built, evidence),
  ]);
  const builtRefusal =
    builtProblem === undefined ? [] : [`the built commit's own arrival, ${describe(built)}: ${builtProblem}`];
  if ('unreadable' in read) {
    return refuse([...builtRefusal, `the activity feed could not be read: ${read.unreadable}`].join('; '), { base });
  }
  if ('uncovered' in read) {
    return refuse([...builtRefusal, `the activity feed is too long to walk: ${read.uncovered}`].join('; '), { base });
  }
  if (!passedBuilt) {
    return refuse(`the activity feed of ${ref} no longer shows ${describe(built)}, the arrival of the built commit`, {
      base,
    });
  }
  if (!broken && !baseline && (walked.length === 0 || MERGES.includes(walked.at(-1)!.activityType))) {
    const oldest = read.entries.at(-1)!;
    broken = `the activity feed of ${ref} ends at ${describe(oldest)}, after ${since}: how ${short(expected)} reached the branch cannot be judged`;
  }
  if (broken && notBaselines.length > 0) {
    const shown = notBaselines.slice(0, 3).join('; ');
    const more = notBaselines.length > 3 ? `; and ${notBaselines.length - 3} more` : '';
    broken += ` (no arrival's commit was an attested baseline: ${shown}${more})`;
  }

  // Each arrival's pull request, judged by the same rules (C's own history is this walk: not asked again).
  const arrivalRules: ReviewRules = { ...rules, reviewedHistory: false };
  const arrivals = await mapConcurrently(walked, HISTORY_CONCURRENCY, (entry) =>
    judgeArrival(client, evidence.repository, ref, entry, arrivalRules, api),
  );
  const failed = arrivals.filter((a) => a.verdict !== 'pass');
  const partial = { base, arrivals, ...(baseline && { baseline }) };
  if (builtRefusal.length > 0 || failed.length > 0 || broken) {
    const named = failed.map((a) => `${describeArrival(a)} fails ${a.reason}`);
    return refuse([...builtRefusal, ...named, ...(broken ? [broken] : [])].join('; '), partial);
  }
  const end = baseline!.attestation
    ? `back to ${short(baseline!.commit)}, whose review attestation with a passing walk the attestation store holds (${baseline!.attestation})`
    : `back to ${short(baseline!.commit)} (${baseline!.at}), before it`;
  return {
    since,
    ref,
    base,
    arrivals,
    baseline: baseline!,
    verdict: 'pass',
    reason: `every arrival on ${ref} since ${since} is a reviewed pull request merge (${arrivals.length}), ${end}`,
  };
}

/**
 * The moving baseline: whether the attestation store holds, for a commit of the branch, a review attestation that
 * makes it a baseline (`attestation`: where), or why not (`reason`, when the store had something to say). Never
 * throws for what the store answers: a store that cannot be read, or an entry that does not verify, is no baseline.
 */
export type AttestedBaselines = (arrival: {
  /** `owner/name`. */
  repository: string;
  /** `refs/heads/…`. */
  ref: string;
  /** Lower-case hex. */
  commit: string;
}) => Promise<{ attestation: string } | { reason?: string }>;

/** What the sign stage reads the moving baseline with: its store, its verifier and the policy's. */
export interface AttestedBaselineSource {
  /** The repository's attestation store, where the sign stage stores its review attestations. */
  store: Pick<AttestationStore, 'apiUrl' | 'token' | 'repository' | 'client'>;
  /** GITHUB_SERVER_URL: the repository's URI as the review predicate names it (`SERVER/OWNER/REPO`). */
  serverUrl: string;
  /** The verifier of the policy's trusted root (the one the build provenance is verified with). */
  verifier: BundleVerifier;
  /** The policy's identities: only the sign identity's review attestations count, by a signer that is no other. */
  identities: Policy['identities'];
  /** The policy's review.history-since: the baseline's own walk must have gone back at least as far. */
  since: string;
  /**
   * The policy's review rules (org and repository policy merged): a baseline's review, and the walk below it, must
   * have been judged under rules no looser than these (but for history-since), and its review must pass under them.
   */
  rules: ReviewRules;
}

/**
 * The moving baseline's look-up (AttestedBaselines): one read of the store for the reviewed-commit digest of the
 * arrival's commit (reviewedCommitDigest; fetchAttestations, its caps), each entry verified as the deploy gate
 * verifies bundles (sigstore, the policy's trusted root), and the first that is, by the policy's sign identity, a
 * review statement whose subjects include that digest, whose predicate's commit, repository and branch are the
 * arrival's, whose verdict passes and whose walk (`history`) passed back to no later than the policy's history-since.
 */
export function attestedBaselines(source: AttestedBaselineSource): AttestedBaselines {
  const sinceTime = Date.parse(source.since);
  const server = withoutTrailingSlashes(source.serverUrl);
  return async ({ repository, ref, commit }) => {
    if (Number.isNaN(sinceTime)) return { reason: 'the policy gives no valid review.history-since' };
    const uri = `${server}/${repository}`.toLowerCase();
    const hex = reviewedCommitDigest(uri, ref, commit);
    const { apiUrl, token, repository: storeRepository, client } = source.store;
    let entries: Awaited<ReturnType<typeof fetchAttestations>>;
    try {
      entries = await fetchAttestations({
        apiUrl,
        token,
        repository: storeRepository,
        digests: [`sha256:${hex}`],
        concurrency: 1,
        ...(client && { client }),
      });
    } catch (error) {
      if (error instanceof AttestationStoreError)
        return { reason: `the attestation store could not be read (${error.message})` };
      throw error;
    }
    if (entries.length === 0) return {};
    const list = `${withoutTrailingSlashes(apiUrl)}/repos/${storeRepository}/attestations`;
    const refused: string[] = [];
    for (const entry of entries) {
      const where = `${list}/${entry.digest}#${entry.index}`;
      if ('unreadable' in entry) {
        refused.push(`${where}: ${entry.unreadable.reason}`);
        continue;
      }
      let bundle: VerifiedBundle;
      try {
        bundle = source.verifier.verify(parseBundle(entry.text, where), { anyIdentity: true });
      } catch (error) {
        if (error instanceof BundleVerificationError || error instanceof SigstoreInputError) {
          refused.push(`${where} does not verify: ${error.message}`);
          continue;
        }
        throw error;
      }
      const problem = baselineProblem(bundle, source, { uri, ref, commit, hex, sinceTime });
      if (problem === undefined) return { attestation: where };
      refused.push(`${where}: ${problem}`);
    }
    return { reason: refused.join('; ') };
  };
}

/** Why a verified bundle is no review attestation making `commit` a baseline, or undefined when it is one. */
function baselineProblem(
  bundle: VerifiedBundle,
  source: AttestedBaselineSource,
  want: { uri: string; ref: string; commit: string; hex: string; sinceTime: number },
): string | undefined {
  const identity = matchIdentity(bundle.signer, source.identities.sign);
  if (!identity.ok) return `not signed by the policy's sign identity (${identity.reason})`;
  // Patterns that overlap (which the policy's load does not always tell): a signer is one identity, as the gate holds.
  const also = policyRolesOf(bundle.signer, source).find((role) => role !== 'sign');
  if (also) return `signed by ${bundle.signer.san}, which is also the ${also} identity of the policy`;
  // The sign workflow is shared: any repository's run of it signs as the sign identity, under that repository's
  // policy (none, or a looser one). Only a run in the built repository judged under its rules.
  const ran = bundle.signer.extensions.sourceRepositoryURI;
  if (ran === undefined || !sameRepositoryUri(ran, want.uri)) {
    return `its certificate says the sign workflow ran in ${ran ?? 'no repository'}, not ${want.uri}`;
  }
  let statement: Statement;
  try {
    if (bundle.kind !== 'dsse') return 'not a review attestation';
    statement = parseStatement(bundle.statement);
  } catch (error) {
    return `not an in-toto statement: ${(error as Error).message}`;
  }
  if (statement.predicateType !== REVIEW_PREDICATE_TYPE) return 'not a review attestation';
  const named = statement.subject.some((s) => s.name === REVIEWED_COMMIT_SUBJECT && s.digest.sha256 === want.hex);
  if (!named) return `its subjects do not include ${REVIEWED_COMMIT_SUBJECT} sha256:${want.hex}`;
  let predicate: ReturnType<typeof parseReviewPredicate>;
  try {
    predicate = parseReviewPredicate(statement.predicate);
  } catch (error) {
    return `invalid review predicate: ${(error as Error).message}`;
  }
  if (!sameSha(predicate.commit, want.commit)) return `it is the review of ${short(predicate.commit)}`;
  const gitCommit = reviewedCommitOf(statement);
  if (gitCommit === undefined || !sameSha(gitCommit, want.commit)) return 'its gitCommit subject is not its commit';
  if (predicate.repository.uri.toLowerCase() !== want.uri) return `it is a review in ${predicate.repository.uri}`;
  if (predicate.verdict !== 'pass') return 'its review did not pass';
  const history = predicate.history;
  if (!history) return 'it records no walk of the branch (review.reviewed-history)';
  if (history.ref !== want.ref) return `its walk is ${history.ref}'s, not ${want.ref}'s`;
  if (history.verdict !== 'pass') return `its walk did not pass (${history.reason})`;
  if (!(Date.parse(history.since) <= want.sinceTime)) {
    return `its walk went back to ${history.since}, later than the policy's review.history-since`;
  }
  // Judged under looser rules (an earlier org policy, a sign workflow version still listed, no repository policy), the
  // review and every arrival below it were judged by rules that let through what the policy's refuse: no baseline,
  // the walk goes on.
  const looser = reviewRulesLoosening(predicate.rules, source.rules);
  if (looser) return `it was judged under looser review rules than the policy's (${looser})`;
  if (evaluateReview(evidenceFromPredicate(predicate), source.rules).verdict !== 'pass') {
    return "its review does not pass under the policy's review rules";
  }
  return undefined;
}

/** One arrival: a merge's pull request read and judged like the built commit's; anything else refused. */
async function judgeArrival(
  client: GitHubClient,
  repository: string,
  ref: string,
  entry: RefActivity,
  rules: ReviewRules,
  api: GitHubApi,
): Promise<HistoryArrival> {
  const arrival = {
    commit: entry.after.toLowerCase(),
    before: entry.before.toLowerCase(),
    type: entry.activityType,
    at: entry.timestamp,
    actor: entry.actor,
  };
  if (!MERGES.includes(entry.activityType)) {
    return {
      ...arrival,
      verdict: 'fail',
      reason: `reached-branch-by-merge: a ${entry.activityType} is no pull request merge — nobody reviewed what it put on ${ref}`,
    };
  }
  const { evidence } = await readReviewEvidence(client, { repository, commit: entry.after, ref }, api);
  const result = evaluateReview(evidence, rules);
  const number = evidence.pullRequest?.number;
  const failing = result.checks.filter((c) => c.verdict !== 'pass').map((c) => `${c.id} (${c.reason})`);
  // What the arrival brought beyond its pull request (a merge queue group's earlier members) was judged by nobody.
  const brings = number === undefined ? undefined : await bringsOnlyItsPullRequest(client, repository, entry, evidence);
  if (brings !== undefined) failing.push(`reviewed-history (${brings})`);
  return {
    ...arrival,
    ...(number !== undefined && { pullRequest: number }),
    verdict: result.verdict === 'pass' && number !== undefined && brings === undefined ? 'pass' : 'fail',
    reason:
      failing.length > 0
        ? failing.join('; ')
        : number === undefined
          ? 'merged-by-pull-request (no pull request merged as it)'
          : `pull request #${number}'s review passes`,
  };
}

/**
 * Why a merge arrival brings other commits than those of the pull request merged as its `after` (`evidence`, read for
 * that commit), or undefined when it brings exactly them. Read from `after` along first parents (`GET
 * /repos/{owner}/{repo}/commits/{ref}`, `parents[0].sha`): a squash or merge-commit merge's first parent must be the
 * arrival's `before`; a rebase merge's chain must reach `before` in exactly as many steps as the pull request has
 * commits (at most MAX_ARRIVAL_COMMITS). A merge queue group of several pull requests moves the branch once, to its
 * last member's merge: the earlier members' commits lie between, judged by nobody — refused, as is a commit that
 * cannot be read (never a pass).
 */
async function bringsOnlyItsPullRequest(
  client: GitHubClient,
  repository: string,
  entry: RefActivity,
  evidence: ReviewEvidence,
): Promise<string | undefined> {
  const what = `the ${entry.activityType} of ${short(entry.after)}`;
  const pr = evidence.pullRequest;
  if (!pr) return `${what} was merged by no pull request that was read: what it brings cannot be accounted for`;
  if (!sameSha(evidence.commit, entry.after)) {
    return `${what}: the pull request read is #${pr.number}, merged as ${short(evidence.commit)}, not as ${short(entry.after)}`;
  }
  const steps = pr.mergeMethod === 'rebase' ? evidence.commits.length : 1;
  if (steps < 1 || steps > MAX_ARRIVAL_COMMITS) {
    return `${what}: pull request #${pr.number} (${pr.mergeMethod} merge) accounts for ${steps} commits, not between 1 and ${MAX_ARRIVAL_COMMITS}: what the arrival brings cannot be accounted for`;
  }
  const accounts = `pull request #${pr.number} (${pr.mergeMethod} merge) accounts for ${steps}`;
  const [owner, repo] = repository.split('/') as [string, string];
  const before = entry.before.toLowerCase();
  let at = entry.after.toLowerCase();
  for (let n = 1; n <= steps; n++) {
    let parent: string | undefined;
    try {
      const response = await client.request('GET /repos/{owner}/{repo}/commits/{ref}', { owner, repo, ref: at });
      parent = (response.data as { parents?: { sha?: unknown }[] }).parents?.[0]?.sha as string | undefined;
    } catch (error) {
      if (!isApiFailure(error)) throw error;
      return `${what}: GET /repos/${repository}/commits/${at} could not be read (${failureOf(error)}): what the arrival brings cannot be accounted for`;
    }
    if (typeof parent !== 'string') {
      return `${what} brings ${commits(n)} down to ${short(at)}, which has no parent, without reaching its before ${short(before)}; ${accounts}`;
    }
    if (sameSha(parent, before)) {
      return n === steps
        ? undefined
        : `${what} brings ${commits(n)}; ${accounts}: the pull request's commits are not what the branch received`;
    }
    at = parent.toLowerCase();
  }
  return `${what} brings more than ${commits(steps)} (following first parents, ${short(at)} is not its before ${short(before)}); ${accounts}: the others (a merge queue group's earlier members, or commits the feed does not show) are not judged`;
}

function commits(n: number): string {
  return `${n} commit${n === 1 ? '' : 's'}`;
}

function describe(entry: RefActivity): string {
  return `${entry.activityType} of ${short(entry.after)} by ${entry.actor?.login ?? 'an unknown actor'} at ${entry.timestamp}`;
}

function describeArrival(a: HistoryArrival): string {
  const pr = a.pullRequest !== undefined ? ` (pull request #${a.pullRequest})` : '';
  return `the ${a.type} of ${short(a.commit)} by ${a.actor?.login ?? 'an unknown actor'} at ${a.at}${pr}`;
}

function sameSha(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function short(sha: string): string {
  return sha.slice(0, 12);
}
