// A closed pull request does not follow its branch (found by the review of the sign stage): alice closes her harmless
// pull request (head H1, which bob is reading), pushes H2 to its branch while it is closed (the activity feed: a push
// at 09:59), and reopens it at 10:00:58, a second before bob's `gh pr review --approve` — which names no commit, so
// GitHub records it on the head the reopening brought, H2. The approval is a minute after the only push, but a second
// after the head moved. Both reads of GitHub (GraphQL and REST) record the reopening; the approval does not count.
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
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

function reopenedChange(reopenAt: string) {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const harmless = aCommit({ author: alice, message: 'Small harmless change', date: '2026-03-02T09:00:00Z' });
  // Pushed while the pull request was closed: the feed's push at 09:59.
  const backdoor = aCommit({
    author: alice,
    message: 'Tidy up',
    date: '2026-03-02T09:59:00Z',
    parents: [harmless.sha],
  });
  const pullRequest = aPullRequest({
    author: alice,
    commits: [harmless, backdoor],
    headRef: 'change',
    baseRef: 'main',
  });
  pullRequest.events.push(aTimelineEvent('closed', { by: alice, at: '2026-03-02T09:58:00Z' }));
  pullRequest.events.push(aTimelineEvent('reopened', { by: alice, at: reopenAt }));
  pullRequest.reviews.push(aReview({ by: bob, on: backdoor.sha, at: '2026-03-02T10:00:59Z' }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice, at: '2026-03-02T11:00:00Z' });
  return { repository, merged };
}

async function judge(reopenAt: string, api: 'graphql' | 'rest') {
  const { repository, merged } = reopenedChange(reopenAt);
  const fake = await startGitHubFake(aGitHubState(repository));
  fakes.push(fake);
  const client = createGitHubClient({ token: 'ghs_test', baseUrl: fake.url, retryDelayMs: 5, timeoutMs: 5_000 });
  const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
  const evidence =
    api === 'rest'
      ? await collectReviewEvidence(client, request)
      : (await readReviewEvidence(client, request)).evidence;
  expect(evidence.gaps).toEqual([]);
  return { evidence, result: evaluateReview(evidence, DEFAULT_REVIEW_RULES) };
}

describe('a pull request reopened just before an approval that names no commit', () => {
  it.each(['graphql', 'rest'] as const)('refuses the approval a second after the reopening (%s)', async (api) => {
    const { evidence, result } = await judge('2026-03-02T10:00:58Z', api);
    expect(evidence.pullRequest?.reopens).toEqual([
      expect.objectContaining({ at: '2026-03-02T10:00:58Z', actor: expect.objectContaining({ login: 'alice' }) }),
    ]);
    expect(result.verdict).toBe('fail');
    expect(result.checks.find((c) => c.id === 'approval-on-merged-head')?.reason).toContain(
      '1 s after alice reopened the pull request at 2026-03-02T10:00:58Z',
    );
    expect(result.independentApprovers).toEqual([]);
  });

  it.each(['graphql', 'rest'] as const)('counts it long enough after the reopening (%s)', async (api) => {
    const { result } = await judge('2026-03-02T09:59:30Z', api);
    expect(result.checks.filter((c) => c.verdict !== 'pass')).toEqual([]);
  });
});
