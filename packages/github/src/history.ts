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
// - the first entry before history-since is the trusted baseline: its `after` must be the oldest arrival's `before`.
// A push, a force push, a branch creation or deletion, a broken chain, a feed that cannot be read or does not reach
// history-since, a pull request that cannot be read, or more than MAX_HISTORY_ARRIVALS arrivals refuse, each naming
// the arrival (commit, type, actor, pull request) and the rule it fails.
//
// Requests, bounded: the feed at most 10 pages of 100 (readActivity); each arrival's review evidence as for C (GraphQL:
// about 3 requests, REST about 10), at most MAX_HISTORY_ARRIVALS of them, HISTORY_CONCURRENCY at a time.

import {
  evaluateReview,
  type HistoryArrival,
  type RefActivity,
  type ReviewEvidence,
  type ReviewedHistory,
  type ReviewRules,
} from '@twokey/core';
import { readActivity } from './evidence';
import { type GitHubApi, readReviewEvidence } from './evidence-graphql';
import type { GitHubClient } from './octokit';

/** The most arrivals since history-since the walk judges; more refuse (the API requests stay bounded). */
export const MAX_HISTORY_ARRIVALS = 100;
/** Arrivals' pull requests read at once. */
export const HISTORY_CONCURRENCY = 4;

const MERGES: readonly string[] = ['pr_merge', 'merge_queue_merge'];

/**
 * The walk of the built branch from C's base back to `rules.historySince` (see the header): never throws for what
 * GitHub answers; a walk that cannot be completed is `verdict: 'fail'` with the reason.
 */
export async function reviewedHistoryOf(
  client: GitHubClient,
  evidence: ReviewEvidence,
  rules: ReviewRules,
  api: GitHubApi,
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

  // The branch's feed, newest first, down to the first entry before history-since that is older than C's arrival.
  let passedBuilt = false;
  const read = await readActivity(client, {
    repository: evidence.repository,
    ref,
    reached: (entry) => {
      if (passedBuilt) return Date.parse(entry.timestamp) < sinceTime;
      if (entry.id === built.id) passedBuilt = true;
      return false;
    },
    what: `an arrival before review.history-since (${since})`,
  });
  if ('unreadable' in read) return refuse(`the activity feed could not be read: ${read.unreadable}`, { base });
  if ('uncovered' in read) return refuse(`the activity feed is too long to walk: ${read.uncovered}`, { base });
  const at = read.entries.findIndex((entry) => entry.id === built.id);
  if (at < 0) {
    return refuse(`the activity feed of ${ref} no longer shows ${describe(built)}, the arrival of the built commit`, {
      base,
    });
  }

  // The chain, from C's base back to the baseline: every arrival since history-since, newest first.
  const walked: RefActivity[] = [];
  let expected = base;
  let baseline: ReviewedHistory['baseline'];
  let broken: string | undefined;
  for (const entry of read.entries.slice(at + 1)) {
    if (Date.parse(entry.timestamp) < sinceTime) {
      if (sameSha(entry.after, expected)) baseline = { commit: entry.after.toLowerCase(), at: entry.timestamp };
      else {
        broken = `the chain is broken before ${since}: expected the baseline to be an arrival of ${short(expected)}, found ${describe(entry)}`;
      }
      break;
    }
    if (!sameSha(entry.after, expected)) {
      broken = `the chain is broken: expected an arrival of ${short(expected)}, found ${describe(entry)} (something moved ${ref} that the feed does not show)`;
      break;
    }
    if (walked.length >= MAX_HISTORY_ARRIVALS) {
      broken = `more than ${MAX_HISTORY_ARRIVALS} arrivals on ${ref} since ${since}: too many to judge (the next is ${describe(entry)}); set a later review.history-since in the org policy`;
      break;
    }
    walked.push(entry);
    expected = entry.before.toLowerCase();
    // Not a merge: what it brought was nobody's review; nothing older can make up for it.
    if (!MERGES.includes(entry.activityType)) break;
  }
  if (!broken && !baseline && (walked.length === 0 || MERGES.includes(walked.at(-1)!.activityType))) {
    const oldest = read.entries.at(-1)!;
    broken = `the activity feed of ${ref} ends at ${describe(oldest)}, after ${since}: how ${short(expected)} reached the branch cannot be judged`;
  }

  // Each arrival's pull request, judged by the same rules (C's own history is this walk: not asked again).
  const arrivalRules: ReviewRules = { ...rules, reviewedHistory: false };
  const arrivals = await mapConcurrently(walked, HISTORY_CONCURRENCY, (entry) =>
    judgeArrival(client, evidence.repository, ref, entry, arrivalRules, api),
  );
  const failed = arrivals.filter((a) => a.verdict !== 'pass');
  const partial = { base, arrivals, ...(baseline && { baseline }) };
  if (failed.length > 0 || broken) {
    const named = failed.map((a) => `${describeArrival(a)} fails ${a.reason}`);
    return refuse([...named, ...(broken ? [broken] : [])].join('; '), partial);
  }
  return {
    since,
    ref,
    base,
    arrivals,
    baseline: baseline!,
    verdict: 'pass',
    reason: `every arrival on ${ref} since ${since} is a reviewed pull request merge (${arrivals.length})`,
  };
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
  return {
    ...arrival,
    ...(number !== undefined && { pullRequest: number }),
    verdict: result.verdict === 'pass' && number !== undefined ? 'pass' : 'fail',
    reason:
      failing.length > 0
        ? failing.join('; ')
        : number === undefined
          ? 'merged-by-pull-request (no pull request merged as it)'
          : `pull request #${number}'s review passes`,
  };
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

/** `work` on every item, at most `limit` at a time; results in the items' order. */
async function mapConcurrently<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
