// Row 61 of the threat model (retarget after the approval) with the retarget in the same second as the approval. alice pushes an unreviewed commit F straight to the unprotected branch `feature`, opens a pull request
// of H (on top of F) into `feature`; bob approves H, seeing only H's diff. alice's script, polling the reviews, retargets
// the pull request to `main` at once: GitHub's timestamps have whole seconds, so the base change carries the same
// second as the approval. A base change in the approval's own second must count as after it, or bob's approval of
// another diff counts and F ships unreviewed. Nor does one after it: an approval never names the base, and bob may have
// opened the diff against `feature` before the change and approved after it. Both reads of GitHub (GraphQL and REST),
// through the GitHub fake.

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

function retargetedChange(retargetAt: string, headAt = '2026-03-02T09:00:00Z') {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  // F: pushed directly to the unprotected branch `feature` by alice, never reviewed.
  const unreviewed = aCommit({ author: alice, message: 'Unreviewed: disable auth', date: '2026-03-02T08:00:00Z' });
  pushCommit(repository, unreviewed, 'feature', { by: alice });
  const head = aCommit({
    author: alice,
    message: 'Small harmless change',
    date: headAt,
    parents: [unreviewed.sha],
  });
  // Into `feature` at first (bob saw H's diff only); after the retarget to main the PR lists F and H.
  const pullRequest = aPullRequest({ author: alice, commits: [unreviewed, head], headRef: 'change', baseRef: 'main' });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, at: '2026-03-02T10:00:00Z' }));
  pullRequest.events.push(aTimelineEvent('base_ref_changed', { by: alice, at: retargetAt }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice, at: '2026-03-02T11:00:00Z' });
  return { alice, bob, repository, merged };
}

async function judge(retargetAt: string, api: 'graphql' | 'rest', headAt?: string) {
  const { repository, merged } = retargetedChange(retargetAt, headAt);
  const fake = await startGitHubFake(aGitHubState(repository));
  fakes.push(fake);
  const client = createGitHubClient({ token: 'ghs_test', baseUrl: fake.url, retryDelayMs: 5, timeoutMs: 5_000 });
  const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
  const evidence =
    api === 'rest'
      ? await collectReviewEvidence(client, request)
      : (await readReviewEvidence(client, request)).evidence;
  return { evidence, result: evaluateReview(evidence, DEFAULT_REVIEW_RULES) };
}

describe('a pull request retargeted in the same second as its approval', () => {
  it.each(['graphql', 'rest'] as const)('refuses the approval (%s)', async (api) => {
    const { evidence, result } = await judge('2026-03-02T10:00:00Z', api);
    expect(evidence.gaps).toEqual([]);
    expect(evidence.pullRequest?.baseChanges).toEqual([
      expect.objectContaining({ at: '2026-03-02T10:00:00Z', actor: expect.objectContaining({ login: 'alice' }) }),
    ]);
    expect(result.verdict).toBe('fail');
    const check = result.checks.find((c) => c.id === 'approval-on-merged-head');
    expect(check?.verdict).toBe('fail');
    expect(check?.reason).toContain("alice changed the pull request's base at 2026-03-02T10:00:00Z");
    expect(result.independentApprovers).toEqual([]);
  });

  it.each(['graphql', 'rest'] as const)('refuses it a second later too (%s)', async (api) => {
    const { result } = await judge('2026-03-02T10:00:01Z', api);
    expect(result.checks.find((c) => c.id === 'approval-on-merged-head')?.verdict).toBe('fail');
  });

  it.each(['graphql', 'rest'] as const)(
    'refuses an approval given after the retarget, a second or minutes later: bob may have read the diff against feature (%s)',
    async (api) => {
      // Found by the review of the sign stage: bob opened the pull request while it was into `feature` (H's diff only);
      // alice retargeted it to main while he read; he approved after the change, and F shipped unreviewed.
      for (const retargetAt of ['2026-03-02T09:59:59Z', '2026-03-02T09:55:00Z']) {
        const { result } = await judge(retargetAt, api);
        expect(result.verdict, retargetAt).toBe('fail');
        expect(result.checks.find((c) => c.id === 'approval-on-merged-head')?.reason).toContain(
          `alice changed the pull request's base at ${retargetAt}, and the merged head was first pushed before it: an approval names the head it approved, never the base`,
        );
        expect(result.independentApprovers).toEqual([]);
      }
    },
  );

  it.each(['graphql', 'rest'] as const)(
    'counts an approval of a head pushed after the retarget: a page opened before that push approves the head before it (%s)',
    async (api) => {
      // alice retargeted at 09:30 and pushed H at 09:31 (the activity feed); bob approved H at 10:00: the page he
      // approved from was opened after H's push, so it showed the diff against main.
      const { evidence, result } = await judge('2026-03-02T09:30:00Z', api, '2026-03-02T09:31:00Z');
      expect(evidence.gaps).toEqual([]);
      expect(result.checks.filter((c) => c.verdict !== 'pass')).toEqual([]);
      expect(result.independentApprovers.map((a) => a.login)).toEqual(['bob']);
      // Pushed 20 s after the retarget: not long enough (review.min-seconds-after-push, 30).
      const soon = await judge('2026-03-02T09:30:40Z', api, '2026-03-02T09:31:00Z');
      expect(soon.result.checks.find((c) => c.id === 'approval-on-merged-head')?.reason).toContain(
        'the merged head was first pushed 20 s after it',
      );
    },
  );
});
