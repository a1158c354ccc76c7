// A developer alone ships an unreviewed commit through a branch she creates that a review.protected-branches glob
// matches (the example policy's "release/*"): alice creates release/9.9 with her backdoor F on top of main (a branch
// creation, no pull request), opens a one-line pull request H into release/9.9 (its commits and diff: H only), bob
// approves H, alice merges, and the build on release/9.9 holds F, reviewed by nobody (threat model row 183). Both ways
// of reading GitHub give the same evidence; the review rules refuse it unless the org policy accepts builds of
// branches other than the default one (review.allow-non-default-branches), which it should only where rulesets
// restrict creating them.
import { DEFAULT_REVIEW_RULES, evaluateReview } from '@twokey/core';
import { collectReviewEvidence, createGitHubClient, readReviewEvidence } from '@twokey/github';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
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

const RULES = { ...DEFAULT_REVIEW_RULES, protectedBranches: ['main', 'release/*'] };

function scenario() {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  // 1. alice creates release/9.9 from main with her unreviewed commit F (git push origin HEAD:refs/heads/release/9.9).
  const backdoor = aCommit({ author: alice, message: 'Backdoor', date: '2026-03-02T08:00:00Z' });
  pushCommit(repository, backdoor, 'release/9.9', { by: alice });
  expect(backdoor.parents).not.toEqual([]);
  // 2. a harmless PR into release/9.9: its commits are H only.
  const head = aCommit({ author: alice, message: 'Fix typo', date: '2026-03-02T09:00:00Z', parents: [backdoor.sha] });
  const pr = aPullRequest({
    author: alice,
    commits: [head],
    headRef: 'typo',
    baseRef: 'release/9.9',
    baseSha: backdoor.sha,
  });
  // 3. bob approves the one-line diff.
  pr.reviews.push(aReview({ by: bob, on: head.sha, at: '2026-03-02T10:00:00Z' }));
  // 4. alice merges; the push to release/9.9 runs the shared build workflow (ref refs/heads/release/9.9).
  const merged = mergePullRequest(repository, pr, { method: 'merge', by: alice, at: '2026-03-02T11:00:00Z' });
  return { repository, merged };
}

describe('a branch alice creates that a protected-branches glob matches', () => {
  it.each(['graphql', 'rest'] as const)(
    'refuses the build of it, though bob approved what its pull request showed (%s)',
    async (api) => {
      const { repository, merged } = scenario();
      const fake = await startGitHubFake(aGitHubState(repository));
      fakes.push(fake);
      const client = createGitHubClient({
        token: 'ghs_test',
        baseUrl: fake.url,
        retryDelayMs: 5,
        timeoutMs: 5_000,
        readsOnly: true,
      });
      const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/release/9.9' };
      const evidence =
        api === 'rest'
          ? await collectReviewEvidence(client, request)
          : (await readReviewEvidence(client, request)).evidence;
      // The evidence is complete, and bob is independent of what the pull request showed: the branch is the gap.
      expect(evidence.gaps).toEqual([]);
      const result = evaluateReview(evidence, RULES);
      expect(result.verdict).toBe('fail');
      expect(result.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).toEqual(['base-is-protected-branch']);
      expect(result.checks.find((c) => c.id === 'base-is-protected-branch')!.reason).toMatch(
        /pull request #\d+ was merged into release\/9\.9, which is not the repository's default branch \(main\)/,
      );
      // An organisation whose rulesets keep writers from creating release/* branches accepts it, knowingly.
      expect(evaluateReview(evidence, { ...RULES, allowNonDefaultBranches: true }).verdict).toBe('pass');
    },
  );
});
