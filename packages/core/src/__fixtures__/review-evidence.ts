// Review evidence as packages/github collects it, for one honest pull request: alice wrote it, bob (write access)
// approved the merged head. Tests change one thing at a time to build each attack.

import type { GitHubAccount, GitPerson, Review, ReviewEvidence, ReviewRules } from '../model';

export const REPOSITORY = 'acme/app';
export const MERGE_COMMIT = 'a'.repeat(40);
export const HEAD = 'b'.repeat(40);
export const FIRST_COMMIT = 'c'.repeat(40);
export const OLD_HEAD = 'd'.repeat(40);

export const alice: GitHubAccount = { login: 'alice', id: 101, type: 'User' };
export const bob: GitHubAccount = { login: 'bob', id: 202, type: 'User' };
export const carol: GitHubAccount = { login: 'carol', id: 303, type: 'User' };
export const mallory: GitHubAccount = { login: 'mallory', id: 404, type: 'User' };
export const dependabot: GitHubAccount = { login: 'dependabot[bot]', id: 49699333, type: 'Bot' };

export const alicePerson: GitPerson = { name: 'Alice', email: 'alice@acme.example', account: alice };

export const RULES: ReviewRules = {
  minApprovals: 1,
  allowBots: false,
  requireApprovalOnHead: true,
  changesRequestedBlocks: true,
};

let nextReviewId = 1000;

/** A review submitted `minute` minutes after the pull request was opened. */
export function review(reviewer: GitHubAccount, state: Review['state'], commitId = HEAD, minute = 10): Review {
  nextReviewId += 1;
  return {
    id: nextReviewId,
    reviewer,
    state,
    commitId,
    submittedAt: new Date(Date.UTC(2026, 10, 20, 12, minute)).toISOString(),
  };
}

/** Honest evidence: alice's two commits, merged by squash as MERGE_COMMIT, bob approved HEAD. */
export function honestEvidence(overrides: Partial<ReviewEvidence> = {}): ReviewEvidence {
  return {
    repository: REPOSITORY,
    commit: MERGE_COMMIT,
    gaps: [],
    pullRequest: {
      number: 42,
      url: 'https://github.com/acme/app/pull/42',
      title: 'Add the widget endpoint',
      author: alice,
      headSha: HEAD,
      mergeCommitSha: MERGE_COMMIT,
      mergedAt: '2026-11-20T13:00:00Z',
      mergedBy: bob,
      mergeMethod: 'squash',
      baseRef: 'main',
    },
    commits: [
      {
        sha: FIRST_COMMIT,
        author: alicePerson,
        committer: alicePerson,
        coAuthors: [],
        committedAt: '2026-11-20T11:00:00Z',
      },
      { sha: HEAD, author: alicePerson, committer: alicePerson, coAuthors: [], committedAt: '2026-11-20T11:30:00Z' },
    ],
    reviews: [{ id: 900, reviewer: bob, state: 'APPROVED', commitId: HEAD, submittedAt: '2026-11-20T12:10:00.000Z' }],
    lastPush: { accounts: [alice], people: [alicePerson], source: 'head-commit' },
    permissions: { alice: 'write', bob: 'write', carol: 'maintain', mallory: 'read', 'dependabot[bot]': 'write' },
    ...overrides,
  };
}
