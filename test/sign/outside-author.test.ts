// An author nobody made accountable for the change. alice, a writer on a public repository, makes a free second
// account, mallory, that nobody granted anything: as mallory she forks the repository, writes and pushes the code and
// opens the pull request; as alice she approves it and merges it. One person stood behind the change, and every
// per-approval rule holds (alice authored, committed and pushed nothing). An author without write access is not one
// of the two people the rule asks for: the change needs one more independent approval, through both reads of GitHub.
import { DEFAULT_REVIEW_RULES, evaluateReview } from '@twokey/core';
import { collectReviewEvidence, createGitHubClient, readReviewEvidence } from '@twokey/github';
import {
  aBot,
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
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

function outsideChange(approvers: string[]) {
  const alice = aUser('alice', { profile: { name: 'Alice Liddell', email: 'alice@acme.example' } });
  const carol = aUser('carol', { profile: { name: 'Carol', email: 'carol@acme.example' } });
  // A free account alice made; it has no role on acme/app (public: it can fork and open pull requests).
  const mallory = aUser('mallory', { profile: { name: 'Mallory', email: null } });
  const repository = aRepository('acme/app', {
    visibility: 'public',
    collaborators: { alice: 'write', carol: 'write' },
  });
  const fork = aRepository('mallory/app', { ownerType: 'User', visibility: 'public' });
  const head = aCommit({ author: mallory, message: 'Add a backdoor' });
  const pullRequest = aPullRequest({ author: mallory, commits: [head], headRepository: 'mallory/app' });
  const people = { alice, carol };
  for (const login of approvers)
    pullRequest.reviews.push(aReview({ by: people[login as 'alice' | 'carol'], on: head.sha }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });
  return { state: aGitHubState(repository, fork, alice, carol, mallory), merged };
}

/** The same change, its pull request opened by a bot: a workflow of alice's (GITHUB_TOKEN) ran `gh pr create`. */
function botOpenedChange() {
  const alice = aUser('alice', { profile: { name: 'Alice Liddell', email: 'alice@acme.example' } });
  const mallory = aUser('mallory', { profile: { name: 'Mallory', email: null } });
  const actionsBot = aBot('github-actions');
  const repository = aRepository('acme/app', { visibility: 'public', collaborators: { alice: 'write' } });
  const fork = aRepository('mallory/app', { ownerType: 'User', visibility: 'public' });
  const head = aCommit({ author: mallory, message: 'Add a backdoor' });
  const pullRequest = aPullRequest({ author: actionsBot, commits: [head], headRepository: 'mallory/app' });
  // mallory, not the bot, created and pushed the fork's branch: no bot push to be seen.
  for (const change of pullRequest.headActivity) change.by = { login: mallory.login, id: mallory.id, type: 'User' };
  pullRequest.reviews.push(aReview({ by: alice, on: head.sha }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });
  return { state: aGitHubState(repository, fork, alice, mallory, actionsBot), merged };
}

async function judge(approvers: string[] | 'bot-opened', api: 'graphql' | 'rest') {
  const { state, merged } = approvers === 'bot-opened' ? botOpenedChange() : outsideChange(approvers);
  const fake = await startGitHubFake(state);
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

describe('a pull request opened by an account without write access', () => {
  it.each(['graphql', 'rest'] as const)(
    'is refused with its only approver, the sock puppet’s owner (%s)',
    async (api) => {
      const { evidence, result } = await judge(['alice'], api);
      expect(evidence.gaps).toEqual([]);
      expect(evidence.permissions).toEqual({ alice: 'write', mallory: 'read' });
      expect(result.verdict).toBe('fail');
      const check = result.checks.find((c) => c.id === 'min-independent-approvals')!;
      expect(check.verdict).toBe('fail');
      expect(check.reason).toBe(
        'expected at least 2 (1 + 1: the author mallory has read permission on acme/app, so another person with write access must approve the change too), found 1 independent approval (alice)',
      );
      expect(result.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).toEqual(['min-independent-approvals']);
    },
  );

  it.each(['graphql', 'rest'] as const)('passes with two independent approvers with write access (%s)', async (api) => {
    const { result } = await judge(['alice', 'carol'], api);
    expect(result.checks.filter((c) => c.verdict !== 'pass')).toEqual([]);
    expect(result.independentApprovers.map((a) => a.login)).toEqual(['alice', 'carol']);
  });

  it.each(['graphql', 'rest'] as const)('is refused when a bot opened it for the sock puppet (%s)', async (api) => {
    const { evidence, result } = await judge('bot-opened', api);
    expect(evidence.gaps).toEqual([]);
    expect(evidence.pullRequest?.author.login).toBe('github-actions[bot]');
    const check = result.checks.find((c) => c.id === 'min-independent-approvals')!;
    expect(check.verdict).toBe('fail');
    expect(check.reason).toContain(
      'expected at least 2 (1 + 1: the author github-actions[bot] is a bot review.bot-pushers does not list',
    );
    expect(result.verdict).toBe('fail');
  });
});
