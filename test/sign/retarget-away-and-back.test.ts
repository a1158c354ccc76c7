// Row 61's rule after a base change (an approval counts only of a head first pushed after it) against a head pushed
// away and back (found by the review of that rule): alice pushes an unreviewed commit F to the unprotected branch
// `feature`, opens a pull request of H (on top of F) into `feature`; bob opens its page at 09:10 (H against
// `feature`); alice retargets it to `main` at 09:30, pushes X on top of H at 09:31 and force-pushes H back at 09:32.
// bob's page, opened before all of it, still shows H, and its form names H: he approves at 10:00. The last push of the
// head was after the change, its first was not. And the same from a fork whose branch was copied at H when the fork
// was made, so that its feed holds no entry of H before the change: the feed must reach back to the head branch's
// creation. Both reads of GitHub (GraphQL and REST), through the GitHub fake.
import { DEFAULT_REVIEW_RULES, evaluateReview } from '@twokey/core';
import { collectReviewEvidence, createGitHubClient, readReviewEvidence } from '@twokey/github';
import {
  aCommit,
  aForcePush,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aTimelineEvent,
  aUser,
  type GitHubFake,
  type GitHubFakeState,
  mergePullRequest,
  pushCommit,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

function pushedAwayAndBack() {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const unreviewed = aCommit({ author: alice, message: 'Unreviewed: disable auth', date: '2026-03-02T08:00:00Z' });
  pushCommit(repository, unreviewed, 'feature', { by: alice });
  const head = aCommit({
    author: alice,
    message: 'Small harmless change',
    date: '2026-03-02T09:00:00Z',
    parents: [unreviewed.sha],
  });
  const pullRequest = aPullRequest({ author: alice, commits: [unreviewed, head], headRef: 'change', baseRef: 'main' });
  // 09:30: retarget from `feature` to `main` (bob's page, opened at 09:10, shows H against `feature`).
  pullRequest.events.push(aTimelineEvent('base_ref_changed', { by: alice, at: '2026-03-02T09:30:00Z' }));
  // 09:31: a push of X on top of H (the feed's `push`, after = X) …
  const away = aCommit({
    author: alice,
    message: 'wip',
    date: '2026-03-02T09:31:00Z',
    parents: [head.sha],
  });
  pullRequest.headActivity.push({
    id: 990_001,
    activityType: 'push',
    after: away.sha,
    by: { login: alice.login, id: alice.id, type: 'User' },
    at: '2026-03-02T09:31:00Z',
  });
  // … 09:32: and `git push --force origin H:change` (the feed's `force_push`, after = H). The head is H again.
  pullRequest.events.push(aForcePush({ by: alice, at: '2026-03-02T09:32:00Z', headSha: head.sha }));
  // 10:00: bob approves from the page he opened at 09:10: the form names the head it showed, H.
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, at: '2026-03-02T10:00:00Z' }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice, at: '2026-03-02T11:00:00Z' });
  return { repository, merged, head: head.sha, away: away.sha };
}

function forkPushedAwayAndBack() {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const fork = aRepository('alice/app', { ownerType: 'User' });
  const unreviewed = aCommit({ author: alice, message: 'Unreviewed: disable auth', date: '2026-03-02T08:00:00Z' });
  pushCommit(repository, unreviewed, 'feature', { by: alice });
  const head = aCommit({
    author: alice,
    message: 'Small harmless change',
    date: '2026-03-02T09:00:00Z',
    parents: [unreviewed.sha],
  });
  const pullRequest = aPullRequest({
    author: alice,
    commits: [unreviewed, head],
    headRef: 'change',
    baseRef: 'main',
    headRepository: 'alice/app',
  });
  // The fork's `change` was copied at H when the fork was made: nothing of it in alice/app's feed.
  pullRequest.headActivity = [];
  pullRequest.events.push(aTimelineEvent('base_ref_changed', { by: alice, at: '2026-03-02T09:30:00Z' }));
  const away = aCommit({ author: alice, message: 'wip', date: '2026-03-02T09:31:00Z', parents: [head.sha] });
  pullRequest.headActivity.push({
    id: 990_101,
    activityType: 'push',
    after: away.sha,
    by: { login: alice.login, id: alice.id, type: 'User' },
    at: '2026-03-02T09:31:00Z',
  });
  pullRequest.events.push(aForcePush({ by: alice, at: '2026-03-02T09:32:00Z', headSha: head.sha }));
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, at: '2026-03-02T10:00:00Z' }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice, at: '2026-03-02T11:00:00Z' });
  return { state: aGitHubState(repository, fork, alice, bob), merged, head: head.sha };
}

async function judge(state: GitHubFakeState, merged: string, api: 'graphql' | 'rest') {
  const fake = await startGitHubFake(state);
  fakes.push(fake);
  const client = createGitHubClient({ token: 'ghs_test', baseUrl: fake.url, retryDelayMs: 5, timeoutMs: 5_000 });
  const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
  const evidence =
    api === 'rest'
      ? await collectReviewEvidence(client, request)
      : (await readReviewEvidence(client, request)).evidence;
  expect(evidence.gaps).toEqual([]);
  return evaluateReview(evidence, DEFAULT_REVIEW_RULES);
}

describe('a retargeted pull request whose head was pushed away and back to the commit a page opened before showed', () => {
  it.each(['graphql', 'rest'] as const)(
    'refuses the approval: its head was first pushed before the change (%s)',
    async (api) => {
      const { repository, merged } = pushedAwayAndBack();
      const result = await judge(aGitHubState(repository), merged, api);
      expect(result.verdict).toBe('fail');
      expect(result.checks.find((c) => c.id === 'approval-on-merged-head')?.reason).toContain(
        "alice changed the pull request's base at 2026-03-02T09:30:00Z, and the merged head was first pushed before it",
      );
      expect(result.independentApprovers).toEqual([]);
    },
  );

  it.each(['graphql', 'rest'] as const)(
    "refuses it from a fork whose feed does not reach back to its branch's creation (%s)",
    async (api) => {
      const { state, merged } = forkPushedAwayAndBack();
      const result = await judge(state, merged, api);
      expect(result.verdict).toBe('fail');
      expect(result.checks.find((c) => c.id === 'approval-on-merged-head')?.reason).toContain(
        "the activity feed does not reach back to the head branch's creation before the pull request was opened",
      );
      expect(result.independentApprovers).toEqual([]);
    },
  );
});
