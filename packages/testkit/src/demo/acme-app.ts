// acme/app's history on the GitHub fake: the changes the demo releases, each merged (or pushed) the way its story
// says, so the sign action finds on the GitHub API exactly what a real repository would show.

import {
  buildReviewStatement,
  DEFAULT_REVIEW_RULES,
  evaluateReview,
  type GitHubAccount,
  type GitPerson,
  type ReviewEvidence,
  type ReviewSubject,
  type Statement,
} from '@twokey/core';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakePullRequest,
  type FakeRepository,
  type FakeUser,
  type GitHubFakeState,
  mergePullRequest,
  NO_COMMIT,
  pushCommit,
} from '../github-fake';

export interface AcmeApp {
  state: GitHubFakeState;
  /** acme/app on the GitHub fake (live: its deploy runs' approvals are set as each deploy job runs). */
  repository: FakeRepository;
  /**
   * alice, bob and mallory write code; carol and alice are the production environment's reviewers; dave approves
   * break-glasses (the twokey-break-glass environment's reviewer); erin is on call.
   */
  people: { alice: FakeUser; bob: FakeUser; mallory: FakeUser; carol: FakeUser; dave: FakeUser; erin: FakeUser };
  /** alice's change, approved by bob on its head, squash-merged by bob. */
  reviewed: Merge;
  /** mallory's change, approved only by mallory, merged by mallory. */
  selfApproved: Merge;
  /** bob's change, approved by alice: honestly reviewed, but released without the sign stage. */
  unsigned: Merge;
  /** mallory's change, merged by mallory unreviewed; bob approves it an hour after the merge. */
  approvedAfterMerge: Merge;
  /** mallory's change pushed straight onto main: no pull request, no review. */
  pushed: { commit: string; message: string };
  /** erin's hotfix, pushed straight onto main during an outage: no pull request, no review. */
  hotfix: { commit: string; message: string };
}

/** The deploy environment, and the break-glass workflow's own environment (docs/break-glass-predicate.md). */
export const PRODUCTION = 'production';
export const BREAK_GLASS_ENVIRONMENT = 'twokey-break-glass';

export interface Merge {
  commit: string;
  pullRequest: FakePullRequest;
}

export function acmeApp(): AcmeApp {
  const alice = aUser('alice', { name: 'Alice Liddell' });
  const bob = aUser('bob', { name: 'Bob Marley' });
  const mallory = aUser('mallory', { name: 'Mallory Moriarty' });
  const repository = aRepository('acme/app', {
    collaborators: { alice: 'write', bob: 'write', mallory: 'write' },
  });

  const merge = (author: FakeUser, approver: FakeUser, title: string): Merge => {
    const change = aCommit({ author, message: title });
    const pullRequest = aPullRequest({
      author,
      commits: [change],
      title,
      baseSha: repository.branches.main,
    });
    pullRequest.reviews.push(aReview({ by: approver, on: change.sha, body: 'LGTM' }));
    return { commit: mergePullRequest(repository, pullRequest, { method: 'squash', by: author }), pullRequest };
  };

  const reviewed = merge(alice, bob, 'Greet in French');
  const selfApproved = merge(mallory, mallory, 'Report usage to metrics.mallory.example');
  const unsigned = merge(bob, alice, 'Greet in Spanish');
  const approvedAfterMerge = ((): Merge => {
    const change = aCommit({ author: mallory, message: 'Cache greetings forever' });
    const pullRequest = aPullRequest({
      author: mallory,
      commits: [change],
      title: change.message,
      baseSha: repository.branches.main,
    });
    const commit = mergePullRequest(repository, pullRequest, { method: 'squash', by: mallory });
    const anHourLater = new Date(Date.parse(pullRequest.mergedAt!) + 3600_000).toISOString().replace('.000Z', 'Z');
    pullRequest.reviews.push(aReview({ by: bob, on: change.sha, at: anHourLater, body: 'LGTM (after the fact)' }));
    return { commit, pullRequest };
  })();
  const message = 'Hotfix: faster greeting';
  const pushed = { commit: pushCommit(repository, aCommit({ author: mallory, message })), message };

  // Those who release: carol (release manager) and alice review production deploys; dave releases break-glass runs;
  // erin is on call. GitHub's "prevent self-review" keeps only whoever started a run from approving it: alice can
  // still approve the deploy of her own change when someone else started it.
  const carol = aUser('carol', { name: 'Carol Danvers' });
  const dave = aUser('dave', { name: 'Dave Bowman' });
  const erin = aUser('erin', { name: 'Erin Brockovich' });
  Object.assign(repository.collaborators, { carol: 'maintain', dave: 'admin', erin: 'write' });
  repository.environments = {
    [PRODUCTION]: { reviewers: [alice, carol], preventSelfReview: true },
    [BREAK_GLASS_ENVIRONMENT]: { reviewers: [dave], preventSelfReview: true },
  };
  const hotfixMessage = 'Hotfix: stop crashing on an empty name';
  const hotfix = {
    commit: pushCommit(repository, aCommit({ author: erin, message: hotfixMessage })),
    message: hotfixMessage,
  };
  return {
    state: aGitHubState(repository, carol, dave, erin),
    repository,
    people: { alice, bob, mallory, carol, dave, erin },
    reviewed,
    selfApproved,
    unsigned,
    approvedAfterMerge,
    pushed,
    hotfix,
  };
}

/**
 * The review attestation a compromised build job makes up for a commit that was never reviewed: it claims a pull
 * request by `author` that `approver` approved on its head. Well-formed and passing the review rules on its face —
 * only who signed it gives it away.
 */
export function forgedReviewStatement(input: {
  commit: string;
  artifact: ReviewSubject;
  author: FakeUser;
  approver: FakeUser;
}): Statement {
  const { commit, author, approver } = input;
  const head = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0';
  // As GitHub would have it: pushed half an hour before the merge, approved ten minutes before it.
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const now = minutesAgo(0);
  const pushedAt = minutesAgo(30);
  const approvedAt = minutesAgo(10);
  const account = (user: FakeUser): GitHubAccount => ({ login: user.login, id: user.id, type: user.type });
  const person: GitPerson = { name: author.name, email: author.email, account: account(author) };
  const evidence: ReviewEvidence = {
    repository: 'acme/app',
    commit,
    builtRef: 'refs/heads/main',
    defaultBranch: 'main',
    gaps: [],
    pullRequest: {
      number: 77,
      url: 'https://github.com/acme/app/pull/77',
      title: 'Hotfix: faster greeting',
      author: account(author),
      headSha: head,
      mergeCommitSha: commit,
      mergedAt: now,
      mergedBy: account(author),
      mergeMethod: 'squash',
      baseRef: 'main',
      headRef: 'hotfix',
      headRepository: 'acme/app',
      createdAt: pushedAt,
      baseChanges: [],
    },
    commits: [{ sha: head, author: person, committer: person, coAuthors: [], committedAt: pushedAt }],
    reviews: [{ id: 770001, reviewer: account(approver), state: 'APPROVED', commitId: head, submittedAt: approvedAt }],
    profiles: [{ account: account(approver), name: approver.name }],
    lastPush: { accounts: [account(author)], people: [], source: 'activity' },
    activity: {
      available: true,
      headPushes: [
        {
          id: 1,
          ref: 'refs/heads/hotfix',
          before: NO_COMMIT,
          after: head,
          timestamp: pushedAt,
          activityType: 'push',
          actor: account(author),
        },
      ],
      builtCommitArrivals: [
        {
          id: 2,
          ref: 'refs/heads/main',
          before: NO_COMMIT,
          after: commit,
          timestamp: now,
          activityType: 'pr_merge',
          actor: account(author),
        },
      ],
    },
    permissions: { [approver.login]: 'write', [author.login]: 'write' },
  };
  const rules = DEFAULT_REVIEW_RULES;
  return buildReviewStatement({
    subjects: [input.artifact],
    evidence,
    rules,
    result: evaluateReview(evidence, rules),
    serverUrl: 'https://github.com',
  }) as unknown as Statement;
}
