// Row 61 (retarget after the approval) done by GitHub itself. A stacked pull request B (feature2 →
// feature1) is approved by bob while its base is alice's unprotected branch feature1, which carries U, a commit alice
// pushed there after feature1's own pull request A (reviewed) was merged. alice deletes feature1: GitHub retargets B
// to main by itself and records `automatic_base_change_succeeded` (GraphQL: AutomaticBaseChangeSucceededEvent), not
// `base_ref_changed`. B's diff now holds U, which nobody reviewed; alice merges it. Both are base changes, through both
// reads of GitHub — and through REST, both come from the issue events, the only REST list that has them.
import { DEFAULT_REVIEW_RULES, evaluateReview } from '@twokey/core';
import { collectReviewEvidence, createGitHubClient, readReviewEvidence } from '@twokey/github';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aTimelineEvent,
  aUser,
  type GitHubFake,
  mergePullRequest,
  pushCommit,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

function stackedChange(event: 'automatic_base_change_succeeded' | 'base_ref_changed') {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  // U: pushed by alice straight to feature1 after pull request A (feature1 → main, reviewed) was merged.
  const unreviewed = aCommit({ author: alice, message: 'Unreviewed: disable auth', date: '2026-03-02T08:00:00Z' });
  pushCommit(repository, unreviewed, 'feature1', { by: alice });
  const head = aCommit({
    author: alice,
    message: 'Small harmless change',
    date: '2026-03-02T09:00:00Z',
    parents: [unreviewed.sha],
  });
  // B was opened into feature1 (bob saw H's diff only); after GitHub's retarget to main it lists U and H.
  const pullRequest = aPullRequest({
    author: alice,
    commits: [unreviewed, head],
    headRef: 'feature2',
    baseRef: 'main',
  });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, at: '2026-03-02T10:00:00Z' }));
  // alice deletes feature1 at 10:30; GitHub retargets B to main (the actor GitHub names does not matter here).
  pullRequest.events.push(aTimelineEvent(event, { by: alice, at: '2026-03-02T10:30:00Z' }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice, at: '2026-03-02T11:00:00Z' });
  return { repository, merged };
}

async function judge(event: 'automatic_base_change_succeeded' | 'base_ref_changed', api: 'graphql' | 'rest') {
  const { repository, merged } = stackedChange(event);
  const fake = await startGitHubFake(aGitHubState(repository));
  fakes.push(fake);
  const client = createGitHubClient({
    token: 'ghs_test',
    baseUrl: fake.url,
    retryDelayMs: 5,
    timeoutMs: 5_000,
    readsOnly: true,
  });
  const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
  const evidence =
    api === 'rest'
      ? await collectReviewEvidence(client, request)
      : (await readReviewEvidence(client, request)).evidence;
  return { evidence, result: evaluateReview(evidence, DEFAULT_REVIEW_RULES) };
}

describe('a stacked pull request GitHub retargets to main itself after its base branch is deleted', () => {
  it.each(['graphql', 'rest'] as const)('refuses bob’s approval given before a manual retarget (%s)', async (api) => {
    const { evidence, result } = await judge('base_ref_changed', api);
    expect(evidence.pullRequest?.baseChanges).toEqual([expect.objectContaining({ at: '2026-03-02T10:30:00Z' })]);
    expect(result.verdict).toBe('fail');
    expect(result.checks.find((c) => c.id === 'approval-on-merged-head')?.verdict).toBe('fail');
  });

  it.each(['graphql', 'rest'] as const)('refuses it before GitHub’s own retarget too (%s)', async (api) => {
    const { evidence, result } = await judge('automatic_base_change_succeeded', api);
    expect(evidence.gaps).toEqual([]);
    expect(evidence.pullRequest?.baseChanges).toEqual([
      expect.objectContaining({ at: '2026-03-02T10:30:00Z', actor: expect.objectContaining({ login: 'alice' }) }),
    ]);
    expect(result.verdict).toBe('fail');
    const check = result.checks.find((c) => c.id === 'approval-on-merged-head')!;
    expect(check.verdict).toBe('fail');
    expect(check.reason).toContain(
      "GitHub changed the pull request's base at 2026-03-02T10:30:00Z (moving a stacked pull request onto main when its base branch was deleted, by alice)",
    );
    expect(evidence.pullRequest?.baseChanges?.[0]?.automatic).toBe(true);
    expect(result.independentApprovers).toEqual([]);
  });
});
