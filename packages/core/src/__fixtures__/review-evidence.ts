// Review evidence as packages/github collects it, for one honest pull request: alice wrote it, bob (write access)
// approved the merged head. Tests change one thing at a time to build each attack.

import type {
  AccountProfile,
  ActivityEvidence, GitHubAccount, GitPerson, RefActivity, Review, ReviewEvidence, ReviewRules } from '../model';
import { DEFAULT_REVIEW_RULES } from '../policy';

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

/** The default rules: one independent approval on the merged head, no bots, nothing unidentified, the activity feed. */
export const RULES: ReviewRules = { ...DEFAULT_REVIEW_RULES };

/** Public profiles as `GET /users/{login}` shows them: bob has a profile name and a public e-mail of his own. */
export const PROFILES: AccountProfile[] = [
  { account: alice, name: 'Alice Author' },
  { account: bob, name: 'Bob Builder', email: 'bob@acme.example' },
  { account: carol, name: 'Carol Checker' },
  { account: mallory, name: 'Mallory' },
  { account: dependabot },
];

/** An entry of the repository activity feed. */
export function activity(
  activityType: RefActivity['activityType'],
  actor: GitHubAccount | null,
  options: { ref?: string; after?: string; before?: string; timestamp?: string; id?: number } = {},
): RefActivity {
  return {
    id: options.id ?? 7000,
    ref: options.ref ?? 'refs/heads/main',
    before: options.before ?? '0'.repeat(40),
    after: options.after ?? MERGE_COMMIT,
    timestamp: options.timestamp ?? '2026-11-20T13:00:00Z',
    activityType,
    actor,
  };
}

/** alice pushed her branch; bob's merge of pull request #42 brought MERGE_COMMIT onto main. */
export function honestActivity(): Extract<ActivityEvidence, { available: true }> {
  return {
    available: true,
    headPushes: [
      activity('push', alice, { ref: 'refs/heads/widget', after: FIRST_COMMIT, timestamp: '2026-11-20T11:00:30Z', id: 7001 }),
      activity('push', alice, { ref: 'refs/heads/widget', after: HEAD, timestamp: '2026-11-20T11:30:30Z', id: 7002 }),
    ],
    builtCommitArrivals: [activity('pr_merge', bob, { id: 7003 })],
  };
}

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
  const evidence: ReviewEvidence = {
    repository: REPOSITORY,
    commit: MERGE_COMMIT,
    builtRef: 'refs/heads/main',
    defaultBranch: 'main',
    gaps: [],
    pullRequest: {
      number: 42,
      url: 'https://github.com/acme/app/pull/42',
      title: 'Add the widget endpoint',
      author: alice,
      headSha: HEAD,
      headRef: 'widget',
      headRepository: REPOSITORY,
      mergeCommitSha: MERGE_COMMIT,
      createdAt: '2026-11-20T11:01:00Z',
      mergedAt: '2026-11-20T13:00:00Z',
      mergedBy: bob,
      mergeMethod: 'squash',
      baseRef: 'main',
      baseChanges: [],
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
    profiles: PROFILES,
    lastPush: { accounts: [alice], people: [], source: 'activity' },
    activity: honestActivity(),
    permissions: { alice: 'write', bob: 'write', carol: 'maintain', mallory: 'read', 'dependabot[bot]': 'write' },
    ...overrides,
  };
  // The merge brought whatever commit the evidence is about onto main, unless a test says otherwise.
  if (!('activity' in overrides) && evidence.activity?.available) {
    for (const arrival of evidence.activity.builtCommitArrivals) arrival.after = evidence.commit;
  }
  return evidence;
}
