// Review evidence for repository R and commit C, read from the GitHub REST API: R's default branch, the pull request
// merged as C, its commits, reviews, pushes, how C reached the branch it was built on, each approver's public profile
// and each reviewer's permission. An API failure never escapes as an exception: it becomes a gap, and evidence with
// gaps is incomplete (the review rules refuse it) — except the activity feed's, which is recorded as unavailable for
// the policy to judge (the review rules' fallback).
//
// What the REST API can and cannot tell:
// - `GET /commits/{C}/pulls` lists the pull requests GitHub associates with C; the one merged as C is the one whose
//   `merge_commit_sha` is C. For a rebase merge that is the last replayed commit: an earlier replayed commit of the
//   same pull request is associated with it but was not merged "as" it, and is reported as such.
// - The merge method is not recorded anywhere; it is read from the shape of C:
//   merge  = C has two parents, the second being the PR head;
//   rebase = C has one parent and carries the head commit's author (name, email, date) and message;
//   squash = C has one parent and is not a PR commit, otherwise.
//   A squash whose message and author were edited to equal the head's reads as a rebase (both replay the head's
//   changes onto the base). Anything else (fast-forward to a PR commit, a second parent that is not the head,
//   octopus merges) is an unknown merge method: a gap. The API cannot show that C's tree is the head's changes.
// - Pull request commits: the API lists at most 250; a longer pull request is a gap (GraphQL lists them all).
// - Base changes, force pushes and reopenings: the pull request's issue events (`GET /issues/{n}/events`), the only
//   REST list with base changes — `base_ref_changed`, and `automatic_base_change_succeeded` when GitHub moves a
//   stacked pull request onto the merged base of a deleted branch; the timeline has neither (docs, "Issue event
//   types") — and `reopened`.
// - Who pushed, and how C reached the built branch: the repository activity feed (`GET /repos/{owner}/{repo}/activity`)
//   names the actor of every push, force push, branch creation and deletion, pull request merge (`pr_merge`) and merge
//   queue merge (`merge_queue_merge`) of a ref, with the commits before and after. Read for two refs:
//   * the head branch, in the head repository (a fork's own feed): its branch creations, pushes and force pushes from
//     the latest creation or deletion at or before the pull request was opened (an older branch of the same name is
//     not this pull request's) up to the merge. The last of them names the last pusher.
//   * the built branch (the provenance's `refs/heads/…`, else the pull request's base): every entry whose `after` is
//     C, read back to a day before the merge. A merge shows as pr_merge or merge_queue_merge; C pushed or force-pushed
//     there (even a pull request's merge commit, made on another branch) shows as a push.
//   Each read stops after 10 pages of 100: a window it did not cover is a gap. What the feed cannot tell: who wrote a
//   commit (only who pushed it), pushes to a fork that the fork's feed does not show to this token, and anything
//   older than GitHub keeps. When it cannot be read (no permission: 403; 404; an error after retries) it is recorded
//   as unavailable with the reason, and the last pusher falls back to a guess: the actor of the latest
//   `head_ref_force_pushed` timeline event when it is newer than the head commit, else the head commit's author and
//   committer. The head commit's date is written by whoever made it: a date after the merge is forged and then loses
//   to any force push, but a force-pushed commit dated between the push and the merge hides that push, and a plain
//   push names nobody. The same guess stands when the feed shows no push to the head branch in the window.
// - Who a reviewer is: the account's public profile (`GET /users/{login}`) gives a profile name and public e-mail,
//   which commits may carry instead of the noreply address. A profile shows only what its owner made public.

import type {
  AccountProfile,
  ActivityEvidence,
  GitHubAccount,
  GitPerson,
  MergeMethod,
  PullRequestCommit,
  RefActivity,
  RefActivityType,
  RepositoryPermission,
  Review,
  ReviewEvidence,
  ReviewState,
} from '@twokey/core';
import type { GitHubClient } from './octokit';

export interface ReviewEvidenceRequest {
  /** `owner/name`. */
  repository: string;
  /** The built commit (40 or 64 hex). */
  commit: string;
  /** The ref the build ran on, from verified build provenance (e.g. `refs/heads/main`): the evidence's `builtRef`. */
  ref?: string;
}

const PER_PAGE = 100;
/** REST lists at most this many commits of a pull request. */
const MAX_LISTED_COMMITS = 250;
/** The activity feed is read at most this many pages (of 100) per ref. */
const MAX_ACTIVITY_PAGES = 10;
const DAY_MS = 24 * 3_600_000;
/**
 * What does not move a head branch to commits someone chose. Every other entry of its feed does, and its actor is a
 * pusher: a push, a force push, the branch's creation, a pull request merged into it (`pr_merge`: a stacked pull
 * request's commits, chosen by whoever merged it), a merge queue's merge, and any type GitHub adds later.
 */
const NOT_HEAD_PUSHES: ReadonlySet<string> = new Set<RefActivityType>(['branch_deletion']);
const BRANCH_BOUNDS: ReadonlySet<string> = new Set<RefActivityType>(['branch_creation', 'branch_deletion']);
const REVIEW_STATES: ReadonlySet<string> = new Set<ReviewState>([
  'APPROVED',
  'CHANGES_REQUESTED',
  'COMMENTED',
  'DISMISSED',
  'PENDING',
]);

/** Everything a merge-method decision needs to know about one commit. */
interface CommitShape {
  sha: string;
  parents: string[];
  author: { name?: string; email?: string; date?: string } | null;
  message: string;
}

type ApiAccount = { login: string; id: number; type?: string } | null | undefined;

interface ApiCommit {
  sha: string;
  parents: { sha: string }[];
  author: ApiAccount | Record<string, never>;
  committer: ApiAccount | Record<string, never>;
  commit: {
    author: { name?: string; email?: string; date?: string } | null;
    committer: { name?: string; email?: string; date?: string } | null;
    message: string;
  };
}

export async function collectReviewEvidence(
  client: GitHubClient,
  request: ReviewEvidenceRequest,
): Promise<ReviewEvidence> {
  const { owner, repo, evidence } = startEvidence(request);
  const { commit } = evidence;
  const github = new RepositoryReads(client, owner, repo, evidence.gaps);

  // 1. The pull request merged as C, and the repository's default branch.
  const [associated, repository] = await Promise.all([
    github.list('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', { commit_sha: commit }),
    github.get('GET /repos/{owner}/{repo}', {}),
  ]);
  if (repository) evidence.defaultBranch = repository.default_branch;
  if (!associated) return evidence;
  const number = pullRequestMergedAs(
    evidence,
    associated.map((pr) => ({
      number: pr.number,
      url: pr.html_url,
      merged: pr.merged_at !== null,
      mergeCommitSha: pr.merge_commit_sha ?? null,
      baseRepository: pr.base.repo.full_name,
    })),
  );
  if (number === undefined) return evidence;

  // 2. Everything about it, read concurrently.
  const [pr, mergeCommit, listedCommits, reviews, timeline] = await Promise.all([
    github.get('GET /repos/{owner}/{repo}/pulls/{pull_number}', { pull_number: number }),
    github.get('GET /repos/{owner}/{repo}/commits/{ref}', { ref: commit }),
    github.list('GET /repos/{owner}/{repo}/pulls/{pull_number}/commits', { pull_number: number }),
    github.list('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { pull_number: number }),
    // Issue events, not the timeline: GitHub's REST API gives a base change (`base_ref_changed`, and
    // `automatic_base_change_succeeded` when GitHub retargets a pull request whose base branch was deleted) only
    // among issue events (docs, "Issue event types"); force pushes are in both.
    github.list('GET /repos/{owner}/{repo}/issues/{issue_number}/events', { issue_number: number }),
  ]);
  if (!pr) return evidence;
  const facts: PullRequestFacts = {
    number,
    url: pr.html_url,
    title: pr.title,
    author: accountOf(pr.user),
    mergedBy: accountOf(pr.merged_by),
    merged: pr.merged,
    mergedAt: pr.merged_at,
    mergeCommitSha: pr.merge_commit_sha,
    createdAt: pr.created_at,
    headSha: pr.head.sha,
    headRef: pr.head.ref,
    headRepository: pr.head.repo?.full_name,
    baseRef: pr.base.ref,
    commitCount: pr.commits,
    commitsListedAtMost: MAX_LISTED_COMMITS,
    commits: listedCommits && (listedCommits as ApiCommit[]).map(commitFactsOf),
    mergeCommit: mergeCommit && commitFactsOf(mergeCommit as ApiCommit),
    reviews: reviews?.map((review) => ({
      id: review.id,
      reviewer: review.user ? (accountOf(review.user) ?? null) : null,
      state: review.state,
      commitId: review.commit_id,
      submittedAt: review.submitted_at,
    })),
    timeline: timeline && timelineFactsOf(timeline as RestTimelineEvent[]),
  };
  // 3–7, with the activity feed and the people behind the reviews read concurrently.
  return assembleEvidence(evidence, request, facts, {
    activity: (activityRequest) => activityOf(client, evidence.gaps, activityRequest),
    people: async (reviewers, approvers) => {
      const [permissions, profiles] = await Promise.all([
        readPermissions(client, request.repository, reviewers, evidence.gaps),
        Promise.all(approvers.map((account) => github.profile(account))),
      ]);
      return { permissions, profiles: profiles.filter((profile): profile is AccountProfile => profile !== undefined) };
    },
  });
}

// ── What either API tells, in one shape ──────────────────────────────────────────────────────────────────────

/** One commit as either API shows it: what the model and the merge-method decision need. */
export interface CommitFacts {
  sha: string;
  /** Empty when not read (only the merge commit's parents decide anything). */
  parents: string[];
  author: GitSignature | null;
  committer: GitSignature | null;
  /** The accounts GitHub linked to the author's and committer's e-mails. */
  authorAccount: GitHubAccount | undefined;
  committerAccount: GitHubAccount | undefined;
  message: string;
}

export interface GitSignature {
  name?: string;
  email?: string;
  /** ISO 8601, UTC (`2026-03-02T09:00:00Z`), as the REST API writes it. */
  date?: string;
}

/** A review as either API shows it, before it is judged usable. */
export interface ReviewFacts {
  id: number;
  /** `null`: a deleted account. */
  reviewer: GitHubAccount | null;
  state: string;
  /** `null` when GitHub no longer knows the commit. */
  commitId: string | null;
  /** Absent for a pending review. */
  submittedAt?: string;
}

/**
 * An event of the pull request that matters here: a base change — by a person (`base_ref_changed`), or by GitHub when
 * the base branch was deleted after its own pull request merged (`automatic_base_change_succeeded`: a stacked pull
 * request moved onto that pull request's base) — a force push of the head branch, or a reopening (a closed pull request
 * does not follow its branch: reopened, its head moves to what was pushed while it was closed).
 */
export interface TimelineFacts {
  event: 'base_ref_changed' | 'automatic_base_change_succeeded' | 'head_ref_force_pushed' | 'reopened';
  actor: GitHubAccount | undefined;
  createdAt: string;
}

/**
 * The pull request merged as C, as read from either API. A list that could not be read is undefined (its read
 * already recorded the gap).
 */
export interface PullRequestFacts {
  number: number;
  url: string;
  title: string;
  author: GitHubAccount | undefined;
  mergedBy: GitHubAccount | undefined;
  merged: boolean;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  createdAt: string;
  headSha: string;
  headRef: string;
  /** `owner/name`; undefined when GitHub no longer knows it (a deleted fork). */
  headRepository: string | undefined;
  baseRef: string;
  /** How many commits GitHub says the pull request has. */
  commitCount: number;
  commits: CommitFacts[] | undefined;
  /** The most commits the API lists of a pull request, when it has such a limit (REST: 250). */
  commitsListedAtMost?: number;
  /** The built commit C itself. */
  mergeCommit: CommitFacts | undefined;
  reviews: ReviewFacts[] | undefined;
  timeline: TimelineFacts[] | undefined;
}

/** Each reviewer's permission (undefined: not known, its read recorded the gap) and the approvers' public profiles. */
export interface ReviewPeople {
  permissions: Map<string, RepositoryPermission | undefined>;
  profiles: AccountProfile[];
}

/** The reads that follow once the pull request is known, each path's own. */
export interface FollowingReads {
  /** The activity feed of the pull request's head branch and of the built branch. */
  activity: (request: ActivityRequest) => Promise<ActivityEvidence>;
  /**
   * Each reviewer's permission (keyed by login, each answer checked to be the reviewer's account) and each approver's
   * public profile.
   */
  people: (reviewers: GitHubAccount[], approvers: GitHubAccount[]) => Promise<ReviewPeople>;
}

/** The evidence as nothing has been read yet; throws on a malformed request (a caller's bug). */
export function startEvidence(request: ReviewEvidenceRequest): {
  owner: string;
  repo: string;
  evidence: ReviewEvidence;
} {
  const [owner, repo] = parseRepository(request.repository);
  const commit = request.commit.toLowerCase();
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) {
    throw new TypeError(`collectReviewEvidence: commit must be 40 or 64 hex digits, got "${request.commit}"`);
  }
  const evidence: ReviewEvidence = {
    repository: request.repository,
    commit,
    ...(request.ref !== undefined && { builtRef: request.ref }),
    gaps: [],
    commits: [],
    reviews: [],
    lastPush: { accounts: [], people: [], source: 'head-commit' },
    permissions: {},
  };
  return { owner, repo, evidence };
}

/**
 * Of the pull requests GitHub associates with C, the number of the one merged as C in this repository; the others
 * are recorded, and more than one claiming C is a gap. Undefined: none (or a gap).
 */
export function pullRequestMergedAs(
  evidence: ReviewEvidence,
  associated: { number: number; url: string; merged: boolean; mergeCommitSha: string | null; baseRepository: string }[],
): number | undefined {
  const inRepository = associated.filter((pr) => pr.baseRepository.toLowerCase() === evidence.repository.toLowerCase());
  const mergedAsCommit = inRepository.filter((pr) => pr.mergeCommitSha === evidence.commit && pr.merged);
  const others = inRepository.filter((pr) => !mergedAsCommit.includes(pr));
  if (others.length > 0) {
    evidence.associatedPullRequests = others.map(({ number, url, merged, mergeCommitSha }) => ({
      number,
      url,
      merged,
      mergeCommitSha,
    }));
  }
  if (mergedAsCommit.length === 0) return undefined;
  if (mergedAsCommit.length > 1) {
    const numbers = mergedAsCommit.map((pr) => `#${pr.number}`).join(', ');
    evidence.gaps.push(`more than one pull request claims to be merged as ${evidence.commit}: ${numbers}`);
    return undefined;
  }
  return mergedAsCommit[0]!.number;
}

/**
 * Why the pull request cannot be judged as the one merged as C — not merged as C, or its author unknown to GitHub —
 * or undefined when it can. Checked before anything else about it is judged or read.
 */
export function mergeProblemOf(pr: PullRequestFacts, commit: string): string | undefined {
  if (!pr.merged || pr.mergeCommitSha !== commit || !pr.mergedAt) {
    return `pull request #${pr.number} is not merged as ${commit} (merged: ${pr.merged}, merge_commit_sha: ${pr.mergeCommitSha})`;
  }
  if (!pr.author) return `pull request #${pr.number} has no author account (deleted user)`;
  return undefined;
}

/** What the activity feed is read for, from the pull request and the ref the build ran on. */
export function activityRequestOf(request: ReviewEvidenceRequest, pr: PullRequestFacts): ActivityRequest {
  return {
    number: pr.number,
    headRepository: pr.headRepository,
    headRef: pr.headRef,
    createdAt: pr.createdAt,
    mergedAt: pr.mergedAt ?? '',
    builtRepository: request.repository,
    builtRef: request.ref?.startsWith('refs/heads/') ? request.ref : `refs/heads/${pr.baseRef}`,
    commit: request.commit.toLowerCase(),
  };
}

/** Steps 3–7 of the evidence, the same for both APIs: from the pull request's facts and the reads that follow. */
export async function assembleEvidence(
  evidence: ReviewEvidence,
  request: ReviewEvidenceRequest,
  pr: PullRequestFacts,
  reads: FollowingReads,
): Promise<ReviewEvidence> {
  const { commit } = evidence;
  const { number } = pr;
  const problem = mergeProblemOf(pr, commit);
  if (problem) {
    evidence.gaps.push(problem);
    return evidence;
  }
  const pullRequest = {
    number,
    url: pr.url,
    title: pr.title,
    author: pr.author!,
    headSha: pr.headSha,
    headRef: pr.headRef,
    ...(pr.headRepository && { headRepository: pr.headRepository }),
    mergeCommitSha: commit,
    createdAt: pr.createdAt,
    mergedAt: pr.mergedAt!,
    ...(pr.mergedBy && { mergedBy: pr.mergedBy }),
    baseRef: pr.baseRef,
    // Retargeting a pull request changes its diff without a new commit: approvals before it approved another diff.
    // Unread (a gap), none: evidence that cannot show the base stayed is judged so (approval-on-merged-head), not as
    // a base that never changed.
    ...(pr.timeline && {
      baseChanges: pr.timeline
        .filter((e) => e.event === 'base_ref_changed' || e.event === 'automatic_base_change_succeeded')
        .map((e) => ({
          at: e.createdAt,
          actor: e.actor ?? null,
          ...(e.event === 'automatic_base_change_succeeded' && { automatic: true as const }),
        }))
        .sort((a, b) => Date.parse(a.at) - Date.parse(b.at)),
    }),
    // A closed pull request does not follow its branch: reopened, its head moves to what was pushed meanwhile.
    // Recorded when there were any (absent: none; evidence signed before they were read has none either).
    ...(pr.timeline?.some((e) => e.event === 'reopened') && {
      reopens: pr.timeline
        .filter((e) => e.event === 'reopened')
        .map((e) => ({ at: e.createdAt, actor: e.actor ?? null }))
        .sort((a, b) => Date.parse(a.at) - Date.parse(b.at)),
    }),
  };

  // 3. Commits: every one the API lists, and a gap when it lists fewer than the pull request has.
  const commits = pr.commits ?? [];
  evidence.commits = commits.map(pullRequestCommitOf);
  if (pr.commits && pr.commits.length < pr.commitCount) {
    evidence.gaps.push(
      `pull request #${number} has ${pr.commitCount} commits but the API listed ${pr.commits.length}${pr.commitsListedAtMost ? ` (it lists at most ${pr.commitsListedAtMost})` : ''}: the authors of the others are unknown`,
    );
  }
  const head = commits.find((c) => c.sha === pr.headSha);
  if (pr.commits && !head) {
    evidence.gaps.push(`the head commit ${pr.headSha} of pull request #${number} is not among its listed commits`);
  }

  // 4. How it was merged, and who the merge commit's own message says co-authored it. The model has no "unknown" merge
  // method: the pull request is recorded only once it is known.
  if (pr.mergeCommit) {
    evidence.mergeCommitCoAuthors = coAuthorsOf(pr.mergeCommit.message);
    const method = mergeMethodOf(pr.mergeCommit, head, commits, pr.headSha);
    if (typeof method === 'string') {
      evidence.pullRequest = { ...pullRequest, mergeMethod: method };
    } else {
      evidence.gaps.push(
        `pull request #${number} (${pr.url}) was merged as ${commit} by an unknown merge method: ${method.unknown}`,
      );
    }
  }

  // 5. Reviews, every page.
  for (const review of pr.reviews ?? []) {
    const mapped = reviewOf(review);
    if (typeof mapped === 'string') evidence.gaps.push(mapped);
    else if (mapped) evidence.reviews.push(mapped);
  }

  // 6 and 7, concurrently: who pushed to the head branch and how C reached the built branch (the activity feed); each
  // reviewer's permission on the repository — and the author's, when a person: without write access, their change
  // needs one more approval (review.ts) — and each approver's public profile.
  // Permissions are kept by login (ReviewEvidence.permissions): one login two accounts held while the reviews were
  // read (renamed, and the login taken) cannot say whose permission it names.
  const reviewerAccounts = new Map<string, GitHubAccount>();
  const author = evidence.pullRequest?.author;
  for (const account of [...evidence.reviews.map((r) => r.reviewer), ...(author?.type === 'User' ? [author] : [])]) {
    const key = account.login.toLowerCase();
    const known = reviewerAccounts.get(key);
    if (!known) reviewerAccounts.set(key, account);
    else if (known.id !== account.id) {
      evidence.gaps.push(
        `the login ${account.login} names two accounts in pull request #${number} (${known.id} and ${account.id}): it changed hands while it was read`,
      );
    }
  }
  const reviewers = [...reviewerAccounts.values()];
  const approvers = new Map<string, GitHubAccount>();
  for (const review of evidence.reviews) {
    if (review.state === 'APPROVED') approvers.set(review.reviewer.login.toLowerCase(), review.reviewer);
  }
  const [activity, people] = await Promise.all([
    reads.activity(activityRequestOf(request, pr)),
    reads.people(reviewers, [...approvers.values()]),
  ]);
  // The last push: the feed's last head push, else the guess from the timeline and the head commit.
  evidence.activity = activity;
  if (head && pr.timeline) {
    evidence.lastPush = lastPushOf(pr.timeline, pullRequestCommitOf(head), pr.mergedAt!, evidence.gaps);
  }
  const lastHeadPush = activity.available ? activity.headPushes.at(-1) : undefined;
  if (lastHeadPush) {
    evidence.lastPush = { accounts: lastHeadPush.actor ? [lastHeadPush.actor] : [], people: [], source: 'activity' };
  }
  for (const { login } of reviewers) {
    const permission = people.permissions.get(login);
    if (permission) evidence.permissions[login] = permission;
  }
  evidence.profiles = people.profiles;
  return evidence;
}

/**
 * Each login's permission on the repository, read concurrently (`GET …/collaborators/{username}/permission`); a login
 * whose permission could not be read maps to undefined, its gap recorded.
 */
export async function readPermissions(
  client: GitHubClient,
  repository: string,
  accounts: GitHubAccount[],
  gaps: string[],
): Promise<Map<string, RepositoryPermission | undefined>> {
  const [owner, repo] = parseRepository(repository);
  const github = new RepositoryReads(client, owner, repo, gaps);
  const permissions = await Promise.all(accounts.map((account) => github.permission(account)));
  return new Map(accounts.map((account, i) => [account.login, permissions[i]]));
}

/**
 * Each account's public profile (`GET /users/{login}`), read concurrently; an account whose profile could not be read,
 * or whose login now names another account, maps to undefined, its gap recorded.
 */
export async function readPublicProfiles(
  client: GitHubClient,
  repository: string,
  accounts: GitHubAccount[],
  gaps: string[],
): Promise<(AccountProfile | undefined)[]> {
  const [owner, repo] = parseRepository(repository);
  const github = new RepositoryReads(client, owner, repo, gaps);
  return Promise.all(accounts.map((account) => github.profile(account)));
}

/** Reads of one repository; a failed read records a gap naming the request and returns undefined. */
class RepositoryReads {
  constructor(
    private readonly client: GitHubClient,
    private readonly owner: string,
    private readonly repo: string,
    private readonly gaps: string[],
  ) {}

  get<R extends GetRoute>(route: R, params: Omit<RouteParams<R>, 'owner' | 'repo'>) {
    return this.attempt(route, params, async () => {
      const response = await this.client.request(route, { owner: this.owner, repo: this.repo, ...params } as never);
      return response.data as RouteData<R>;
    });
  }

  list<R extends ListRoute>(route: R, params: Omit<RouteParams<R>, 'owner' | 'repo' | 'per_page' | 'page'>) {
    return this.attempt(route, params, () =>
      this.client.paginate(route, { owner: this.owner, repo: this.repo, per_page: PER_PAGE, ...params } as never),
    ) as Promise<RouteData<R> | undefined>;
  }

  /** An account's public profile (`GET /users/{login}`); the account answering must be the one that reviewed. */
  async profile(account: GitHubAccount): Promise<AccountProfile | undefined> {
    const route = 'GET /users/{username}';
    const data = await this.attempt(route, { username: account.login }, async () => {
      const response = await this.client.request(route, { username: account.login });
      return response.data;
    });
    if (!data) return undefined;
    if (data.id !== account.id) {
      this.gaps.push(
        `${this.describe(route, { username: account.login })}: expected account ${account.id}, the reviewer, found account ${data.id} (the login changed hands)`,
      );
      return undefined;
    }
    return { account, ...(data.name && { name: data.name }), ...(data.email && { email: data.email }) };
  }

  /**
   * A reviewer's permission; 404 (no such user, no access) is `none`. The permission is the login's: the account
   * answering must be the reviewer's (a login renamed away and taken names someone else's permission).
   */
  async permission(account: GitHubAccount): Promise<RepositoryPermission | undefined> {
    const login = account.login;
    const route = 'GET /repos/{owner}/{repo}/collaborators/{username}/permission';
    const data = await this.attempt(route, { username: login }, async () => {
      try {
        const response = await this.client.request(route, { owner: this.owner, repo: this.repo, username: login });
        return response.data;
      } catch (error) {
        if (statusOf(error) === 404) return 'none' as const;
        throw error;
      }
    });
    if (!data) return undefined;
    if (data === 'none') return 'none';
    if (data.user?.id !== account.id) {
      this.gaps.push(
        `${this.describe(route, { username: login })}: expected account ${account.id}, the reviewer, found ${data.user ? `account ${data.user.id} (the login changed hands)` : 'no account in the answer'}`,
      );
      return undefined;
    }
    const permission = permissionOf(data.permission, data.role_name);
    if (!permission) {
      this.gaps.push(
        `${this.describe(route, { username: login })}: unknown permission "${data.permission}" (role "${data.role_name}")`,
      );
    }
    return permission;
  }

  private async attempt<T>(route: string, params: object, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (!isApiFailure(error)) throw error;
      this.gaps.push(`${this.describe(route, params)}: ${failureOf(error)}`);
      return undefined;
    }
  }

  /** `GET /repos/acme/app/pulls/7/reviews` from the route template and its parameters. */
  private describe(route: string, params: object): string {
    const values: Record<string, unknown> = { owner: this.owner, repo: this.repo, ...params };
    return route.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])));
  }
}

type Endpoints = GitHubClient['rest'];
type GetRoute =
  | 'GET /repos/{owner}/{repo}'
  | 'GET /repos/{owner}/{repo}/pulls/{pull_number}'
  | 'GET /repos/{owner}/{repo}/commits/{ref}'
  | 'GET /repos/{owner}/{repo}/collaborators/{username}/permission';
type ListRoute =
  | 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls'
  | 'GET /repos/{owner}/{repo}/pulls/{pull_number}/commits'
  | 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews'
  | 'GET /repos/{owner}/{repo}/issues/{issue_number}/events';
type RouteMethod<R> = R extends 'GET /repos/{owner}/{repo}'
  ? Endpoints['repos']['get']
  : R extends 'GET /repos/{owner}/{repo}/pulls/{pull_number}'
    ? Endpoints['pulls']['get']
    : R extends 'GET /repos/{owner}/{repo}/commits/{ref}'
      ? Endpoints['repos']['getCommit']
      : R extends 'GET /repos/{owner}/{repo}/collaborators/{username}/permission'
        ? Endpoints['repos']['getCollaboratorPermissionLevel']
        : R extends 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls'
          ? Endpoints['repos']['listPullRequestsAssociatedWithCommit']
          : R extends 'GET /repos/{owner}/{repo}/pulls/{pull_number}/commits'
            ? Endpoints['pulls']['listCommits']
            : R extends 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews'
              ? Endpoints['pulls']['listReviews']
              : Endpoints['issues']['listEvents'];
type RouteParams<R> = NonNullable<Parameters<RouteMethod<R>>[0]>;
type RouteData<R> = Awaited<ReturnType<RouteMethod<R>>> extends { data: infer D } ? D : never;

function parseRepository(repository: string): [string, string] {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9._-]+)$/.exec(repository);
  if (!match) throw new TypeError(`collectReviewEvidence: repository must be owner/name, got "${repository}"`);
  return [match[1]!, match[2]!];
}

// ── Failures ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface ApiFailure extends Error {
  status: number;
  response?: { headers?: Record<string, string | undefined> };
}

/** An HTTP error or a failed/aborted request from Octokit; anything else is a bug and is rethrown. */
export function isApiFailure(error: unknown): error is ApiFailure {
  return error instanceof Error && (error.name === 'HttpError' || error.name === 'AbortError') && 'status' in error;
}

function statusOf(error: unknown): number | undefined {
  return isApiFailure(error) ? error.status : undefined;
}

/** What went wrong, in words for a gap: the status, a time limit, a rate limit and when it lifts. */
export function failureOf(error: ApiFailure): string {
  const headers = error.response?.headers ?? {};
  const cause = error.cause instanceof Error ? error.cause : undefined;
  if (cause?.name === 'TimeoutError' || error.name === 'AbortError') {
    return `no answer within the time limit, after retries (${cause?.message ?? error.message})`;
  }
  if (headers['x-ratelimit-remaining'] === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    const until = Number.isFinite(reset) ? ` until ${new Date(reset * 1000).toISOString()}` : '';
    return `HTTP ${error.status}: rate limit exhausted${until} (${error.message})`;
  }
  if (/secondary rate limit/i.test(error.message)) {
    return `HTTP ${error.status}: secondary rate limit, retry-after ${headers['retry-after'] ?? '?'} s (${error.message})`;
  }
  const retried = error.status >= 500 || error.status === 429 ? ', after retries' : '';
  return `HTTP ${error.status}${retried} (${error.message})`;
}

// ── Mapping API objects to the model ────────────────────────────────────────────────────────────────────────

function accountOf(user: ApiAccount | Record<string, never>): GitHubAccount | undefined {
  if (!user || typeof user.login !== 'string' || typeof user.id !== 'number') return undefined;
  return { login: user.login, id: user.id, type: user.type ?? 'User' };
}

/**
 * The user GitHub linked a commit's author or committer to. A Bot GitHub links by its noreply address is left out, as
 * GraphQL leaves it out (a GitActor's `user` is a User): anyone can write a bot's address into a commit
 * (`--author 'dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>'`), and the two ways of reading
 * GitHub must judge the same commit alike — else a writer who spends the token's GraphQL budget gets the lenient one
 * (found by the review of GraphQL against REST).
 */
function linkedUserOf(user: ApiAccount | Record<string, never>): GitHubAccount | undefined {
  // A User as GitHub says it, never by default: an answer without the account's `type` links nobody.
  return user?.type === 'User' ? accountOf(user) : undefined;
}

function commitFactsOf(commit: ApiCommit): CommitFacts {
  return {
    sha: commit.sha,
    parents: commit.parents.map((p) => p.sha),
    author: commit.commit.author,
    committer: commit.commit.committer,
    authorAccount: linkedUserOf(commit.author),
    committerAccount: linkedUserOf(commit.committer),
    message: commit.commit.message,
  };
}

interface RestTimelineEvent {
  event?: string;
  actor?: ApiAccount;
  created_at?: string;
}

const EVENTS_READ: ReadonlySet<string> = new Set<TimelineFacts['event']>([
  'base_ref_changed',
  'automatic_base_change_succeeded',
  'head_ref_force_pushed',
  'reopened',
]);

function timelineFactsOf(timeline: RestTimelineEvent[]): TimelineFacts[] {
  return timeline.flatMap((e) =>
    e.event !== undefined && EVENTS_READ.has(e.event) && typeof e.created_at === 'string'
      ? [{ event: e.event as TimelineFacts['event'], actor: accountOf(e.actor), createdAt: e.created_at }]
      : [],
  );
}

function personOf(signature: GitSignature | null, account: GitHubAccount | undefined): GitPerson {
  const person: GitPerson = { name: signature?.name ?? '', email: signature?.email ?? '' };
  if (account) person.account = account;
  return person;
}

/** A commit as `GET /repos/{owner}/{repo}/commits/{ref}` shows it, in the model's shape (its co-authors read). */
export function restCommitOf(commit: unknown): PullRequestCommit {
  return pullRequestCommitOf(commitFactsOf(commit as ApiCommit));
}

function pullRequestCommitOf(commit: CommitFacts): PullRequestCommit {
  return {
    sha: commit.sha,
    author: personOf(commit.author, commit.authorAccount),
    committer: personOf(commit.committer, commit.committerAccount),
    coAuthors: coAuthorsOf(commit.message),
    committedAt: commit.committer?.date ?? '',
  };
}

// Any line of the message, not only the final trailer block: more co-authors can only mean fewer independent reviewers.
// The key in any case, with spaces before the colon as git allows (`Co-authored-by : Bob <b@x>`); the value a name
// and an address at its end, as GitHub reads it (text after the address, or two people on one line, is no co-author
// GitHub credits either: row 102). Each trailer line is read on its own, and again with the lines after it that are
// indented more (git's continued value); the message is split at LF alone and at every line terminator (CR, U+2028, U+2029): what
// any of these readings finds is a co-author. Read by hand, in time linear in the message: a regular expression over
// a long value of blanks backtracked for hours.
const CO_AUTHORED_BY = /^[ \t]*co-authored-by[ \t]*:/i;
const CONTINUATION = /^[ \t]+\S/;
// Every terminator first (its readings are those of the regular expression twokey read trailers with before, names
// included), then LF alone: a reading of the same address from the second never replaces one from the first.
const SPLITS = [/\r\n|[\r\n\u2028\u2029]/, /\n/];
/**
 * The most lines one trailer's value is continued over: a name and an address take one or two; each reading of a
 * longer value would read it all again (quadratic in the lines).
 */
const MAX_CONTINUATION_LINES = 8;

/** The `Co-authored-by: Name <email>` trailers of a commit message, once per email. */
export function coAuthorsOf(message: string): { name: string; email: string }[] {
  const seen = new Set<string>();
  const coAuthors: { name: string; email: string }[] = [];
  const add = (value: string) => {
    const person = personOfTrailer(value);
    if (!person || seen.has(person.email.toLowerCase())) return;
    seen.add(person.email.toLowerCase());
    coAuthors.push(person);
  };
  for (const split of SPLITS) {
    const lines = message.split(split);
    for (let i = 0; i < lines.length; i += 1) {
      const key = CO_AUTHORED_BY.exec(lines[i]!);
      if (!key) continue;
      let value = lines[i]!.slice(key[0].length);
      add(value);
      // Continued: indented more than the key's line (a `git merge --squash` message indents whole trailer blocks).
      const indent = startOfText(lines[i]!);
      const stop = Math.min(lines.length, i + 1 + MAX_CONTINUATION_LINES);
      for (let next = i + 1; next < stop && CONTINUATION.test(lines[next]!); next += 1) {
        if (startOfText(lines[next]!) <= indent || CO_AUTHORED_BY.test(lines[next]!)) break;
        value += ` ${lines[next]!.trim()}`;
        add(value);
      }
    }
  }
  return coAuthors;
}

/** `Name <email>` at the end of a trailer's value (blanks around it), or nothing. */
function personOfTrailer(value: string): { name: string; email: string } | undefined {
  const trimmed = value.slice(0, endOfText(value));
  if (!trimmed.endsWith('>')) return undefined;
  const open = trimmed.lastIndexOf('<');
  const email = trimmed.slice(open + 1, -1);
  if (open === -1 || email === '' || /[<>\s]/.test(email)) return undefined;
  const name = trimmed.slice(0, open);
  return { name: name.slice(startOfText(name), endOfText(name)), email };
}

/** Where `text` ends without its trailing blanks (space, tab, CR), by index: a regular expression is quadratic here. */
function endOfText(text: string): number {
  let end = text.length;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t' || text[end - 1] === '\r')) end -= 1;
  return end;
}

/** Where `text` starts without its leading blanks. */
function startOfText(text: string): number {
  let start = 0;
  while (start < text.length && (text[start] === ' ' || text[start] === '\t')) start += 1;
  return start;
}

/** The merge method, read from the merge commit's shape (see the header); `{ unknown }` says why it cannot be told. */
export function mergeMethodOf(
  merged: CommitShape,
  head: CommitShape | undefined,
  pullRequestCommits: { sha: string }[],
  headSha: string,
): MergeMethod | { unknown: string } {
  const parents = merged.parents;
  if (parents.length === 2) {
    return parents[1] === headSha
      ? 'merge'
      : { unknown: `merge commit ${merged.sha} has second parent ${parents[1]}, not the pull request head ${headSha}` };
  }
  if (parents.length !== 1) {
    return { unknown: `merge commit ${merged.sha} has ${parents.length} parents` };
  }
  if (merged.sha === headSha || pullRequestCommits.some((c) => c.sha === merged.sha)) {
    return { unknown: `${merged.sha} is one of the pull request's own commits (a fast-forward, not a GitHub merge)` };
  }
  if (!head) return { unknown: `the head commit ${headSha} was not listed, so squash and rebase cannot be told apart` };
  const sameAuthor =
    merged.author?.name === head.author?.name &&
    merged.author?.email === head.author?.email &&
    merged.author?.date === head.author?.date;
  return sameAuthor && merged.message === head.message ? 'rebase' : 'squash';
}

/** A review in the model; a string is a gap; undefined is a review that cannot matter (see below). */
function reviewOf(review: ReviewFacts): Review | string | undefined {
  if (!REVIEW_STATES.has(review.state)) return `review ${review.id} has unknown state "${review.state}"`;
  const reviewer = review.reviewer;
  if (!reviewer) {
    // A deleted account's comment cannot count nor block; its approval or objection is evidence we cannot place.
    return review.state === 'APPROVED' || review.state === 'CHANGES_REQUESTED'
      ? `review ${review.id} (${review.state}) has no reviewer account (deleted user)`
      : undefined;
  }
  return {
    id: review.id,
    reviewer,
    state: review.state as ReviewState,
    // null when GitHub no longer knows the commit: it then matches no head.
    commitId: review.commitId ?? '',
    submittedAt: review.submittedAt ?? '',
  };
}

/** Who pushed last: the latest force push when newer than the head commit, else the head's author and committer. */
function lastPushOf(
  timeline: TimelineFacts[],
  head: PullRequestCommit,
  mergedAt: string,
  gaps: string[],
): ReviewEvidence['lastPush'] {
  const forcePushes = timeline
    .filter((e) => e.event === 'head_ref_force_pushed')
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const latest = forcePushes.at(-1);
  // A committer date after the merge is forged: it then cannot place the head after any force push.
  const committed = Date.parse(head.committedAt);
  const headTime = committed > Date.parse(mergedAt) ? Number.NEGATIVE_INFINITY : committed;
  if (latest && !(Date.parse(latest.createdAt) <= headTime)) {
    const actor = latest.actor;
    if (!actor) gaps.push(`the last force push (${latest.createdAt}) has no actor account`);
    return { accounts: actor ? [actor] : [], people: [], source: 'head_ref_force_pushed' };
  }
  const accounts = new Map<string, GitHubAccount>();
  for (const person of [head.author, head.committer]) {
    if (person.account) accounts.set(person.account.login.toLowerCase(), person.account);
  }
  return { accounts: [...accounts.values()], people: [head.author, head.committer], source: 'head-commit' };
}

// ── The activity feed ─────────────────────────────────────────────────────────────────────────────────────────

export interface ActivityRequest {
  number: number;
  /** `owner/name`; undefined when GitHub no longer knows it (a deleted fork). */
  headRepository: string | undefined;
  headRef: string;
  createdAt: string;
  mergedAt: string;
  builtRepository: string;
  /** `refs/heads/…`. */
  builtRef: string;
  commit: string;
}

/**
 * The head branch's pushes in the pull request's window and the built commit's arrivals on the built branch (see the
 * header). A failed read makes the feed unavailable, with the reason; a window 10 pages did not cover is a gap.
 * `oneRead`: when both branches are in one repository, read its whole feed's first page first — a quiet repository's
 * page holds both windows, one request instead of two — and each branch's own feed only for a window it did not cover.
 */
export async function activityOf(
  client: GitHubClient,
  gaps: string[],
  request: ActivityRequest,
  options: { oneRead?: boolean } = {},
): Promise<ActivityEvidence> {
  if (!request.headRepository) {
    return {
      available: false,
      reason: `pull request #${request.number}'s head repository is gone (a deleted fork): its branch's activity cannot be read`,
    };
  }
  const createdAt = Date.parse(request.createdAt);
  const mergedAt = Date.parse(request.mergedAt);
  const windows: [FeedWindow, FeedWindow] = [
    {
      repository: request.headRepository,
      ref: `refs/heads/${request.headRef}`,
      reached: (entry) => BRANCH_BOUNDS.has(entry.activityType) && Date.parse(entry.timestamp) <= createdAt,
      what: `the branch's creation before pull request #${request.number} was opened`,
    },
    {
      repository: request.builtRepository,
      ref: request.builtRef,
      reached: (entry) => Date.parse(entry.timestamp) < mergedAt - DAY_MS,
      what: `a day before the merge (${request.mergedAt})`,
    },
  ];
  const together = options.oneRead && windows[0].repository.toLowerCase() === windows[1].repository.toLowerCase();
  const [head, built] = together
    ? await readActivityOnce(client, windows)
    : await Promise.all(windows.map((window) => readActivity(client, window)));
  const unreadable = [head!, built!].flatMap((read) => ('unreadable' in read ? [read.unreadable] : []));
  if (unreadable.length > 0) return { available: false, reason: unreadable.join('; ') };
  const uncovered = [head!, built!].flatMap((read) => ('uncovered' in read ? [read.uncovered] : []));
  if (!('entries' in head!) || !('entries' in built!) || uncovered.length > 0) {
    gaps.push(...uncovered);
    return { available: false, reason: uncovered.join('; ') };
  }
  // Newest first, back to the window's opening creation (a push of its own) or a deletion (not one).
  const headPushes = head.entries
    .filter((entry) => !NOT_HEAD_PUSHES.has(entry.activityType) && Date.parse(entry.timestamp) <= mergedAt)
    .reverse();
  const builtCommitArrivals = built.entries.filter((entry) => sameCommit(entry.after, request.commit)).reverse();
  return { available: true, headPushes, builtCommitArrivals };
}

/**
 * Every entry of `ref`'s feed (in `repository`) whose `after` is `commit`, oldest first: who pushed it there, force
 * pushed to it or merged it. Read back to a day before the newest such entry (an earlier push of the same commit, moved
 * away and back, is another pusher); 10 pages that do not get there, or a failed read, make it unavailable, with why.
 */
export async function commitArrivals(
  client: GitHubClient,
  request: { repository: string; ref: string; commit: string },
): Promise<{ available: true; entries: RefActivity[] } | { available: false; reason: string }> {
  let newest: number | undefined;
  const read = await readActivity(client, {
    repository: request.repository,
    ref: request.ref,
    reached: (entry) => {
      if (newest === undefined && sameCommit(entry.after, request.commit)) newest = Date.parse(entry.timestamp);
      return newest !== undefined && Date.parse(entry.timestamp) < newest - DAY_MS;
    },
    what: `a day before ${request.commit} last reached ${request.ref}`,
  });
  if ('unreadable' in read) return { available: false, reason: read.unreadable };
  if ('uncovered' in read) return { available: false, reason: read.uncovered };
  return { available: true, entries: read.entries.filter((e) => sameCommit(e.after, request.commit)).reverse() };
}

/** A ref's entries in the feed from now back to the first entry that `reached` the window's end (included). */
export interface FeedWindow {
  /** `owner/name`. */
  repository: string;
  /** `refs/heads/…`. */
  ref: string;
  /** Whether the window ends at this entry (newest first); may ask something first (history.ts: the store). */
  reached: (entry: RefActivity) => boolean | Promise<boolean>;
  /** The window's end, in words (for a gap). */
  what: string;
}

/**
 * One read of a ref's feed: its entries newest first, back to the first that reaches the window's end (included) or
 * to the feed's end; else why it could not be read, or which window 10 pages did not cover (both naming the request).
 */
export type FeedRead = { entries: RefActivity[] } | { unreadable: string } | { uncovered: string };

export async function readActivity(client: GitHubClient, window: FeedWindow): Promise<FeedRead> {
  const [owner, repo] = window.repository.split('/') as [string, string];
  const request = `GET /repos/${window.repository}/activity?ref=${window.ref}`;
  const entries: RefActivity[] = [];
  let pages = 0;
  try {
    const feed = client.paginate.iterator('GET /repos/{owner}/{repo}/activity', {
      owner,
      repo,
      ref: window.ref,
      direction: 'desc',
      per_page: PER_PAGE,
    });
    for await (const response of feed) {
      pages += 1;
      for (const item of response.data) {
        const entry = refActivityOf(item);
        // Only the ref asked for, whatever GitHub's `ref` filter matched (a branch named `refs/heads/x` beside `x`).
        if (entry.ref !== window.ref) continue;
        entries.push(entry);
        if (await window.reached(entry)) return { entries };
      }
      if (pages >= MAX_ACTIVITY_PAGES && /rel="next"/.test(response.headers.link ?? '')) {
        return {
          uncovered: `${request}: ${MAX_ACTIVITY_PAGES} pages of ${PER_PAGE} entries did not reach ${window.what}`,
        };
      }
    }
  } catch (error) {
    if (!isApiFailure(error)) throw error;
    return { unreadable: `${request}: ${failureOf(error)}` };
  }
  return { entries };
}

/**
 * The windows of one repository's refs from the first page of its whole feed (newest first, every ref): a window that
 * page reached — or every window, when the page is the whole feed — is exactly what its ref's own feed would give (the
 * ref's entries are the same, in the same order); any other is read from its ref's own feed.
 */
async function readActivityOnce(client: GitHubClient, windows: FeedWindow[]): Promise<FeedRead[]> {
  const repository = windows[0]!.repository;
  const [owner, repo] = repository.split('/') as [string, string];
  let page: { entries: RefActivity[]; complete: boolean };
  try {
    const response = await client.request('GET /repos/{owner}/{repo}/activity', {
      owner,
      repo,
      direction: 'desc',
      per_page: PER_PAGE,
    });
    const items = response.data as Parameters<typeof refActivityOf>[0][];
    page = { entries: items.map(refActivityOf), complete: !/rel="next"/.test(response.headers.link ?? '') };
  } catch (error) {
    if (!isApiFailure(error)) throw error;
    const unreadable = `GET /repos/${repository}/activity: ${failureOf(error)}`;
    return windows.map(() => ({ unreadable }));
  }
  return Promise.all(
    windows.map(async (window) => {
      const entries: RefActivity[] = [];
      for (const entry of page.entries) {
        if (entry.ref !== window.ref) continue;
        entries.push(entry);
        if (await window.reached(entry)) return { entries };
      }
      return page.complete ? { entries } : readActivity(client, window);
    }),
  );
}

function refActivityOf(item: {
  id: number;
  ref: string;
  before: string;
  after: string;
  timestamp: string;
  activity_type: string;
  actor: ApiAccount;
}): RefActivity {
  return {
    id: item.id,
    ref: item.ref,
    before: item.before,
    after: item.after,
    timestamp: item.timestamp,
    // A type GitHub adds later is kept as it reads: a head push (NOT_HEAD_PUSHES), not a merge of the built commit.
    activityType: item.activity_type as RefActivityType,
    actor: accountOf(item.actor) ?? null,
  };
}

function sameCommit(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

const BUILT_IN_ROLES: Record<string, string> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
  none: 'none',
};

/**
 * `role_name` when it is a built-in role consistent with the legacy `permission` (which folds maintain into write
 * and triage into read); else the legacy `permission` (custom roles); else undefined.
 */
function permissionOf(permission: string, roleName: string | undefined): RepositoryPermission | undefined {
  if (roleName && BUILT_IN_ROLES[roleName] === permission) return roleName as RepositoryPermission;
  return ['admin', 'write', 'read', 'none'].includes(permission) ? (permission as RepositoryPermission) : undefined;
}
