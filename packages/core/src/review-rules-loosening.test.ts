// reviewRulesLoosening: whether the rules a walk's arrivals (or a moving baseline) were judged under ask at least as
// much as the rules judging the release now — as a repository policy may only tighten the org policy. Looser in any
// one rule is named; stricter, or the same, is none; a rule it does not know must be equal.
import { describe, expect, it } from 'vitest';
import type { ReviewRules } from './model';
import { DEFAULT_REVIEW_RULES } from './policy';
import { reviewRulesLoosening } from './review';

const policy: ReviewRules = {
  ...DEFAULT_REVIEW_RULES,
  minApprovals: 2,
  botPushers: ['dependabot[bot]'],
  nonHumanCoAuthors: ['copilot@github.com'],
  protectedBranches: ['main', 'release/*'],
  reviewedHistory: true,
  historySince: '2026-03-01T00:00:00.000Z',
};

describe('reviewRulesLoosening', () => {
  it('names nothing for the same rules, for stricter ones, and for another history-since', () => {
    expect(reviewRulesLoosening(policy, policy)).toBeUndefined();
    expect(
      reviewRulesLoosening(
        {
          ...policy,
          minApprovals: 3,
          botPushers: [],
          nonHumanCoAuthors: [],
          protectedBranches: ['main'],
          minSecondsAfterPush: 60,
          historySince: '2026-01-01T00:00:00.000Z',
        },
        policy,
      ),
    ).toBeUndefined();
  });

  it.each<[string, Partial<ReviewRules>, RegExp]>([
    ['fewer approvals', { minApprovals: 1 }, /min-approvals 1, fewer than the policy's 2/],
    ['bots allowed', { allowBots: true }, /allow-bots/],
    ['approval on head not required', { requireApprovalOnHead: false }, /require-approval-on-head off/],
    ['changes requested not blocking', { changesRequestedBlocks: false }, /changes-requested-blocks off/],
    ['the activity fallback', { allowActivityFallback: true }, /allow-activity-fallback/],
    ['non-default branches', { allowNonDefaultBranches: true }, /allow-non-default-branches/],
    ['no reviewed history', { reviewedHistory: false }, /reviewed-history off/],
    ['unidentified co-authors allowed', { unidentifiedCoAuthors: 'allow' }, /unidentified co-authors allowed/],
    ['fewer seconds after a push', { minSecondsAfterPush: 5 }, /min-seconds-after-push 5, fewer than the policy's 30/],
    ['another bot pusher', { botPushers: ['dependabot[bot]', 'renovate[bot]'] }, /bot pusher renovate\[bot\]/],
    ['another non-human co-author', { nonHumanCoAuthors: ['bot@example.com'] }, /non-human co-author bot@example\.com/],
    ['another protected branch', { protectedBranches: ['main', 'develop'] }, /protected branch develop/],
    [
      'a rule it does not know',
      { futureRule: true } as Partial<ReviewRules>,
      /futureRule true, where the policy's is null/,
    ],
  ])('names %s', (_what, change, reason) => {
    expect(reviewRulesLoosening({ ...policy, ...change }, policy)).toMatch(reason);
  });

  it('names branches where the policy protects only the default branch', () => {
    const { protectedBranches: _, ...defaultOnly } = policy;
    expect(reviewRulesLoosening(policy, defaultOnly)).toMatch(/protected branches named/);
    expect(reviewRulesLoosening(defaultOnly, policy)).toBeUndefined();
  });
});
