// A GitHub REST API fake on loopback. A test writes a repository's state as plain data (pull requests, reviews,
// commits, timeline events, collaborators, users' public profiles); the fake answers with the response shapes of
// GitHub's own OpenAPI examples (`__fixtures__/github-examples.json`), each answer valid against the response schema
// GitHub documents for its route (`__fixtures__/github-rest-schemas.json`, github-rest-schemas.test.ts, which names the
// few places where GitHub's API differs from its schema), pages lists as GitHub does (`per_page`, `page`,
// `Link`; the activity feed by `before`/`after` cursors), and fails on demand (404, 403, 5xx, primary and secondary
// rate limits, slow answers) for a route and a number of times.
//
// The repository activity feed (`GET /repos/{owner}/{repo}/activity`) is filled by the builders as GitHub fills it:
// a direct push or branch move (`pushCommit`, `moveBranch`) is a push, force push or branch creation by its pusher;
// a pull request's head branch is created and pushed to by its author (`aPullRequest`), by anyone else with
// `pushToPullRequest`, and a `head_ref_force_pushed` timeline event (`aForcePush`) is a force push; a merge is a
// `pr_merge` on the base by the merger, or, through the merge queue, a `gh-readonly-queue/…` branch and a
// `merge_queue_merge` by the queue's bot.
//
// A workflow run's attempts (`GET …/actions/runs/{run_id}/attempts/{attempt_number}`: who started the run, and who
// each attempt) are as a test described them (`aWorkflowRun`: a re-run by another, an account renamed since), else as
// the testkit's runner noted them when it started a job of the run (runner.ts).

import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compress as compressSnappy } from 'snappyjs';
import examples from './__fixtures__/github-examples.json' with { type: 'json' };
import { answerGraphQL, syntheticId } from './github-graphql';

// ── State: what a test writes ─────────────────────────────────────────────────────────────────────────────────

export type AccountType = 'User' | 'Bot' | 'Organization';

/** A GitHub account as the API shows it in `user`, `actor`, `author`, `merged_by`… */
export interface FakeAccount {
  login: string;
  id: number;
  type: AccountType;
}

/** An account with the git identity its owner commits under (so builders can link commits to accounts). */
export interface FakeUser extends FakeAccount {
  name: string;
  email: string;
  /**
   * What the account's public profile shows (`GET /users/{login}`), once the user is in the state
   * (`aGitHubState(…, user)`): a profile name and public e-mail, which need not be the commit identity above.
   */
  profile?: FakeProfile;
}

/** A public profile's name and public e-mail; absent or `null`: not shown (GitHub answers `null`). */
export interface FakeProfile {
  name?: string | null;
  email?: string | null;
}

/** A git signature: `commit.author` / `commit.committer`. */
export interface FakeSignature {
  name: string;
  email: string;
  /** ISO 8601. */
  date: string;
}

export interface FakeCommit {
  sha: string;
  message: string;
  author: FakeSignature;
  committer: FakeSignature;
  /** The account GitHub linked to the author's email; `null` when none (GitHub answers `"author": null`). */
  authorAccount: FakeAccount | null;
  committerAccount: FakeAccount | null;
  parents: string[];
  treeSha: string;
}

export type FakeReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

export interface FakeReview {
  id: number;
  /** `null`: a deleted account (GitHub shows the review with `"user": null`). */
  user: FakeAccount | null;
  state: FakeReviewState;
  /** The commit the review was given on. */
  commitId: string;
  /** ISO 8601; GitHub omits it for PENDING reviews. */
  submittedAt?: string;
  body: string;
  /** Defaults to what the reviewer's collaborator role implies. */
  authorAssociation?: string;
}

/** An issue timeline event other than `committed` and `reviewed` (those are derived from commits and reviews). */
export interface FakeTimelineEvent {
  id: number;
  /** e.g. `head_ref_force_pushed`, `labeled`, `review_requested`, `merged`, `closed`. */
  event: string;
  actor: FakeAccount | null;
  createdAt: string;
  commitId: string | null;
}

/** What the repository activity feed calls a change of a ref. */
export type FakeActivityType =
  | 'push'
  | 'force_push'
  | 'branch_creation'
  | 'branch_deletion'
  | 'pr_merge'
  | 'merge_queue_merge';

/** One entry of the repository activity feed: `actor` moved `ref` from `before` to `after` at `timestamp`. */
export interface FakeActivity {
  id: number;
  /** Full ref, `refs/heads/<branch>`. */
  ref: string;
  /** All zeros for a creation. */
  before: string;
  /** All zeros for a deletion. */
  after: string;
  /** ISO 8601. */
  timestamp: string;
  activityType: FakeActivityType;
  /** `null`: a deleted account. */
  actor: FakeAccount | null;
}

/**
 * A change of a pull request's head branch other than a force push (its force pushes are its
 * `head_ref_force_pushed` timeline events, as GitHub records both). The feed chains `before` from the previous change.
 */
export interface FakeHeadChange {
  id: number;
  activityType: 'branch_creation' | 'push' | 'branch_deletion';
  /** The commit the branch points at after the change; all zeros for a deletion. */
  after: string;
  by: FakeAccount | null;
  at: string;
}

export interface FakePullRequest {
  number: number;
  id: number;
  title: string;
  body: string;
  user: FakeAccount;
  state: 'open' | 'closed';
  draft: boolean;
  createdAt: string;
  closedAt: string | null;
  htmlUrl?: string;
  /**
   * `repository`: the `owner/name` the head branch lives in (a fork); absent: the base repository; `null`: a deleted
   * fork (GitHub answers `"repo": null`).
   */
  head: { ref: string; sha: string; repository?: string | null };
  base: { ref: string; sha: string };
  merged: boolean;
  mergeCommitSha: string | null;
  mergedAt: string | null;
  mergedBy: FakeAccount | null;
  /** The PR's commits as `GET …/pulls/{n}/commits` lists them (the API never lists more than 250). */
  commits: FakeCommit[];
  /** What the PR's `commits` field says; defaults to `commits.length` (set it higher to model a longer PR). */
  commitCount?: number;
  reviews: FakeReview[];
  events: FakeTimelineEvent[];
  /** Further commits GitHub associates with this PR in `GET …/commits/{sha}/pulls` (e.g. rebased copies on the base). */
  associatedShas: string[];
  /** The head branch's creation, pushes and deletion, oldest first: its entries in the head repository's activity feed. */
  headActivity: FakeHeadChange[];
}

export type FakeRole =
  | 'admin'
  | 'maintain'
  | 'write'
  | 'triage'
  | 'read'
  /** A custom repository role and the base permission it grants. */
  | { roleName: string; permission: 'admin' | 'write' | 'read' };

export interface FakeWorkflowRunApproval {
  state: 'approved' | 'rejected' | 'pending';
  comment: string;
  environments: string[];
  user: FakeAccount;
}

/**
 * A workflow run as GitHub's run attempts show it (`GET …/actions/runs/{run_id}/attempts/{attempt_number}`): who
 * started the run (`actor`) and who started each attempt (`triggering_actor`): the first attempt's is the run's actor,
 * a re-run's whoever re-ran it. An account is written as GitHub names it now: renamed since, by its new login.
 */
export interface FakeWorkflowRun {
  actor: FakeAccount;
  /** Who started each attempt, attempt 1 first. */
  attempts: FakeAccount[];
}

/** A deployment environment's protection: required reviewers and GitHub's "prevent self-review". */
export interface FakeEnvironment {
  reviewers: FakeAccount[];
  preventSelfReview: boolean;
  /** Minutes to wait before the job runs; absent: no wait timer. */
  waitTimer?: number;
}

/** A status of a deployment: what GitHub Actions records as the job waits, is queued, runs and ends. */
export interface FakeDeploymentStatus {
  /** GitHub Actions also writes `waiting` (a job held by its environment's rules), which the OpenAPI enum omits. */
  state: 'waiting' | 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive' | 'pending';
  createdAt: string;
  /** `log_url` and `target_url` (GitHub Actions sets both to the job's log, `…/actions/runs/RUN_ID/job/JOB_ID`). */
  logUrl: string;
}

/**
 * A deployment (`GET …/deployments`), as GitHub Actions creates one when a job that references an environment is
 * queued: `environment` set to its name, `sha` and `ref` the run's, `task` deploy, created by github-actions[bot].
 */
export interface FakeDeployment {
  id: number;
  environment: string;
  sha: string;
  ref: string;
  task: string;
  createdAt: string;
  creator: FakeAccount;
  /** Oldest first (the API lists them newest first). */
  statuses: FakeDeploymentStatus[];
}

export interface FakeRepository {
  owner: FakeAccount;
  name: string;
  id: number;
  visibility: 'public' | 'private' | 'internal';
  defaultBranch: string;
  /** Branch name → tip commit. */
  branches: Record<string, string>;
  /** Commits on the repository's branches (direct pushes, merge, squash and rebased commits, the root). */
  commits: FakeCommit[];
  pullRequests: FakePullRequest[];
  /** Login → role. Anyone else has `read` on a public repository and `none` on a private one. */
  collaborators: Record<string, FakeRole>;
  /** Run id → reviews of its deployment environments (`GET …/actions/runs/{run_id}/approvals`). */
  workflowRunApprovals: Record<string, FakeWorkflowRunApproval[]>;
  /**
   * Run id → who started the run and each of its attempts (`GET …/actions/runs/{run_id}/attempts/{attempt_number}`):
   * as a test described it (`aWorkflowRun`), else as the runner noted it when it started a job of the run
   * (runner.ts: the job's actor, and its GITHUB_TRIGGERING_ACTOR for the attempt). A run nobody described is 404.
   */
  workflowRuns?: Record<string, FakeWorkflowRun>;
  /** Deployment environments by name, with their required reviewers (`GET …/environments/{environment_name}`). */
  environments?: Record<string, FakeEnvironment>;
  /** Deployments, oldest first (`GET …/deployments` lists the newest first; `GET …/deployments/{id}/statuses`). */
  deployments?: FakeDeployment[];
  /**
   * The activity feed's entries other than pull request head branches (those come from each pull request's
   * `headActivity` and force pushes): direct pushes, branch moves, merges. Tests may append entries (`anActivity`).
   */
  activity: FakeActivity[];
  /** GitHub's attestation store for the repository (`GET …/attestations/{subject_digest}`). */
  attestations?: FakeAttestation[];
}

/**
 * A stored attestation: its bundle, the artifact digests (`sha256:HEX`) it is found by, and whether the store answers
 * it inline or behind `bundle_url`, as a raw Snappy blob the fake serves (as GitHub's store now does).
 */
export interface FakeAttestation {
  subjects: string[];
  bundle: Json;
  viaUrl?: boolean;
  initiator?: 'user' | 'github';
}

export interface GitHubFakeState {
  repositories: FakeRepository[];
  /**
   * Users whose public profile `GET /users/{username}` shows. An account seen elsewhere in the state answers with no
   * name or e-mail; any other login is 404.
   */
  users?: FakeUser[];
  /**
   * GraphQL's `User.email` shows `""` for every user, public e-mail or not: what a token not shown e-mails gets (an
   * OAuth token needs `user:email` or `read:user` for it; what an installation token is shown is not documented), while
   * `GET /users/{username}` still shows the public e-mail.
   */
  graphqlEmailsHidden?: boolean;
}

// ── Failure injection and request log ─────────────────────────────────────────────────────────────────────────

export interface FakeFailure {
  /**
   * 500, 502, 503, 504; 403 or 429 for rate limits; 404 ("Not Found") and 403 ("Resource not accessible by
   * integration") alone are GitHub's answers for a feature the repository or the token does not have. Omit with
   * `delayMs` to answer normally but late.
   */
  status?: 403 | 404 | 429 | 500 | 502 | 503 | 504;
  /** How many matching requests fail; default: every one. */
  count?: number;
  /** Primary rate limit: 403 with `x-ratelimit-remaining: 0` and this `x-ratelimit-reset` (epoch seconds). */
  rateLimitReset?: number;
  /** Secondary rate limit: a `retry-after` header (seconds) and GitHub's "secondary rate limit" message. */
  retryAfter?: number;
  /** Answer only after this long (a client with a shorter timeout sees a timeout). */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** The path without the query, e.g. `/repos/acme/app/pulls/7/reviews`. */
  path: string;
  query: Record<string, string>;
  /** The route template that answered, e.g. `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`. */
  route?: string;
  /** 0 while unanswered (a delayed answer the client gave up on stays 0). */
  status: number;
  authorization?: string;
  /** Whether the answer was an injected failure. */
  injected: boolean;
}

export interface GitHubFake {
  /** The API base URL (`http://127.0.0.1:PORT`): Octokit's `baseUrl`, a runner's `GITHUB_API_URL`. */
  url: string;
  /** The live state: tests may change it between requests. */
  state: GitHubFakeState;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  /**
   * Fail requests matching `route`: `'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews'` (placeholders match
   * any one segment), a concrete path (`'/repos/acme/app/pulls/7'`, any method), or a RegExp tested on `'GET /path'`.
   * E.g. `failOn('GET /repos/{owner}/{repo}/activity', { status: 403 })`: a token without access to the feed.
   */
  failOn(route: string | RegExp, failure: FakeFailure): void;
  close(): Promise<void>;
}

// ── Builders: scenarios in a few lines ────────────────────────────────────────────────────────────────────────

/** The header of the testkit runner's own requests to the fake (runner.ts): neither recorded nor failed on purpose. */
export const RUNNER_HEADER = 'x-twokey-testkit-runner';

let nextId = 1000;
// A shared clock so things built later happen later (commits before the reviews written after them).
let clock = Date.parse('2026-03-02T09:00:00Z');

function newId(): number {
  nextId += 1;
  return nextId;
}

function tick(): string {
  clock += 60_000;
  return new Date(clock).toISOString().replace('.000Z', 'Z');
}

function fakeSha(...parts: unknown[]): string {
  return createHash('sha1')
    .update(JSON.stringify([newId(), ...parts]))
    .digest('hex');
}

/** GitHub's account that commits merges made in the web UI. */
export const webFlow: FakeUser = {
  login: 'web-flow',
  id: 19864447,
  type: 'User',
  name: 'GitHub',
  email: 'noreply@github.com',
};

/** The merge queue's bot: it pushes the queue's branches, moves the base (`merge_queue_merge`) and is `merged_by`. */
export const mergeQueueBot: FakeUser = {
  login: 'github-merge-queue[bot]',
  id: 118344674,
  type: 'Bot',
  name: 'github-merge-queue',
  email: '118344674+github-merge-queue@users.noreply.github.com',
};

/** The `before` of a creation and the `after` of a deletion. */
export const NO_COMMIT = '0'.repeat(40);

/** A GitHub user who commits as `name <id+login@users.noreply.github.com>` unless told otherwise. */
export function aUser(login: string, options: Partial<Omit<FakeUser, 'login'>> = {}): FakeUser {
  const id = options.id ?? newId();
  return {
    login,
    id,
    type: options.type ?? 'User',
    name: options.name ?? login,
    email: options.email ?? `${id}+${login}@users.noreply.github.com`,
    ...(options.profile && { profile: options.profile }),
  };
}

/** A GitHub App's bot account, e.g. `aBot('dependabot')` → `dependabot[bot]`. */
export function aBot(app: string, options: Partial<Omit<FakeUser, 'login' | 'type'>> = {}): FakeUser {
  return aUser(`${app}[bot]`, { ...options, type: 'Bot' });
}

export function accountOf(user: FakeAccount): FakeAccount {
  return { login: user.login, id: user.id, type: user.type };
}

/** A git identity: a `FakeUser` (GitHub links the commit to the account) or a bare name and email (unlinked). */
export type CommitIdentity = FakeUser | { name: string; email: string };

export interface CommitOptions {
  author: CommitIdentity;
  /** Defaults to the author. */
  committer?: CommitIdentity;
  message?: string;
  /** Appended to the message as `Co-authored-by:` trailers. */
  coAuthors?: CommitIdentity[];
  /** Author and committer date; defaults to the shared clock. */
  date?: string;
  committerDate?: string;
  parents?: string[];
  sha?: string;
}

export function aCommit(options: CommitOptions): FakeCommit {
  const date = options.date ?? tick();
  const committer = options.committer ?? options.author;
  let message = options.message ?? 'Change something';
  if (options.coAuthors?.length) {
    const trailers = options.coAuthors.map((person) => `Co-authored-by: ${person.name} <${person.email}>`);
    message = `${message}\n\n${trailers.join('\n')}`;
  }
  const sha = options.sha ?? fakeSha(message, options.author, date);
  return {
    sha,
    message,
    author: { name: options.author.name, email: options.author.email, date },
    committer: { name: committer.name, email: committer.email, date: options.committerDate ?? date },
    authorAccount: linkedAccount(options.author),
    committerAccount: linkedAccount(committer),
    parents: options.parents ?? [],
    treeSha: fakeSha('tree', sha),
  };
}

function linkedAccount(identity: CommitIdentity): FakeAccount | null {
  return 'login' in identity ? accountOf(identity) : null;
}

export interface ReviewOptions {
  by: FakeAccount | null;
  /** The reviewed commit. */
  on: string;
  state?: FakeReviewState;
  at?: string;
  body?: string;
  id?: number;
  authorAssociation?: string;
}

export function aReview(options: ReviewOptions): FakeReview {
  const state = options.state ?? 'APPROVED';
  return {
    id: options.id ?? newId(),
    user: options.by ? accountOf(options.by) : null,
    state,
    commitId: options.on,
    submittedAt: state === 'PENDING' ? undefined : (options.at ?? tick()),
    body: options.body ?? '',
    authorAssociation: options.authorAssociation,
  };
}

/** A timeline event; `aTimelineEvent('head_ref_force_pushed', { by: mallory })` is a force push. */
export function aTimelineEvent(
  event: string,
  options: { by: FakeAccount | null; at?: string; commitId?: string | null; id?: number },
): FakeTimelineEvent {
  return {
    id: options.id ?? newId(),
    event,
    actor: options.by ? accountOf(options.by) : null,
    createdAt: options.at ?? tick(),
    commitId: options.commitId ?? null,
  };
}

/**
 * A force push to a pull request's head branch, as its timeline shows it; in the pull request's `events`, it is also
 * a `force_push` in the activity feed (to `headSha`, else the pull request's head). `pushToPullRequest(…, { force })`
 * also replaces the commits.
 */
export function aForcePush(options: { by: FakeAccount | null; at?: string; headSha?: string }): FakeTimelineEvent {
  return aTimelineEvent('head_ref_force_pushed', { by: options.by, at: options.at, commitId: options.headSha });
}

/** An activity feed entry, for `repository.activity`; `ref` may be a bare branch name. */
export function anActivity(
  activityType: FakeActivityType,
  options: { ref: string; after: string; before?: string; by: FakeAccount | null; at?: string; id?: number },
): FakeActivity {
  return {
    id: options.id ?? newId(),
    ref: fullRef(options.ref),
    before: options.before ?? NO_COMMIT,
    after: options.after,
    timestamp: options.at ?? tick(),
    activityType,
    actor: options.by ? accountOf(options.by) : null,
  };
}

function fullRef(ref: string): string {
  return ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
}

export interface PullRequestOptions {
  author: FakeAccount;
  /** In order; the last one is the head. Their parents are chained for you unless set. */
  commits: FakeCommit[];
  number?: number;
  title?: string;
  body?: string;
  reviews?: FakeReview[];
  events?: FakeTimelineEvent[];
  headRef?: string;
  /** The `owner/name` of the fork the head branch lives in (`null`: a deleted fork); default: the base repository. */
  headRepository?: string | null;
  baseRef?: string;
  /** Base commit the branch started from. */
  baseSha?: string;
  commitCount?: number;
}

let nextPullNumber = 0;

/**
 * An open pull request; merge it with `mergePullRequest`. Its author created its head branch at the base commit and
 * pushed each commit, at the commit's committer date (`headActivity`); `pushToPullRequest` pushes more, as anyone.
 */
export function aPullRequest(options: PullRequestOptions): FakePullRequest {
  if (options.commits.length === 0) throw new Error('aPullRequest: a pull request needs at least one commit');
  nextPullNumber += 1;
  const baseSha = options.baseSha ?? fakeSha('base');
  let parent = baseSha;
  for (const commit of options.commits) {
    if (commit.parents.length === 0) commit.parents = [parent];
    parent = commit.sha;
  }
  const number = options.number ?? nextPullNumber;
  const author = accountOf(options.author);
  const createdAt = options.commits[0]!.committer.date;
  const headActivity: FakeHeadChange[] = [
    { id: newId(), activityType: 'branch_creation', after: baseSha, by: author, at: createdAt },
    ...options.commits.map((commit): FakeHeadChange => {
      return { id: newId(), activityType: 'push', after: commit.sha, by: author, at: commit.committer.date };
    }),
  ];
  return {
    number,
    id: newId(),
    title: options.title ?? `Pull request ${number}`,
    body: options.body ?? '',
    user: author,
    state: 'open',
    draft: false,
    createdAt,
    closedAt: null,
    head: {
      ref: options.headRef ?? `change-${number}`,
      sha: options.commits.at(-1)!.sha,
      ...(options.headRepository !== undefined && { repository: options.headRepository }),
    },
    base: { ref: options.baseRef ?? 'main', sha: baseSha },
    merged: false,
    mergeCommitSha: null,
    mergedAt: null,
    mergedBy: null,
    commits: options.commits,
    commitCount: options.commitCount,
    reviews: options.reviews ?? [],
    events: options.events ?? [],
    associatedShas: [],
    headActivity,
  };
}

/**
 * Pushes `commits` onto a pull request's head branch as `by` (default: the pull request's author), at `at` (default:
 * now on the shared clock): one push in the activity feed, the timeline only showing the commits. With `force`, the
 * commits replace the branch's (chained from the base unless their parents are set) and the push is a force push:
 * a `head_ref_force_pushed` timeline event, as GitHub shows it. Returns the new head.
 */
export function pushToPullRequest(
  pullRequest: FakePullRequest,
  commits: FakeCommit | FakeCommit[],
  options: { by?: FakeAccount | null; force?: boolean; at?: string } = {},
): string {
  const pushed = Array.isArray(commits) ? commits : [commits];
  if (pushed.length === 0) throw new Error('pushToPullRequest: nothing to push');
  if (pullRequest.merged) throw new Error(`pushToPullRequest: pull request #${pullRequest.number} is merged`);
  const by = options.by === undefined ? pullRequest.user : options.by;
  const at = options.at ?? tick();
  let parent = options.force ? pullRequest.base.sha : pullRequest.head.sha;
  for (const commit of pushed) {
    if (commit.parents.length === 0) commit.parents = [parent];
    parent = commit.sha;
  }
  pullRequest.head.sha = parent;
  if (options.force) {
    pullRequest.commits = [...pushed];
    pullRequest.events.push(aForcePush({ by, at, headSha: parent }));
  } else {
    pullRequest.commits.push(...pushed);
    pullRequest.headActivity.push({
      id: newId(),
      activityType: 'push',
      after: parent,
      by: by && accountOf(by),
      at,
    });
  }
  return parent;
}

export interface RepositoryOptions {
  visibility?: FakeRepository['visibility'];
  defaultBranch?: string;
  collaborators?: Record<string, FakeRole>;
  ownerType?: AccountType;
}

/** A repository `owner/name` with one root commit on its default branch. */
export function aRepository(fullName: string, options: RepositoryOptions = {}): FakeRepository {
  const [owner, name] = fullName.split('/');
  if (!owner || !name) throw new Error(`aRepository: expected owner/name, got ${fullName}`);
  const defaultBranch = options.defaultBranch ?? 'main';
  const ownerAccount: FakeAccount = { login: owner, id: newId(), type: options.ownerType ?? 'Organization' };
  const root = aCommit({ author: { name: 'Initial', email: 'initial@example.com' }, message: 'Initial commit' });
  return {
    owner: ownerAccount,
    name,
    id: newId(),
    visibility: options.visibility ?? 'private',
    defaultBranch,
    branches: { [defaultBranch]: root.sha },
    commits: [root],
    pullRequests: [],
    collaborators: { ...options.collaborators },
    workflowRunApprovals: {},
    activity: [],
  };
}

/**
 * Pushes a commit straight onto a branch (no pull request); returns its sha. The feed shows a push (a branch creation
 * for a new branch) by `by` (default: the account GitHub linked to the commit's author) at `at` (default: the commit's
 * committer date).
 */
export function pushCommit(
  repository: FakeRepository,
  commit: FakeCommit,
  branch = repository.defaultBranch,
  options: { by?: FakeAccount | null; at?: string } = {},
): string {
  const tip = repository.branches[branch];
  commit.parents = [tip ?? fakeSha('orphan')];
  repository.commits.push(commit);
  repository.branches[branch] = commit.sha;
  const by = options.by === undefined ? commit.authorAccount : options.by;
  repository.activity.push(
    anActivity(tip ? 'push' : 'branch_creation', {
      ref: branch,
      before: tip ?? NO_COMMIT,
      after: commit.sha,
      by,
      at: options.at ?? commit.committer.date,
    }),
  );
  return commit.sha;
}

/**
 * Points `branch` at `sha`, an existing commit (e.g. main moved onto a merge commit made on another branch), as a
 * push by `by`: a force push with `force`, a branch creation for a new branch.
 */
export function moveBranch(
  repository: FakeRepository,
  branch: string,
  sha: string,
  options: { by: FakeAccount | null; force?: boolean; at?: string },
): void {
  if (!findCommit(repository, sha)) throw new Error(`moveBranch: no commit ${sha} in ${fullNameOf(repository)}`);
  const tip = repository.branches[branch];
  repository.branches[branch] = sha;
  const activityType = !tip ? 'branch_creation' : options.force ? 'force_push' : 'push';
  repository.activity.push(
    anActivity(activityType, { ref: branch, before: tip ?? NO_COMMIT, after: sha, by: options.by, at: options.at }),
  );
}

export type MergeMethodName = 'merge' | 'squash' | 'rebase';

export interface MergeOptions {
  method: MergeMethodName;
  /** Who pressed the merge button, or added the pull request to the merge queue. */
  by: FakeUser;
  at?: string;
  /**
   * Through the merge queue: `by` adds the pull request to the queue (an `added_to_merge_queue` timeline event); the
   * queue's bot builds the merge commit on `gh-readonly-queue/<base>/pr-<n>-<base tip>` (created, then deleted) and
   * fast-forwards the base to it (`merge_queue_merge`); the pull request is merged by the bot, as that commit.
   */
  mergeQueue?: boolean;
  /** Delete the head branch after the merge (the "Delete branch" button, or the repository's auto-delete setting). */
  deleteBranch?: boolean;
}

/**
 * Merges `pullRequest` into its base the way GitHub's merge button does (any base branch: it lands on
 * `refs/heads/<base>` as a `pr_merge` by the merger), adds it to the repository if needed, and returns the commit it
 * was merged as (`merge_commit_sha`):
 * - merge: a commit with parents [base tip, PR head], authored by the merger, committed by web-flow;
 * - squash: one commit with the base tip as parent, authored by the PR author, co-authored-by the other authors;
 * - rebase: each PR commit replayed on the base tip (same author and message, committer web-flow); the last one.
 */
export function mergePullRequest(
  repository: FakeRepository,
  pullRequest: FakePullRequest,
  options: MergeOptions,
): string {
  if (!repository.pullRequests.includes(pullRequest)) repository.pullRequests.push(pullRequest);
  // Through the queue: queued, then the queue's branch, then the merge, each a moment apart.
  const queuedAt = options.mergeQueue ? (options.at ? minutesBefore(options.at, 2) : tick()) : undefined;
  const groupAt = options.mergeQueue ? (options.at ? minutesBefore(options.at, 1) : tick()) : undefined;
  const at = options.at ?? tick();
  const base = pullRequest.base.ref;
  const tip = repository.branches[base] ?? pullRequest.base.sha;
  const headOwner = pullRequest.head.repository?.split('/')[0] ?? repository.owner.login;
  const created: FakeCommit[] = [];
  if (options.method === 'merge') {
    created.push(
      aCommit({
        author: options.by,
        committer: webFlow,
        date: at,
        message: `Merge pull request #${pullRequest.number} from ${headOwner}/${pullRequest.head.ref}\n\n${pullRequest.title}`,
        parents: [tip, pullRequest.head.sha],
      }),
    );
  } else if (options.method === 'squash') {
    const others = new Map<string, CommitIdentity>();
    for (const commit of pullRequest.commits) {
      if (commit.authorAccount?.login !== pullRequest.user.login) others.set(commit.author.email, commit.author);
    }
    const author = pullRequest.commits.find((c) => c.authorAccount?.login === pullRequest.user.login)?.author;
    const authorIdentity: CommitIdentity = author
      ? { ...pullRequest.user, name: author.name, email: author.email }
      : {
          name: pullRequest.user.login,
          email: `${pullRequest.user.id}+${pullRequest.user.login}@users.noreply.github.com`,
        };
    const squash = aCommit({
      author: authorIdentity,
      committer: webFlow,
      date: at,
      message: `${pullRequest.title} (#${pullRequest.number})\n\n${pullRequest.commits.map((c) => `* ${c.message.split('\n')[0]}`).join('\n')}`,
      coAuthors: [...others.values()],
      parents: [tip],
    });
    squash.authorAccount = accountOf(pullRequest.user);
    created.push(squash);
  } else {
    let parent = tip;
    for (const original of pullRequest.commits) {
      const replayed = aCommit({
        author: original.author,
        committer: webFlow,
        message: original.message,
        date: original.author.date,
        committerDate: at,
        parents: [parent],
      });
      replayed.authorAccount = original.authorAccount;
      created.push(replayed);
      parent = replayed.sha;
    }
  }
  const mergeCommit = created.at(-1)!;
  repository.commits.push(...created);
  repository.branches[base] = mergeCommit.sha;
  pullRequest.associatedShas.push(...created.map((c) => c.sha));
  pullRequest.state = 'closed';
  pullRequest.closedAt = at;
  pullRequest.merged = true;
  pullRequest.mergedAt = at;
  pullRequest.mergeCommitSha = mergeCommit.sha;
  if (options.mergeQueue) {
    const queueBranch = `gh-readonly-queue/${base}/pr-${pullRequest.number}-${tip}`;
    pullRequest.events.push(aTimelineEvent('added_to_merge_queue', { by: options.by, at: queuedAt }));
    pullRequest.mergedBy = accountOf(mergeQueueBot);
    repository.activity.push(
      anActivity('branch_creation', { ref: queueBranch, after: mergeCommit.sha, by: mergeQueueBot, at: groupAt }),
      anActivity('merge_queue_merge', { ref: base, before: tip, after: mergeCommit.sha, by: mergeQueueBot, at }),
      anActivity('branch_deletion', {
        ref: queueBranch,
        before: mergeCommit.sha,
        after: NO_COMMIT,
        by: mergeQueueBot,
        at,
      }),
    );
  } else {
    pullRequest.mergedBy = accountOf(options.by);
    repository.activity.push(
      anActivity('pr_merge', { ref: base, before: tip, after: mergeCommit.sha, by: options.by, at }),
    );
  }
  if (options.deleteBranch) {
    pullRequest.headActivity.push({
      id: newId(),
      activityType: 'branch_deletion',
      after: NO_COMMIT,
      by: accountOf(options.by),
      at,
    });
  }
  return mergeCommit.sha;
}

function minutesBefore(at: string, minutes: number): string {
  return new Date(Date.parse(at) - minutes * 60_000).toISOString().replace('.000Z', 'Z');
}

/**
 * The state the fake serves: repositories, and users whose public profile it shows (`GET /users/{username}`), e.g.
 * `aGitHubState(repository, aUser('bob', { profile: { name: 'Bob Builder', email: 'bob@acme.example' } }))`.
 */
export function aGitHubState(...entries: (FakeRepository | FakeUser)[]): GitHubFakeState {
  const users = entries.filter((entry): entry is FakeUser => 'login' in entry);
  const repositories = entries.filter((entry): entry is FakeRepository => !('login' in entry));
  return { repositories, users };
}

/** GitHub Actions' bot: it creates the deployments of jobs that reference an environment, and their statuses. */
export const githubActionsBot: FakeAccount = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };

export interface ActionsDeploymentOptions {
  /** The run whose job references the environment (its statuses' `log_url` name it). */
  runId: number | string;
  environment: string;
  sha: string;
  ref?: string;
  /** When the job was queued and GitHub created the deployment (default: the shared clock). */
  at?: string;
  /** Its statuses after `waiting` (the job held by the environment's reviewers), a minute apart. */
  afterwards?: FakeDeploymentStatus['state'][];
  /** The job id in the log URL (default: one of its own). */
  jobId?: number;
  /** A server other than github.com in the log URL (GitHub Enterprise). */
  serverUrl?: string;
}

/**
 * The deployment GitHub Actions makes for a job that references an environment with required reviewers: created as
 * the job is queued, `waiting` until its reviewers act, then `afterwards`; every status's log URL names the run's job.
 * Added to the repository; returned.
 */
export function anActionsDeployment(repository: FakeRepository, options: ActionsDeploymentOptions): FakeDeployment {
  const at = options.at ?? tick();
  const server = options.serverUrl ?? 'https://github.com';
  const logUrl = `${server}/${fullNameOf(repository)}/actions/runs/${options.runId}/job/${options.jobId ?? newId()}`;
  const later = (minutes: number) => new Date(Date.parse(at) + minutes * 60_000).toISOString().replace('.000Z', 'Z');
  const deployment: FakeDeployment = {
    id: newId(),
    environment: options.environment,
    sha: options.sha,
    ref: options.ref ?? `refs/heads/${repository.defaultBranch}`,
    task: 'deploy',
    createdAt: at,
    creator: githubActionsBot,
    statuses: [
      { state: 'waiting', createdAt: at, logUrl },
      ...(options.afterwards ?? []).map((state, i) => ({ state, createdAt: later(i + 1), logUrl })),
    ],
  };
  repository.deployments ??= [];
  repository.deployments.push(deployment);
  return deployment;
}

export interface WorkflowRunOptions {
  /** The run's id: the `run_id` of its jobs' identities. */
  id: number | string;
  /** Who started the run: its first attempt's triggering actor, and the job token's `actor`. */
  actor: FakeAccount;
  /** Who re-ran it, in turn: attempts 2, 3 … */
  reRunBy?: FakeAccount[];
}

/**
 * A workflow run of `repository`, as GitHub's run attempts show it: `actor` started it, each of `reRunBy` re-ran it in
 * turn. `aWorkflowRun(repository, { id: job.run_id, actor: dana, reRunBy: [bob] })` is bob's re-run of dana's run: a
 * job of its attempt 2 (`run_attempt: '2'`) runs with GITHUB_TRIGGERING_ACTOR bob (the runner reads it from here). An
 * account renamed since is written as GitHub shows it now (`{ ...bob, login: 'bob-ops' }`); the job's
 * GITHUB_TRIGGERING_ACTOR, the login when the attempt started, is then the test's to set. Added; returned.
 */
export function aWorkflowRun(repository: FakeRepository, options: WorkflowRunOptions): FakeWorkflowRun {
  const run: FakeWorkflowRun = {
    actor: accountOf(options.actor),
    attempts: [options.actor, ...(options.reRunBy ?? [])].map(accountOf),
  };
  repository.workflowRuns ??= {};
  repository.workflowRuns[String(options.id)] = run;
  return run;
}

// ── Server ─────────────────────────────────────────────────────────────────────────────────────────────────────

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Answer {
  status: number;
  body: Json;
  headers?: Record<string, string>;
  /** Bytes to send as they are (a blob), instead of `body` as JSON. */
  raw?: Buffer;
}

interface RequestContext {
  state: GitHubFakeState;
  params: Record<string, string>;
  query: URLSearchParams;
  api: string;
  path: string;
  /** A POST's JSON body. */
  body?: Json;
  /** Whether the request carried a token: GitHub shows an anonymous caller public repositories only. */
  authenticated: boolean;
  /** Whether the testkit's runner sent it (RUNNER_HEADER): only it may note the run a job runs in. */
  fromRunner: boolean;
}

/** A request under `/repos/{owner}/{repo}` whose repository is in the state (any other is 404 before a route sees it). */
interface RouteContext extends RequestContext {
  repository: FakeRepository;
}

interface Route {
  method: string;
  template: string;
  handle: (context: RouteContext) => Answer;
}

/** A route outside `/repos/{owner}/{repo}`, e.g. `/users/{username}`. */
interface AccountRoute {
  method: string;
  template: string;
  handle: (context: RequestContext) => Answer;
}

type MatchedRoute =
  | { route: Route; params: Record<string, string>; inRepository: true }
  | { route: AccountRoute; params: Record<string, string>; inRepository: false };

const DOCS = 'https://docs.github.com/rest';
const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 30;
// GitHub lists at most 250 commits of a pull request, whatever the page.
const MAX_PULL_REQUEST_COMMITS = 250;

export async function startGitHubFake(state: GitHubFakeState): Promise<GitHubFake> {
  const requests: RecordedRequest[] = [];
  const requestBodies = new WeakMap<RecordedRequest, Json>();
  const failures: { matches: (method: string, path: string) => boolean; failure: FakeFailure; left: number }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let api = '';

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      authorization: request.headers.authorization,
      injected: false,
    };
    const matched = matchRoute(method, url.pathname);
    if (matched) record.route = `${matched.route.method} ${matched.route.template}`;
    // The runner's own question (runAction asks the account of a job's actor, as GitHub's token names it): not a
    // request of the action under test, so neither recorded nor ever failed on purpose.
    const fromRunner = request.headers[RUNNER_HEADER] !== undefined;
    if (!fromRunner) requests.push(record);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      if (chunks.reduce((n, c) => n + c.length, 0) < 32 * 1024 * 1024) chunks.push(chunk);
    });

    const injected = fromRunner ? undefined : failures.find((f) => f.left > 0 && f.matches(method, url.pathname));
    if (injected) injected.left -= 1;
    const answer = (): void => {
      if (injected?.failure.status) {
        record.injected = true;
        send(response, record, failureAnswer(injected.failure));
        return;
      }
      send(
        response,
        record,
        matched
          ? answerRoute(
              matched,
              url,
              api,
              state,
              requestBodies.get(record),
              record.authorization !== undefined,
              fromRunner,
            )
          : notFound(),
      );
    };
    request.on('end', () => {
      if (chunks.length > 0) {
        try {
          requestBodies.set(record, JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json);
        } catch {
          requestBodies.set(record, null);
        }
      }
      respond();
    });
    const respond = (): void => {
      const delayMs = injected?.failure.delayMs;
      if (delayMs) {
        record.injected = true;
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!response.destroyed) answer();
        }, delayMs);
        timers.add(timer);
        response.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
      } else {
        answer();
      }
    };
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: api,
    state,
    requests,
    failOn(pattern, failure) {
      failures.push({ matches: failureMatcher(pattern), failure, left: failure.count ?? Number.POSITIVE_INFINITY });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function send(response: ServerResponse, record: RecordedRequest, answer: Answer): void {
  record.status = answer.status;
  if (answer.raw) {
    response.writeHead(answer.status, { 'content-type': 'application/octet-stream', ...answer.headers });
    response.end(answer.raw);
    return;
  }
  const body = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'x-github-api-version-selected': '2022-11-28',
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    'x-ratelimit-resource': 'core',
    ...answer.headers,
  });
  response.end(body);
}

function failureMatcher(pattern: string | RegExp): (method: string, path: string) => boolean {
  if (pattern instanceof RegExp) return (method, path) => pattern.test(`${method} ${path}`);
  const [first, second] = pattern.trim().split(/\s+/);
  const method = second ? first!.toUpperCase() : undefined;
  const template = (second ?? first)!;
  return (actualMethod, path) => (!method || method === actualMethod) && matchTemplate(template, path) !== undefined;
}

/** Placeholders (`{name}`) match exactly one non-empty path segment; everything else must be equal. */
function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const actual = got[i]!;
    const placeholder = /^\{(\w+)\}$/.exec(segment);
    if (placeholder) {
      if (actual === '') return undefined;
      params[placeholder[1]!] = decodeURIComponent(actual);
    } else if (segment !== actual) {
      return undefined;
    }
  }
  return params;
}

function failureAnswer(failure: FakeFailure): Answer {
  const status = failure.status ?? 500;
  if (failure.retryAfter !== undefined) {
    return {
      status,
      headers: { 'retry-after': String(failure.retryAfter) },
      body: {
        message:
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
        documentation_url:
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        status: String(status),
      },
    };
  }
  if (failure.rateLimitReset !== undefined) {
    return {
      status,
      headers: {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-used': '5000',
        'x-ratelimit-reset': String(failure.rateLimitReset),
      },
      body: {
        message: 'API rate limit exceeded for installation ID 1.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        status: String(status),
      },
    };
  }
  const message: Record<number, string> = {
    403: 'Resource not accessible by integration',
    404: 'Not Found',
    500: 'Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return { status, body: { message: message[status] ?? 'Error', documentation_url: DOCS, status: String(status) } };
}

function notFound(): Answer {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
}

function matchRoute(method: string, path: string): MatchedRoute | undefined {
  for (const route of ROUTES) {
    const params = route.method === method ? matchTemplate(route.template, path) : undefined;
    if (params) return { route, params, inRepository: true };
  }
  for (const route of ACCOUNT_ROUTES) {
    const params = route.method === method ? matchTemplate(route.template, path) : undefined;
    if (params) return { route, params, inRepository: false };
  }
  return undefined;
}

function answerRoute(
  matched: MatchedRoute,
  url: URL,
  api: string,
  state: GitHubFakeState,
  body: Json | undefined,
  authenticated: boolean,
  fromRunner: boolean,
): Answer {
  const context: RequestContext = {
    state,
    params: matched.params,
    query: url.searchParams,
    api,
    path: url.pathname,
    authenticated,
    fromRunner,
    ...(body !== undefined && { body }),
  };
  if (!matched.inRepository) return matched.route.handle(context);
  const repository = findRepository(state, `${matched.params.owner}/${matched.params.repo}`);
  // A private or internal repository does not exist for an anonymous caller (GitHub answers 404, not 401).
  if (!repository || !visibleTo(repository, authenticated)) return notFound();
  return matched.route.handle({ ...context, repository });
}

function visibleTo(repository: FakeRepository, authenticated: boolean): boolean {
  return authenticated || repository.visibility === 'public';
}

/** Every stored attestation of an owner's repositories the caller may see, for one digest. */
function ownerAttestations(context: RequestContext, owner: string, digest: string): { json: Json; cursor: string }[] {
  const wanted = digest.toLowerCase();
  return context.state.repositories
    .filter((r) => r.owner.login.toLowerCase() === owner.toLowerCase() && visibleTo(r, context.authenticated))
    .flatMap((repository) =>
      (repository.attestations ?? []).flatMap((attestation, index) =>
        attestation.subjects.some((s) => s.toLowerCase() === wanted)
          ? [
              {
                json: storedAttestationJson(repository, attestation, index, context.api),
                cursor: attestationCursor(fullNameOf(repository), index),
              },
            ]
          : [],
      ),
    );
}

/** The fake's cursor of a stored attestation: opaque to a client, as GitHub's are. */
function attestationCursor(repository: string, index: number): string {
  return Buffer.from(`attestation:v1:${repository}:${index}`).toString('base64url');
}

function findRepository(state: GitHubFakeState, fullName: string): FakeRepository | undefined {
  return state.repositories.find((r) => fullNameOf(r).toLowerCase() === fullName.toLowerCase());
}

function fullNameOf(repository: FakeRepository): string {
  return `${repository.owner.login}/${repository.name}`;
}

const ROUTES: Route[] = [
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}',
    handle: ({ repository, api }) => ({ status: 200, body: repositoryJson(repository, api) }),
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}',
    handle: ({ state, repository, params, api }) => {
      const pullRequest = findPullRequest(repository, params.pull_number!);
      return pullRequest ? { status: 200, body: pullRequestJson(state, repository, pullRequest, api) } : notFound();
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews',
    handle: (context) => {
      const pullRequest = findPullRequest(context.repository, context.params.pull_number!);
      if (!pullRequest) return notFound();
      return page(
        context,
        pullRequest.reviews.map((review) => reviewJson(context.repository, pullRequest, review, context.api)),
      );
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/commits',
    handle: (context) => {
      const pullRequest = findPullRequest(context.repository, context.params.pull_number!);
      if (!pullRequest) return notFound();
      const listed = pullRequest.commits.slice(0, MAX_PULL_REQUEST_COMMITS);
      return page(
        context,
        listed.map((commit) => commitJson(context.repository, commit, context.api, 'pulls/list-commits[0]')),
      );
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/commits/{commit_sha}/pulls',
    handle: (context) => {
      const sha = context.params.commit_sha!;
      if (!findCommit(context.repository, sha)) return noCommit(sha);
      const associated = context.repository.pullRequests.filter(
        (pr) => pr.mergeCommitSha === sha || pr.associatedShas.includes(sha) || pr.commits.some((c) => c.sha === sha),
      );
      return page(
        context,
        associated.map((pr) => pullRequestSimpleJson(context.state, context.repository, pr, context.api)),
      );
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/commits/{ref}',
    handle: ({ repository, params, api }) => {
      const commit = findCommit(repository, params.ref!);
      return commit
        ? { status: 200, body: commitJson(repository, commit, api, 'repos/get-commit') }
        : noCommit(params.ref!);
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/timeline',
    handle: (context) => {
      const pullRequest = findPullRequest(context.repository, context.params.issue_number!);
      if (!pullRequest) return notFound();
      return page(context, timelineJson(context.repository, pullRequest, context.api));
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/events',
    handle: (context) => {
      const pullRequest = findPullRequest(context.repository, context.params.issue_number!);
      if (!pullRequest) return notFound();
      return page(context, issueEventsJson(context.repository, pullRequest, context.api));
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/collaborators/{username}/permission',
    handle: ({ state, repository, params, api }) => ({
      status: 200,
      body: permissionJson(state, repository, params.username!, api),
    }),
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/actions/runs/{run_id}/approvals',
    handle: ({ repository, params, api }) => {
      const approvals = repository.workflowRunApprovals[params.run_id!];
      return approvals
        ? { status: 200, body: approvals.map((approval) => workflowRunApprovalJson(repository, approval, api)) }
        : notFound();
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}',
    handle: ({ repository, params, api }) => {
      const run = repository.workflowRuns?.[params.run_id!];
      const attempt = Number(params.attempt_number);
      return run && Number.isSafeInteger(attempt) && run.attempts[attempt - 1]
        ? { status: 200, body: workflowRunAttemptJson(repository, Number(params.run_id), attempt, run, api) }
        : notFound();
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/environments/{environment_name}',
    handle: ({ repository, params, api }) => {
      const environment = repository.environments?.[params.environment_name!];
      return environment
        ? { status: 200, body: environmentJson(repository, params.environment_name!, environment, api) }
        : notFound();
    },
  },
  {
    // Newest first, filtered by `sha`, `ref`, `task` and `environment` as GitHub filters them (exact values).
    method: 'GET',
    template: '/repos/{owner}/{repo}/deployments',
    handle: (context) => {
      const { repository, query, api } = context;
      const filters = (['sha', 'ref', 'task', 'environment'] as const).flatMap((key) =>
        query.has(key) ? [[key, query.get(key)] as const] : [],
      );
      const listed = [...(repository.deployments ?? [])]
        .filter((d) => filters.every(([key, value]) => d[key] === value))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
      return page(
        context,
        listed.map((d) => deploymentJson(repository, d, api)),
      );
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
    handle: (context) => {
      const { repository, params, api } = context;
      const deployment = repository.deployments?.find((d) => String(d.id) === params.deployment_id);
      if (!deployment) return notFound();
      const statuses = deployment.statuses.map((status, i) => ({ status, id: deployment.id * 100 + i })).reverse();
      return page(
        context,
        statuses.map(({ status, id }) => deploymentStatusJson(repository, deployment, status, id, api)),
      );
    },
  },
  {
    // Storing an attestation (actions/attest's call): the bundle, found afterwards by each of its subjects' digests.
    method: 'POST',
    template: '/repos/{owner}/{repo}/attestations',
    handle: ({ repository, body }) => {
      const bundle = (body as { bundle?: Json } | undefined)?.bundle;
      if (!bundle || typeof bundle !== 'object') return validationFailed('bundle is required');
      const subjects = subjectsOfBundle(bundle);
      if (subjects.length === 0) return validationFailed('the bundle names no subject digest');
      repository.attestations ??= [];
      repository.attestations.push({ subjects, bundle });
      return { status: 201, body: { id: repository.attestations.length } };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/attestations/{subject_digest}',
    handle: (context) => {
      const digest = decodeURIComponent(context.params.subject_digest!).toLowerCase();
      const all = context.repository.attestations ?? [];
      const found = all.flatMap((attestation, index) =>
        attestation.subjects.some((s) => s.toLowerCase() === digest) ? [{ attestation, index }] : [],
      );
      // The store answers 404 for a digest it holds nothing for.
      if (found.length === 0) return notFound();
      // Paged by cursor (`before`/`after` and the Link header, as "List attestations" is): there is no `page`.
      const answer = cursorPage(
        context,
        found,
        ({ attestation, index }) => storedAttestationJson(context.repository, attestation, index, context.api),
        ({ index }) => attestationCursor(fullNameOf(context.repository), index),
      );
      return answer.status === 200 ? { ...answer, body: { attestations: answer.body } } : answer;
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/activity',
    handle: (context) => {
      const filtered = filterActivity(activityFeed(context.state, context.repository), context.query);
      if (typeof filtered === 'string') return validationFailed(filtered);
      return cursorPage(
        context,
        filtered,
        (activity) => activityJson(context.repository, activity, context.api),
        cursorOf,
      );
    },
  },
];

const ACCOUNT_ROUTES: AccountRoute[] = [
  {
    // An organisation's (or user's) attestations across its repositories, by digest (`gh attestation verify --owner`).
    method: 'GET',
    template: '/orgs/{org}/attestations/{subject_digest}',
    handle: (context) => {
      const items = ownerAttestations(context, context.params.org!, context.params.subject_digest!);
      if (items.length === 0) return notFound();
      const answer = cursorPage(
        context,
        items,
        (item) => item.json,
        (item) => item.cursor,
      );
      return answer.status === 200 ? { ...answer, body: { attestations: answer.body } } : answer;
    },
  },
  {
    // Many digests at once (`POST /orgs/{org}/attestations/bulk-list`, "List attestations by bulk subject digests"):
    // `attestations_subject_digests` maps each digest to its attestations (null when it has none), paged across all
    // of them by an opaque cursor (`after`) given in `page_info` (the OpenAPI description) and in the Link header (the
    // endpoint's `after` is "a cursor, as given in the Link header").
    method: 'POST',
    template: '/orgs/{org}/attestations/bulk-list',
    handle: (context) => {
      const digests = (context.body as { subject_digests?: unknown } | undefined)?.subject_digests;
      if (!Array.isArray(digests) || digests.some((d) => typeof d !== 'string')) {
        return validationFailed('subject_digests is required');
      }
      const items = (digests as string[]).flatMap((digest) =>
        ownerAttestations(context, context.params.org!, digest).map(({ json }) => ({ digest, json })),
      );
      const perPage = perPageOf(context.query);
      const after = context.query.get('after');
      const start = after ? Number.parseInt(Buffer.from(after, 'base64url').toString('utf8'), 10) : 0;
      if (!Number.isSafeInteger(start) || start < 0) return validationFailed(`after is not a valid cursor: ${after}`);
      const end = Math.min(start + perPage, items.length);
      const byDigest: Record<string, Json[] | null> = {};
      if (start === 0) for (const digest of digests as string[]) byDigest[digest] = null;
      for (const { digest, json } of items.slice(start, end)) {
        byDigest[digest] ??= [];
        byDigest[digest].push(json);
      }
      const cursor = (at: number): string => Buffer.from(String(at), 'utf8').toString('base64url');
      const next = `${context.api}${context.path}?${new URLSearchParams({ per_page: String(perPage), after: cursor(end) })}`;
      return {
        status: 200,
        ...(end < items.length && { headers: { link: `<${next}>; rel="next"` } }),
        body: {
          attestations_subject_digests: byDigest,
          page_info: {
            has_next: end < items.length,
            has_previous: start > 0,
            ...(end < items.length && { next: cursor(end) }),
            ...(start > 0 && { previous: cursor(Math.max(0, start - perPage)) }),
          },
        },
      };
    },
  },
  {
    // The store's blobs (GitHub serves them from blob storage, by a pre-signed URL): raw Snappy of the bundle.
    method: 'GET',
    template: '/_attestation-blobs/{repository_id}/{index}',
    handle: ({ state, params }) => {
      const repository = state.repositories.find((r) => String(r.id) === params.repository_id);
      const attestation = repository?.attestations?.[Number(params.index)];
      if (!attestation?.viaUrl) return notFound();
      const bytes = Buffer.from(JSON.stringify(attestation.bundle), 'utf8');
      return { status: 200, body: null, raw: Buffer.from(compressSnappy(new Uint8Array(bytes))) };
    },
  },
  {
    // GitHub's GraphQL API: the query executed against GitHub's own schema over this state (github-graphql.ts).
    method: 'POST',
    template: '/graphql',
    handle: ({ state, body, api, authenticated }) => answerGraphQL(state, body, api, authenticated),
  },
  {
    // Not GitHub's: the testkit runner's note of the run a job it starts runs in (runner.ts), as GitHub knows every run
    // it starts — `actor` (the job token's account) started it, the login `triggering_actor` (GITHUB_TRIGGERING_ACTOR)
    // this attempt — kept as the test described it if it did (`aWorkflowRun`). Answers the attempt's triggering actor,
    // or 404 when its login names no account of the state. Anyone but the runner is answered 404.
    method: 'POST',
    template: '/_testkit/runs/{owner}/{repo}/{run_id}/{attempt_number}',
    handle: ({ state, params, body, api, fromRunner }) => {
      const repository = findRepository(state, `${params.owner}/${params.repo}`);
      const attempt = Number(params.attempt_number);
      const note = body as { actor?: { login?: unknown; id?: unknown }; triggering_actor?: unknown } | undefined;
      const login = note?.actor?.login;
      const id = note?.actor?.id;
      const triggering = note?.triggering_actor;
      if (!fromRunner || !repository || !Number.isSafeInteger(attempt) || attempt < 1) return notFound();
      if (typeof login !== 'string' || typeof id !== 'number' || typeof triggering !== 'string') {
        return validationFailed('actor (login, id) and triggering_actor (a login) are required');
      }
      const triggeredBy = noteRunAttempt(state, repository, params.run_id!, attempt, { login, id }, triggering);
      if (!triggeredBy) return notFound();
      return { status: 200, body: { triggering_actor: userJson(triggeredBy, api) } };
    },
  },
  {
    method: 'GET',
    template: '/users/{username}',
    handle: ({ state, params, api }) => {
      const found = findAccount(state, params.username!);
      return found ? { status: 200, body: publicUserJson(found.account, found.profile, api) } : notFound();
    },
  },
];

/** Every route the fake answers, as `METHOD /template` (its REST answers are checked against GitHub's schemas). */
export const GITHUB_FAKE_ROUTES: readonly string[] = [...ROUTES, ...ACCOUNT_ROUTES].map(
  (route) => `${route.method} ${route.template}`,
);

/**
 * Who started attempt `attempt` of a run, as a test described it, else noted now: the run started by `actor` (the job
 * token's account), the attempt by the account `triggering` is in the state (as the runner takes the actor's id from
 * it), else by the run's actor when it is its login. Undefined when the login names no account.
 */
function noteRunAttempt(
  state: GitHubFakeState,
  repository: FakeRepository,
  runId: string,
  attempt: number,
  actor: { login: string; id: number },
  triggering: string,
): FakeAccount | undefined {
  const known = repository.workflowRuns?.[runId];
  const described = known?.attempts[attempt - 1];
  if (described) return described;
  const named = findAccount(state, actor.login)?.account;
  const startedBy: FakeAccount = known?.actor ?? {
    ...actor,
    type: named?.id === actor.id ? named.type : actor.login.endsWith('[bot]') ? 'Bot' : 'User',
  };
  const triggeredBy =
    findAccount(state, triggering)?.account ??
    (triggering.toLowerCase() === actor.login.toLowerCase() ? startedBy : undefined);
  if (!triggeredBy) return undefined;
  const run = known ?? { actor: startedBy, attempts: [] };
  // Earlier attempts nobody described: the run's actor's.
  for (let i = run.attempts.length; i < attempt - 1; i++) run.attempts[i] = run.actor;
  run.attempts[attempt - 1] = triggeredBy;
  repository.workflowRuns ??= {};
  repository.workflowRuns[runId] = run;
  return triggeredBy;
}

// ── The activity feed ──────────────────────────────────────────────────────────────────────────────────────────

const ACTIVITY_TYPES: readonly FakeActivityType[] = [
  'push',
  'force_push',
  'branch_creation',
  'branch_deletion',
  'pr_merge',
  'merge_queue_merge',
];
const HOUR = 3_600_000;
/** `time_period`: "day" is the past 24 hours, "week" the past 168 (GitHub's words); the others alike. */
const TIME_PERIODS: Record<string, number> = {
  day: 24 * HOUR,
  week: 7 * 24 * HOUR,
  month: 30 * 24 * HOUR,
  quarter: 91 * 24 * HOUR,
  year: 365 * 24 * HOUR,
};

/**
 * The repository's feed, oldest first: its own entries and the head branch changes of every pull request (of any
 * repository in the state) whose head branch lives in it.
 */
function activityFeed(state: GitHubFakeState, repository: FakeRepository): FakeActivity[] {
  const name = fullNameOf(repository).toLowerCase();
  const entries = [...repository.activity];
  for (const base of state.repositories) {
    for (const pullRequest of base.pullRequests) {
      const head = pullRequest.head.repository === undefined ? fullNameOf(base) : pullRequest.head.repository;
      if (head?.toLowerCase() === name) entries.push(...headBranchActivity(pullRequest));
    }
  }
  return entries.sort(inFeedOrder);
}

function inFeedOrder(a: FakeActivity, b: FakeActivity): number {
  return Date.parse(a.timestamp) - Date.parse(b.timestamp) || a.id - b.id;
}

/** A pull request's head branch changes and its force pushes, each `before` being the previous `after`. */
function headBranchActivity(pullRequest: FakePullRequest): FakeActivity[] {
  const ref = `refs/heads/${pullRequest.head.ref}`;
  const changes: FakeActivity[] = pullRequest.headActivity.map((change) => ({
    id: change.id,
    ref,
    before: NO_COMMIT,
    after: change.after,
    timestamp: change.at,
    activityType: change.activityType,
    actor: change.by && accountOf(change.by),
  }));
  for (const event of pullRequest.events) {
    if (event.event !== 'head_ref_force_pushed') continue;
    changes.push({
      id: event.id,
      ref,
      before: NO_COMMIT,
      after: event.commitId ?? pullRequest.head.sha,
      timestamp: event.createdAt,
      activityType: 'force_push',
      actor: event.actor && accountOf(event.actor),
    });
  }
  let tip = NO_COMMIT;
  for (const change of changes.sort(inFeedOrder)) {
    if (change.activityType !== 'branch_creation') change.before = tip;
    tip = change.after;
  }
  return changes;
}

/** GitHub's query parameters: `ref`, `actor`, `activity_type`, `time_period`, `direction`; a string is a 422. */
function filterActivity(feed: FakeActivity[], query: URLSearchParams): FakeActivity[] | string {
  const ref = query.get('ref');
  const actor = query.get('actor')?.toLowerCase();
  const activityType = query.get('activity_type');
  const timePeriod = query.get('time_period');
  const direction = query.get('direction') ?? 'desc';
  if (activityType && !ACTIVITY_TYPES.includes(activityType as FakeActivityType)) {
    return `activity_type must be one of ${ACTIVITY_TYPES.join(', ')}`;
  }
  if (timePeriod && TIME_PERIODS[timePeriod] === undefined) {
    return `time_period must be one of ${Object.keys(TIME_PERIODS).join(', ')}`;
  }
  if (direction !== 'asc' && direction !== 'desc') return 'direction must be one of asc, desc';
  const since = timePeriod ? Date.now() - TIME_PERIODS[timePeriod]! : Number.NEGATIVE_INFINITY;
  const kept = feed.filter(
    (entry) =>
      (!ref || entry.ref === fullRef(ref)) &&
      (!actor || entry.actor?.login.toLowerCase() === actor) &&
      (!activityType || entry.activityType === activityType) &&
      Date.parse(entry.timestamp) >= since,
  );
  return direction === 'asc' ? kept : kept.reverse();
}

/**
 * One page of a cursor-paged list, as GitHub pages the activity feed: `per_page` (default 30, at most 100), `after`
 * (the items following a cursor) or `before` (those preceding it), and a `Link` header with `next` and `prev`.
 */
/**
 * A page of a list GitHub pages by cursor (`before`/`after`, the Link header's `next` and `prev`): the activity feed,
 * the attestation store. `cursor` names an item as the fake's cursors do.
 */
function cursorPage<T>(
  context: RequestContext,
  items: T[],
  json: (item: T) => Json,
  cursor: (item: T) => string,
): Answer {
  const perPage = perPageOf(context.query);
  const after = context.query.get('after') || undefined;
  const before = context.query.get('before') || undefined;
  let start = 0;
  let end = Math.min(perPage, items.length);
  const position = (value: string): number | undefined => {
    const index = items.findIndex((item) => cursor(item) === value);
    return index === -1 ? undefined : index;
  };
  if (after !== undefined) {
    const at = position(after);
    if (at === undefined) return validationFailed(`after is not a valid cursor: ${after}`);
    start = at + 1;
    end = Math.min(start + perPage, items.length);
  } else if (before !== undefined) {
    const at = position(before);
    if (at === undefined) return validationFailed(`before is not a valid cursor: ${before}`);
    end = at;
    start = Math.max(0, end - perPage);
  }
  const link = (name: 'after' | 'before', item: T): string => {
    const query = new URLSearchParams(context.query);
    query.delete('after');
    query.delete('before');
    query.set('per_page', String(perPage));
    query.set(name, cursor(item));
    return `<${context.api}${context.path}?${query}>`;
  };
  const links: string[] = [];
  if (end < items.length && end > start) links.push(`${link('after', items[end - 1]!)}; rel="next"`);
  if (start > 0 && end > start) links.push(`${link('before', items[start]!)}; rel="prev"`);
  return {
    status: 200,
    body: items.slice(start, end).map(json),
    headers: links.length ? { link: links.join(', ') } : {},
  };
}

function cursorOf(item: FakeActivity): string {
  return Buffer.from(`cursor:v2:${item.timestamp}:${item.id}`).toString('base64url');
}

function validationFailed(error: string): Answer {
  return {
    status: 422,
    body: { message: 'Validation Failed', errors: [error], documentation_url: DOCS, status: '422' },
  };
}

function activityJson(repository: FakeRepository, activity: FakeActivity, api: string): JsonObject {
  const body = example('repos/list-activities[0]', repository, api);
  Object.assign(body, {
    id: activity.id,
    node_id: Buffer.from(`017:Activity${activity.id}`).toString('base64'),
    before: activity.before,
    after: activity.after,
    ref: activity.ref,
    timestamp: activity.timestamp,
    activity_type: activity.activityType,
    actor: userJson(activity.actor, api),
  });
  return body;
}

// ── Accounts ───────────────────────────────────────────────────────────────────────────────────────────────────

/** A registered user (with its profile), else an account seen anywhere in the state (no profile); logins ignore case. */
function findAccount(
  state: GitHubFakeState,
  login: string,
): { account: FakeAccount; profile?: FakeProfile } | undefined {
  const wanted = login.toLowerCase();
  const user = state.users?.find((u) => u.login.toLowerCase() === wanted);
  if (user) return { account: accountOf(user), profile: user.profile };
  for (const account of accountsIn(state)) {
    if (account?.login.toLowerCase() === wanted) return { account: accountOf(account) };
  }
  return undefined;
}

function* accountsIn(state: GitHubFakeState): Generator<FakeAccount | null> {
  for (const repository of state.repositories) {
    yield repository.owner;
    for (const commit of repository.commits) yield* [commit.authorAccount, commit.committerAccount];
    for (const activity of repository.activity) yield activity.actor;
    for (const approvals of Object.values(repository.workflowRunApprovals)) yield* approvals.map((a) => a.user);
    for (const pr of repository.pullRequests) {
      yield* [pr.user, pr.mergedBy];
      for (const commit of pr.commits) yield* [commit.authorAccount, commit.committerAccount];
      yield* pr.reviews.map((review) => review.user);
      yield* pr.events.map((event) => event.actor);
      yield* pr.headActivity.map((change) => change.by);
    }
  }
}

function publicUserJson(account: FakeAccount, profile: FakeProfile | undefined, api: string): JsonObject {
  const body = mapStrings(examples['users/get-by-username'] as Json, (s) =>
    s.replaceAll('https://api.github.com', api).replaceAll('octocat', encodeURIComponent(account.login)),
  ) as JsonObject;
  Object.assign(body, userJson(account, api), {
    name: profile?.name ?? null,
    email: profile?.email ?? null,
    company: null,
    blog: '',
    location: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
    user_view_type: 'public',
  });
  return body;
}

function findPullRequest(repository: FakeRepository, number: string): FakePullRequest | undefined {
  return repository.pullRequests.find((pr) => String(pr.number) === number);
}

function findCommit(repository: FakeRepository, sha: string): FakeCommit | undefined {
  return (
    repository.commits.find((c) => c.sha === sha) ??
    repository.pullRequests.flatMap((pr) => pr.commits).find((c) => c.sha === sha)
  );
}

function noCommit(sha: string): Answer {
  return { status: 422, body: { message: `No commit found for SHA: ${sha}`, documentation_url: DOCS, status: '422' } };
}

function perPageOf(query: URLSearchParams): number {
  const requested = Number.parseInt(query.get('per_page') ?? '', 10);
  return Number.isFinite(requested) && requested > 0 ? Math.min(requested, MAX_PER_PAGE) : DEFAULT_PER_PAGE;
}

/** One page of `items` as GitHub pages it: `per_page` (default 30, at most 100), `page`, and a `Link` header. */
function page(context: RouteContext, items: Json[]): Answer {
  const perPage = perPageOf(context.query);
  const requestedPage = Number.parseInt(context.query.get('page') ?? '', 10);
  const current = Number.isFinite(requestedPage) && requestedPage > 0 ? requestedPage : 1;
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const body = items.slice((current - 1) * perPage, current * perPage);
  const link = (n: number): string => {
    const query = new URLSearchParams(context.query);
    query.set('per_page', String(perPage));
    query.set('page', String(n));
    return `<${context.api}${context.path}?${query}>`;
  };
  const links: string[] = [];
  if (current > 1) links.push(`${link(current - 1)}; rel="prev"`);
  if (current < last) links.push(`${link(current + 1)}; rel="next"`, `${link(last)}; rel="last"`);
  if (current > 1) links.push(`${link(1)}; rel="first"`);
  return { status: 200, body, headers: links.length ? { link: links.join(', ') } : {} };
}

// ── Response bodies: GitHub's examples with the state's values written in ──────────────────────────────────────

type ExampleKey = Exclude<keyof typeof examples, '$comment'>;

/** A fresh copy of an example, its `api.github.com` URLs pointing at the fake and its repository at ours. */
function example(key: ExampleKey, repository: FakeRepository, api: string): JsonObject {
  const fullName = `${repository.owner.login}/${repository.name}`;
  return mapStrings(examples[key] as Json, (s) =>
    s.replaceAll('https://api.github.com', api).replaceAll('octocat/Hello-World', fullName),
  ) as JsonObject;
}

function mapStrings(value: Json, map: (s: string) => string): Json {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map)]));
  }
  return value;
}

/**
 * An account as GitHub's `simple-user` has it. Its API URLs name the login percent-encoded (`dependabot%5Bbot%5D`: a
 * bot's `[` and `]` may not stand in a URI), and a bot's `html_url` is its app's page (`https://github.com/apps/…`).
 */
function userJson(account: FakeAccount | null, api: string): Json {
  if (!account) return null;
  const template = examples['pulls/list-reviews[0]'].user as Json;
  const login = encodeURIComponent(account.login);
  const user = mapStrings(template, (s) =>
    s.replaceAll('https://api.github.com', api).replaceAll('octocat', login),
  ) as JsonObject;
  const app = account.type === 'Bot' ? /^(.+)\[bot\]$/.exec(account.login)?.[1] : undefined;
  if (app !== undefined) user.html_url = `https://github.com/apps/${encodeURIComponent(app)}`;
  user.login = account.login;
  user.id = account.id;
  user.node_id = Buffer.from(`04:${account.type}${account.id}`).toString('base64');
  user.avatar_url = `https://avatars.githubusercontent.com/u/${account.id}?v=4`;
  user.type = account.type;
  user.site_admin = false;
  return user;
}

function repositoryJson(repository: FakeRepository, api: string): JsonObject {
  const body = example('repos/get', repository, api);
  const fullName = `${repository.owner.login}/${repository.name}`;
  for (const forkOnly of ['parent', 'source', 'template_repository', 'organization']) delete body[forkOnly];
  Object.assign(body, {
    id: repository.id,
    node_id: Buffer.from(`010:Repository${repository.id}`).toString('base64'),
    name: repository.name,
    full_name: fullName,
    owner: userJson(repository.owner, api),
    private: repository.visibility !== 'public',
    visibility: repository.visibility,
    html_url: `https://github.com/${fullName}`,
    url: `${api}/repos/${fullName}`,
    default_branch: repository.defaultBranch,
    fork: false,
    // Required by GitHub's `repository` and `full-repository` schemas (absent from the example): null until GitHub
    // has detected the language of the repository's code.
    language: null,
  });
  if (repository.owner.type === 'Organization') body.organization = userJson(repository.owner, api);
  return body;
}

function pullRequestUrls(repository: FakeRepository, pullRequest: FakePullRequest, api: string): JsonObject {
  const fullName = `${repository.owner.login}/${repository.name}`;
  const n = pullRequest.number;
  const html = pullRequest.htmlUrl ?? `https://github.com/${fullName}/pull/${n}`;
  const url = `${api}/repos/${fullName}/pulls/${n}`;
  return {
    url,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/repos/${fullName}/issues/${n}`,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${api}/repos/${fullName}/pulls/comments{/number}`,
    comments_url: `${api}/repos/${fullName}/issues/${n}/comments`,
    statuses_url: `${api}/repos/${fullName}/statuses/${pullRequest.head.sha}`,
    _links: {
      self: { href: url },
      html: { href: html },
      issue: { href: `${api}/repos/${fullName}/issues/${n}` },
      comments: { href: `${api}/repos/${fullName}/issues/${n}/comments` },
      review_comments: { href: `${url}/comments` },
      review_comment: { href: `${api}/repos/${fullName}/pulls/comments{/number}` },
      commits: { href: `${url}/commits` },
      statuses: { href: `${api}/repos/${fullName}/statuses/${pullRequest.head.sha}` },
    },
  };
}

function pullRequestCommon(
  state: GitHubFakeState,
  repository: FakeRepository,
  pullRequest: FakePullRequest,
  api: string,
): JsonObject {
  const branch = (ref: string, sha: string, owner: FakeAccount, repo: FakeRepository | null): Json => ({
    label: `${owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(owner, api),
    repo: repo && repositoryJson(repo, api),
  });
  // A fork missing from the state is a deleted one, as is `null`: GitHub still names its owner in the label.
  const headName = pullRequest.head.repository;
  const headRepository =
    headName === undefined ? repository : headName === null ? undefined : findRepository(state, headName);
  const headOwner = headRepository?.owner ?? {
    login: headName?.split('/')[0] ?? 'ghost',
    id: 10137,
    type: 'User' as const,
  };
  return {
    ...pullRequestUrls(repository, pullRequest, api),
    id: pullRequest.id,
    node_id: Buffer.from(`011:PullRequest${pullRequest.id}`).toString('base64'),
    number: pullRequest.number,
    state: pullRequest.state,
    locked: false,
    title: pullRequest.title,
    user: userJson(pullRequest.user, api),
    body: pullRequest.body,
    labels: [],
    milestone: null,
    created_at: pullRequest.createdAt,
    updated_at: pullRequest.closedAt ?? pullRequest.createdAt,
    closed_at: pullRequest.closedAt,
    merged_at: pullRequest.mergedAt,
    merge_commit_sha: pullRequest.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branch(pullRequest.head.ref, pullRequest.head.sha, headOwner, headRepository ?? null),
    base: branch(pullRequest.base.ref, pullRequest.base.sha, repository.owner, repository),
    author_association: associationOf(repository, pullRequest.user.login),
    auto_merge: null,
    draft: pullRequest.draft,
  };
}

function pullRequestJson(
  state: GitHubFakeState,
  repository: FakeRepository,
  pullRequest: FakePullRequest,
  api: string,
): JsonObject {
  const body = example('pulls/get', repository, api);
  Object.assign(body, pullRequestCommon(state, repository, pullRequest, api), {
    merged: pullRequest.merged,
    mergeable: pullRequest.merged ? null : true,
    rebaseable: pullRequest.merged ? null : true,
    mergeable_state: pullRequest.merged ? 'unknown' : 'clean',
    merged_by: userJson(pullRequest.mergedBy, api),
    commits: pullRequest.commitCount ?? pullRequest.commits.length,
  });
  return body;
}

function pullRequestSimpleJson(
  state: GitHubFakeState,
  repository: FakeRepository,
  pullRequest: FakePullRequest,
  api: string,
): JsonObject {
  const body = example('repos/list-pull-requests-associated-with-commit[0]', repository, api);
  Object.assign(body, pullRequestCommon(state, repository, pullRequest, api));
  return body;
}

function associationOf(repository: FakeRepository, login: string): string {
  if (login.toLowerCase() === repository.owner.login.toLowerCase()) return 'OWNER';
  return roleOf(repository, login) ? 'COLLABORATOR' : 'CONTRIBUTOR';
}

function roleOf(repository: FakeRepository, login: string): FakeRole | undefined {
  const key = Object.keys(repository.collaborators).find((k) => k.toLowerCase() === login.toLowerCase());
  return key === undefined ? undefined : repository.collaborators[key];
}

function reviewJson(
  repository: FakeRepository,
  pullRequest: FakePullRequest,
  review: FakeReview,
  api: string,
): JsonObject {
  const body = example('pulls/list-reviews[0]', repository, api);
  const urls = pullRequestUrls(repository, pullRequest, api);
  const html = `${urls.html_url}#pullrequestreview-${review.id}`;
  Object.assign(body, {
    id: review.id,
    node_id: Buffer.from(`017:PullRequestReview${review.id}`).toString('base64'),
    user: userJson(review.user, api),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: urls.url,
    _links: { html: { href: html }, pull_request: { href: urls.url } },
    commit_id: review.commitId,
    author_association:
      review.authorAssociation ?? (review.user ? associationOf(repository, review.user.login) : 'NONE'),
  });
  if (review.submittedAt === undefined) delete body.submitted_at;
  else body.submitted_at = review.submittedAt;
  return body;
}

function commitJson(
  repository: FakeRepository,
  commit: FakeCommit,
  api: string,
  key: 'pulls/list-commits[0]' | 'repos/get-commit',
): JsonObject {
  const body = example(key, repository, api);
  const fullName = `${repository.owner.login}/${repository.name}`;
  const inner = body.commit as JsonObject;
  Object.assign(inner, {
    url: `${api}/repos/${fullName}/git/commits/${commit.sha}`,
    author: { ...commit.author },
    committer: { ...commit.committer },
    message: commit.message,
    tree: { url: `${api}/repos/${fullName}/git/trees/${commit.treeSha}`, sha: commit.treeSha },
    comment_count: 0,
  });
  Object.assign(body, {
    url: `${api}/repos/${fullName}/commits/${commit.sha}`,
    sha: commit.sha,
    node_id: Buffer.from(`06:Commit${repository.id}:${commit.sha}`).toString('base64'),
    html_url: `https://github.com/${fullName}/commit/${commit.sha}`,
    comments_url: `${api}/repos/${fullName}/commits/${commit.sha}/comments`,
    author: userJson(commit.authorAccount, api),
    committer: userJson(commit.committerAccount, api),
    parents: commit.parents.map((sha) => ({
      url: `${api}/repos/${fullName}/commits/${sha}`,
      sha,
      html_url: `https://github.com/${fullName}/commit/${sha}`,
    })),
  });
  // The examples' stats and files describe a diff the fake does not model.
  if (key === 'repos/get-commit') Object.assign(body, { stats: { additions: 0, deletions: 0, total: 0 }, files: [] });
  return body;
}

/** Commits (`committed`), reviews (`reviewed`) and the other events, in time order as GitHub lists them. */
function timelineJson(repository: FakeRepository, pullRequest: FakePullRequest, api: string): Json[] {
  const fullName = `${repository.owner.login}/${repository.name}`;
  const entries: { at: string; json: JsonObject }[] = [];
  for (const commit of pullRequest.commits) {
    const json = example('git/get-commit', repository, api);
    Object.assign(json, {
      sha: commit.sha,
      node_id: Buffer.from(`06:Commit${repository.id}:${commit.sha}`).toString('base64'),
      url: `${api}/repos/${fullName}/git/commits/${commit.sha}`,
      html_url: `https://github.com/${fullName}/commit/${commit.sha}`,
      author: { ...commit.author },
      committer: { ...commit.committer },
      message: commit.message,
      tree: { url: `${api}/repos/${fullName}/git/trees/${commit.treeSha}`, sha: commit.treeSha },
      parents: commit.parents.map((sha) => ({
        url: `${api}/repos/${fullName}/git/commits/${sha}`,
        sha,
        html_url: `https://github.com/${fullName}/commit/${sha}`,
      })),
      event: 'committed',
    });
    entries.push({ at: commit.committer.date, json });
  }
  for (const review of pullRequest.reviews) {
    if (review.submittedAt === undefined) continue;
    entries.push({
      at: review.submittedAt,
      json: { event: 'reviewed', ...reviewJson(repository, pullRequest, review, api) },
    });
  }
  for (const event of pullRequest.events) {
    if (NOT_IN_TIMELINE.has(event.event)) continue;
    entries.push({ at: event.createdAt, json: issueEventJson(repository, event, api) });
  }
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).map((e) => e.json);
}

/**
 * Events GitHub's REST API gives among a pull request's issue events but not in its timeline (docs, "Issue event
 * types": "REST API for timeline events: not supported").
 */
const NOT_IN_TIMELINE: ReadonlySet<string> = new Set([
  'base_ref_changed',
  'automatic_base_change_succeeded',
  'automatic_base_change_failed',
  'deployment_environment_changed',
]);

/** `GET …/issues/{issue_number}/events`: the pull request's events, oldest first (no commits, no reviews). */
function issueEventsJson(repository: FakeRepository, pullRequest: FakePullRequest, api: string): Json[] {
  return [...pullRequest.events]
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))
    .map((event) => issueEventJson(repository, event, api));
}

/** An issue event in the common shape every issue event has (the timeline example's: `actor`, `event`, …). */
function issueEventJson(repository: FakeRepository, event: FakeTimelineEvent, api: string): JsonObject {
  const fullName = `${repository.owner.login}/${repository.name}`;
  const json = example('issues/list-events-for-timeline[0]', repository, api);
  delete json.lock_reason;
  Object.assign(json, {
    id: event.id,
    node_id: Buffer.from(`013:IssueEvent${event.id}`).toString('base64'),
    url: `${api}/repos/${fullName}/issues/events/${event.id}`,
    actor: userJson(event.actor, api),
    event: event.event,
    commit_id: event.commitId,
    commit_url: event.commitId ? `${api}/repos/${fullName}/commits/${event.commitId}` : null,
    created_at: event.createdAt,
    performed_via_github_app: null,
  });
  return json;
}

function permissionJson(state: GitHubFakeState, repository: FakeRepository, login: string, api: string): JsonObject {
  const body = example('repos/get-collaborator-permission-level', repository, api);
  const role = roleOf(repository, login) ?? (repository.visibility === 'public' ? 'read' : undefined);
  // The legacy `permission` folds maintain into write and triage into read; `role_name` keeps the role.
  const legacy: Record<string, string> = {
    admin: 'admin',
    maintain: 'write',
    write: 'write',
    triage: 'read',
    read: 'read',
  };
  const [permission, roleName] =
    role === undefined
      ? ['none', 'none']
      : typeof role === 'string'
        ? [legacy[role]!, role]
        : [role.permission, role.roleName];
  // The account that holds the login now, as GitHub answers (the permission is the login's, whoever that is).
  const collaborator = findAccount(state, login)?.account;
  // The user is a `collaborator`: its role and permissions too (`role_name` is required by GitHub's schema).
  const user = userJson(collaborator ?? { login, id: syntheticId(login), type: 'User' }, api) as JsonObject;
  const granted = ['pull', 'triage', 'push', 'maintain', 'admin'];
  const level = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 }[
    typeof role === 'object' ? role.permission : (role ?? 'none')
  ];
  Object.assign(user, {
    permissions: Object.fromEntries(granted.map((name, i) => [name, i < level])),
    role_name: roleName,
  });
  Object.assign(body, { permission, role_name: roleName, user });
  return body;
}

/** An environment as GitHub's `environment` schema has it (components.schemas.environment, @octokit/openapi-types). */
function environmentJson(repository: FakeRepository, name: string, environment: FakeEnvironment, api: string): Json {
  const fullName = `${repository.owner.login}/${repository.name}`;
  const rules: Json[] = [
    {
      id: 3755,
      node_id: 'MDQ6R2F0ZTM3NTU=',
      prevent_self_review: environment.preventSelfReview,
      type: 'required_reviewers',
      reviewers: environment.reviewers.map((reviewer) => ({ type: 'User', reviewer: userJson(reviewer, api) })),
    },
    ...(environment.waitTimer === undefined
      ? []
      : [{ id: 3515, node_id: 'MDQ6R2F0ZTM1MTU=', type: 'wait_timer', wait_timer: environment.waitTimer }]),
  ];
  return {
    id: 56780428,
    node_id: 'MDExOkVudmlyb25tZW50NTY3ODA0Mjg=',
    name,
    url: `${api}/repos/${fullName}/environments/${encodeURIComponent(name)}`,
    html_url: `https://github.com/${fullName}/deployments/activity_log?environments_filter=${encodeURIComponent(name)}`,
    created_at: '2020-11-23T22:00:40Z',
    updated_at: '2020-11-23T22:00:40Z',
    protection_rules: rules,
    deployment_branch_policy: null,
  };
}

function workflowRunApprovalJson(repository: FakeRepository, approval: FakeWorkflowRunApproval, api: string): Json {
  const body = example('actions/get-reviews-for-run[0]', repository, api);
  const fullName = `${repository.owner.login}/${repository.name}`;
  const template = (body.environments as JsonObject[])[0]!;
  Object.assign(body, {
    state: approval.state,
    comment: approval.comment,
    user: userJson(approval.user, api),
    environments: approval.environments.map((name, i) => ({
      ...template,
      id: i + 1,
      name,
      url: `${api}/repos/${fullName}/environments/${name}`,
      html_url: `https://github.com/${fullName}/deployments/activity_log?environments_filter=${name}`,
    })),
  });
  return body;
}

/**
 * An attempt of a run as GitHub's `workflow-run` schema has it (`actions/get-workflow-run-attempt`'s example, its
 * repository ours): the run's actor and the attempt's triggering actor; the rest (the workflow, event, commit) is the
 * example's, which the fake does not model.
 */
function workflowRunAttemptJson(
  repository: FakeRepository,
  runId: number,
  attempt: number,
  run: FakeWorkflowRun,
  api: string,
): Json {
  const template = examples['actions/get-workflow-run-attempt'];
  const fullName = fullNameOf(repository);
  const body = mapStrings(template as Json, (s) =>
    s
      .replaceAll('https://api.github.com', api)
      .replaceAll('octo-org/octo-repo', fullName)
      .replaceAll('octocat/Hello-World', fullName)
      .replaceAll(`/actions/runs/${template.id}`, `/actions/runs/${runId}`),
  ) as JsonObject;
  const url = `${api}/repos/${fullName}/actions/runs/${runId}`;
  for (const key of ['repository', 'head_repository']) {
    Object.assign(body[key] as JsonObject, {
      id: repository.id,
      node_id: Buffer.from(`010:Repository${repository.id}`).toString('base64'),
      name: repository.name,
      full_name: fullName,
      owner: userJson(repository.owner, api),
      private: repository.visibility !== 'public',
      html_url: `https://github.com/${fullName}`,
    });
  }
  Object.assign(body, {
    id: runId,
    node_id: Buffer.from(`011:WorkflowRun${runId}`).toString('base64'),
    url,
    html_url: `https://github.com/${fullName}/actions/runs/${runId}`,
    actor: userJson(run.actor, api),
    run_attempt: attempt,
    triggering_actor: userJson(run.attempts[attempt - 1]!, api),
    previous_attempt_url: attempt > 1 ? `${url}/attempts/${attempt - 1}` : null,
  });
  return body;
}

/** A deployment as GitHub's `deployment` schema has it (components.schemas.deployment, @octokit/openapi-types). */
function deploymentJson(repository: FakeRepository, deployment: FakeDeployment, api: string): Json {
  const fullName = fullNameOf(repository);
  const url = `${api}/repos/${fullName}/deployments/${deployment.id}`;
  return {
    url,
    id: deployment.id,
    node_id: Buffer.from(`010:Deployment${deployment.id}`).toString('base64'),
    sha: deployment.sha,
    ref: deployment.ref,
    task: deployment.task,
    payload: {},
    original_environment: deployment.environment,
    environment: deployment.environment,
    description: null,
    creator: userJson(deployment.creator, api),
    created_at: deployment.createdAt,
    updated_at: deployment.statuses.at(-1)?.createdAt ?? deployment.createdAt,
    statuses_url: `${url}/statuses`,
    repository_url: `${api}/repos/${fullName}`,
    transient_environment: false,
    production_environment: deployment.environment === 'production',
    performed_via_github_app: null,
  };
}

/** A deployment status as GitHub's `deployment-status` schema has it (components.schemas["deployment-status"]). */
function deploymentStatusJson(
  repository: FakeRepository,
  deployment: FakeDeployment,
  status: FakeDeploymentStatus,
  id: number,
  api: string,
): Json {
  const fullName = fullNameOf(repository);
  const deploymentUrl = `${api}/repos/${fullName}/deployments/${deployment.id}`;
  return {
    url: `${deploymentUrl}/statuses/${id}`,
    id,
    node_id: Buffer.from(`016:DeploymentStatus${id}`).toString('base64'),
    state: status.state,
    creator: userJson(deployment.creator, api),
    description: '',
    environment: deployment.environment,
    target_url: status.logUrl,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    deployment_url: deploymentUrl,
    repository_url: `${api}/repos/${fullName}`,
    environment_url: '',
    log_url: status.logUrl,
    performed_via_github_app: null,
  };
}

/** The sha256 digests a bundle is about: a message signature's digest, or its in-toto statement's subjects. */
function subjectsOfBundle(bundle: Json): string[] {
  const record = bundle as {
    messageSignature?: { messageDigest?: { algorithm?: string; digest?: string } };
    dsseEnvelope?: { payload?: string };
  };
  const digest = record.messageSignature?.messageDigest;
  if (digest?.algorithm === 'SHA2_256' && digest.digest) {
    return [`sha256:${Buffer.from(digest.digest, 'base64').toString('hex')}`];
  }
  try {
    const statement = JSON.parse(Buffer.from(record.dsseEnvelope?.payload ?? '', 'base64').toString('utf8')) as {
      subject?: { digest?: { sha256?: string } }[];
    };
    return (statement.subject ?? []).flatMap((s) => (s.digest?.sha256 ? [`sha256:${s.digest.sha256}`] : []));
  } catch {
    return [];
  }
}

/**
 * The honest change most tests start from: alice's pull request, approved on its head by bob (both with write
 * access), squash-merged by bob into the default branch of `fullName`. Returns the repository and the merged commit.
 */
export function anApprovedChange(
  fullName: string,
  title = 'Add the parser',
): { repository: FakeRepository; commit: string } {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository(fullName, { collaborators: { alice: 'write', bob: 'write' } });
  const head = aCommit({ author: alice, message: title });
  const pullRequest = aPullRequest({ author: alice, commits: [head], title });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
  return { repository, commit: mergePullRequest(repository, pullRequest, { method: 'squash', by: bob }) };
}

/** A stored attestation as the store lists it (`repository_id`, `bundle_url` or `bundle`, `initiator`). */
function storedAttestationJson(
  repository: FakeRepository,
  attestation: FakeAttestation,
  index: number,
  api: string,
): Json {
  // Behind a URL, `bundle` is null (as GitHub's store answers; the schema of the organisation's list says so, those
  // of the repository's and of the bulk list not yet); inline, there is no `bundle_url` (a string where present).
  return {
    repository_id: repository.id,
    ...(attestation.viaUrl && { bundle_url: `${api}/_attestation-blobs/${repository.id}/${index}` }),
    initiator: attestation.initiator ?? 'user',
    bundle: attestation.viaUrl ? null : attestation.bundle,
  };
}
