// A walk judged under stricter rules — an app repository policy's earlier history-since, a tightening a repository
// policy may make — read by a gate under the org policy alone (a deployment repository's, `twokey verify` without
// --repository-policy): an arrival between the two times was refused as "no arrival to judge", though the walk judged
// more than the policy asks. Taken now; an arrival before the walk's own since is still refused.
import { DEFAULT_REVIEW_RULES, evaluateReview, type ReviewEvidence, type ReviewRules } from '@twokey/core';
import { describe, expect, it } from 'vitest';

const C = 'c'.repeat(40);
const BASE = 'b'.repeat(40);
const OLD = '1'.repeat(40);
const ref = 'refs/heads/main';
const alice = { login: 'alice', id: 1, type: 'User' as const };

const orgRules: ReviewRules = {
  ...DEFAULT_REVIEW_RULES,
  reviewedHistory: true,
  historySince: '2026-03-01T00:00:00.000Z',
};
const recorded: ReviewRules = { ...orgRules, historySince: '2026-01-01T00:00:00.000Z' }; // app repo policy: earlier

function evidence(): ReviewEvidence {
  return {
    repository: 'acme/app',
    commit: C,
    builtRef: ref,
    defaultBranch: 'main',
    gaps: [],
    commits: [],
    reviews: [],
    lastPush: { accounts: [], people: [], source: 'activity' },
    permissions: {},
    activity: {
      available: true,
      builtCommitArrivals: [
        {
          id: 9,
          ref,
          before: BASE,
          after: C,
          timestamp: '2026-04-01T00:00:00Z',
          activityType: 'pr_merge',
          actor: alice,
        },
      ],
      headPushes: [],
    },
    history: {
      since: recorded.historySince!,
      ref,
      base: BASE,
      arrivals: [
        // a merge in February: after the app's since, before the org's
        {
          commit: BASE,
          before: OLD,
          type: 'pr_merge',
          at: '2026-02-10T00:00:00Z',
          actor: alice,
          pullRequest: 5,
          verdict: 'pass',
          reason: 'ok',
        },
      ],
      baseline: { commit: OLD, at: '2025-12-01T00:00:00Z' },
      verdict: 'pass',
      reason: 'ok',
      judgedUnder: recorded,
    },
  } as unknown as ReviewEvidence;
}

describe("reviewed-history: a walk back to an earlier history-since than the policy's", () => {
  it("takes an arrival after the walk's since and before the policy's: it was judged, and passed", () => {
    const check = evaluateReview(evidence(), orgRules).checks.find((c) => c.id === 'reviewed-history')!;
    expect(check.verdict, check.reason).toBe('pass');
  });
  it("still refuses an arrival before the walk's own since", () => {
    const early = evidence();
    early.history!.arrivals[0]!.at = '2025-12-20T00:00:00Z';
    const check = evaluateReview(early, orgRules).checks.find((c) => c.id === 'reviewed-history')!;
    expect(check.verdict).toBe('fail');
    expect(check.reason).toMatch(/is before 2026-01-01T00:00:00.000Z: it is no arrival to judge/);
  });
});
