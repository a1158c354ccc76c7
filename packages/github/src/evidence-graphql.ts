// Review evidence read through GitHub's GraphQL API: the same evidence as the REST reads (evidence.ts), in as few
// requests as the data allows.
//
// The requests, for a pull request merged as C:
// 1. one query: the repository (visibility, default branch), C itself (message, parents, author, committer) and the
//    pull requests GitHub associates with C, each with its first 100 commits, first 100 reviews (each reviewer's
//    account, profile name and public e-mail) and its first 100 base changes, force pushes and reopenings (the
//    timeline filtered to those kinds);
// 2. then, concurrently: the activity feed (REST: GraphQL has none) — one read of the repository's whole feed when the
//    head branch is in it, each branch's own feed only for a window that first page did not cover — and one query per
//    round with every connection's next page and the permission of every reviewer not yet asked
//    (`collaborators(login:)`, by alias). A pull request with at most 100 reviews, commits and timeline events takes
//    one such round. Collaborators are Users: a bot reviewer's permission is read through REST, as the REST reads do.
// A one-commit, one-review pull request: 3 requests; 125 reviews by 5 reviewers: 3, or 4 when a reviewer first appears
// after the first 100 reviews (through REST alone: 12 and 21, the feed, permissions — the author's too — and profiles
// included).
//
// Failing closed: an answer with errors is a gap naming the query and each error (never "no reviews" or "no
// co-authors"), except two refusals that are answered another way —
// - GraphQL refusing the token altogether in the first query (HTTP 401 or 403, or an error of type FORBIDDEN,
//   INSUFFICIENT_SCOPES or RATE_LIMITED): the whole evidence is read through REST instead (readReviewEvidence says so);
// - a reviewer's permission refused (FORBIDDEN: listing collaborators needs push access for some tokens): that
//   permission is read through REST (`GET …/collaborators/{username}/permission`); NOT_FOUND there is `none`, as
//   REST's 404 is.
// Partial data is used only in that second case, and only for the fields without an error (GraphQL guarantees them).
//
// What GraphQL says differently, and how it is read as REST says it:
// - a Bot's `login` lacks the `[bot]` suffix: it is added back (`renovate` → `renovate[bot]`);
// - a commit's `author.user` is a User: a commit GitHub links to a bot account has no account here (its e-mail, a
//   bot's noreply address, still names the bot);
// - a git date (GitTimestamp) keeps its author's offset: it is written in UTC, as REST writes it;
// - a pull request's commits page past the 250 REST lists at most: a longer pull request is read whole, not a gap;
// - a reviewer GitHub lists as no collaborator has `read` on a public repository and `none` otherwise, as REST says.
// - `User.email` is the public e-mail only as far as the token may see it: when the change carries a co-author
//   trailer, an approver shown none has the profile read through REST (`GET /users/{login}`), as the REST reads do
//   (approverProfiles).

import type { AccountProfile, GitHubAccount, RepositoryPermission, ReviewEvidence } from '@twokey/core';
import {
  activityOf,
  activityRequestOf,
  assembleEvidence,
  type CommitFacts,
  coAuthorsOf,
  collectReviewEvidence,
  failureOf,
  type GitSignature,
  isApiFailure,
  mergeProblemOf,
  type PullRequestFacts,
  pullRequestMergedAs,
  type ReviewEvidenceRequest,
  type ReviewFacts,
  readPermissions,
  readPublicProfiles,
  startEvidence,
  type TimelineFacts,
} from './evidence';
import type { GitHubClient } from './octokit';

/** How the sign stage reads GitHub: GraphQL (REST only where GraphQL has nothing), or REST alone. */
export type GitHubApi = 'graphql' | 'rest';

export interface EvidenceRead {
  evidence: ReviewEvidence;
  /** The API the evidence was read through. */
  api: GitHubApi;
  /** Why it was read through REST although GraphQL was asked for: GraphQL refused the token (the first query's answer). */
  fallback?: string;
}

/**
 * The review evidence of the built commit through `api`: GraphQL falls back to REST when GraphQL refuses the token
 * altogether (and says so); any other failure is a gap of the evidence, as in the REST reads.
 */
export async function readReviewEvidence(
  client: GitHubClient,
  request: ReviewEvidenceRequest,
  api: GitHubApi = 'graphql',
): Promise<EvidenceRead> {
  if (api === 'rest') return { evidence: await collectReviewEvidence(client, request), api };
  try {
    return { evidence: await collectReviewEvidenceGraphQL(client, request), api };
  } catch (error) {
    if (!(error instanceof GraphQLRefused)) throw error;
    return { evidence: await collectReviewEvidence(client, request), api: 'rest', fallback: error.message };
  }
}

/** GraphQL refused the token (see the header): the caller reads through REST instead. */
export class GraphQLRefused extends Error {
  override readonly name = 'GraphQLRefused';
}

/** Reviewers asked per query (each an alias of `collaborators(login:)`). */
const LOGINS_PER_QUERY = 50;
/** Rounds of further pages and permissions before the evidence is called incomplete (10,000 reviews, commits…). */
const MAX_ROUNDS = 100;

export async function collectReviewEvidenceGraphQL(
  client: GitHubClient,
  request: ReviewEvidenceRequest,
): Promise<ReviewEvidence> {
  const { owner, repo, evidence } = startEvidence(request);
  const { commit } = evidence;
  const github = new GraphQLReads(client, owner, repo, evidence.gaps);

  // 1. The repository, C and the pull requests associated with it, with their first pages.
  const first = await github.query<FirstAnswer>(
    `the pull request merged as ${commit}`,
    FIRST_QUERY,
    { owner, name: repo, commit },
    { first: true },
  );
  if (first.refused) throw new GraphQLRefused(first.refused);
  if (!first.data) return evidence;
  const repository = first.data.repository;
  if (!repository) {
    evidence.gaps.push(`POST /graphql: repository ${request.repository} is not known to GitHub`);
    return evidence;
  }
  if (repository.defaultBranchRef) evidence.defaultBranch = repository.defaultBranchRef.name;
  const object = repository.object;
  if (object?.__typename !== 'Commit') {
    evidence.gaps.push(`POST /graphql: GitHub knows no commit ${commit} in ${request.repository}`);
    return evidence;
  }
  const built = object as CommitNode;
  const associated = await associatedPullRequests(github, built, commit);
  if (!associated) return evidence;
  const number = pullRequestMergedAs(
    evidence,
    associated.map((pr) => ({
      number: pr.number,
      url: pr.url,
      merged: pr.merged && pr.mergedAt !== null,
      mergeCommitSha: pr.mergeCommit?.oid ?? null,
      baseRepository: pr.baseRepository?.nameWithOwner ?? '',
    })),
  );
  if (number === undefined) return evidence;
  // The one pullRequestMergedAs chose: of this repository. GitHub's list may hold another repository's pull request of
  // the same number (a fork's lists its upstream's), which must never be the one judged.
  const node = associated.find(
    (pr) => pr.number === number && pr.baseRepository?.nameWithOwner.toLowerCase() === request.repository.toLowerCase(),
  )!;
  const pages = new PullRequestPages(node, github);
  const facts = pages.facts(commitFactsOf(built));
  if (mergeProblemOf(facts, commit)) return assembleEvidence(evidence, request, facts, NOT_READ);

  // 2. The activity feed, and meanwhile every further page and every reviewer's permission.
  const [people, activity] = await Promise.all([
    pages.readRemaining(number, repository.visibility),
    activityOf(client, evidence.gaps, activityRequestOf(request, facts), { oneRead: true }),
  ]);
  return assembleEvidence(evidence, request, pages.facts(commitFactsOf(built)), {
    activity: async () => activity,
    people: async (reviewers, approvers) => ({
      permissions: new Map(reviewers.map(({ login }) => [login, people.permissions.get(login.toLowerCase())])),
      profiles: await approverProfiles(client, request.repository, evidence.gaps, pages.facts(commitFactsOf(built)), {
        approvers,
        read: people.profiles,
      }),
    }),
  });
}

/**
 * The approvers' profiles as the first round read them (`User.name`, `User.email`). GraphQL's `email` is the public
 * e-mail only as far as the token may see it: an empty one may be a profile without one, or one this token is not
 * shown (an OAuth token needs `user:email` or `read:user`; what an installation token is shown is not documented),
 * where `GET /users/{login}` shows the public e-mail to any token. A co-author trailer is matched against the approvers'
 * public e-mails (a trailer naming bob's public address under another name is bob), so when the change carries any
 * trailer, the profile of an approver GraphQL showed no e-mail is read through REST, as the REST reads read every
 * approver's; a read that fails is a gap. Without a trailer, the e-mail decides nothing a commit's own linked account
 * and addresses do not, and nothing more is asked.
 */
async function approverProfiles(
  client: GitHubClient,
  repository: string,
  gaps: string[],
  facts: PullRequestFacts,
  given: { approvers: GitHubAccount[]; read: Map<string, AccountProfile> },
): Promise<AccountProfile[]> {
  const profiles = given.approvers.flatMap((account) => {
    const profile = given.read.get(account.login.toLowerCase());
    return profile && profile.account.id === account.id ? [profile] : [];
  });
  const trailers = [...(facts.commits ?? []), ...(facts.mergeCommit ? [facts.mergeCommit] : [])].some(
    (commit) => coAuthorsOf(commit.message).length > 0,
  );
  const unseen = profiles.filter((profile) => profile.email === undefined && profile.account.type === 'User');
  if (!trailers || unseen.length === 0) return profiles;
  const reread = await readPublicProfiles(
    client,
    repository,
    unseen.map((profile) => profile.account),
    gaps,
  );
  return profiles.flatMap((profile) => {
    const i = unseen.indexOf(profile);
    if (i < 0) return [profile];
    // Unread through REST (its gap recorded): no profile, so this approver never counts (review.ts).
    const again = reread[i];
    return again ? [again] : [];
  });
}

/** The reads a pull request not merged as C never gets to. */
const NOT_READ = {
  activity: () => Promise.reject(new Error('not read: the pull request was not merged as the commit')),
  people: () => Promise.reject(new Error('not read: the pull request was not merged as the commit')),
};

/** Every pull request GitHub associates with C: the first query's, then further pages of 10. */
async function associatedPullRequests(
  github: GraphQLReads,
  built: CommitNode,
  commit: string,
): Promise<PullRequestNode[] | undefined> {
  const connection = built.associatedPullRequests;
  if (!connection) {
    github.gap(`the pull requests associated with ${commit}`, 'associatedPullRequests is null');
    return undefined;
  }
  const nodes = [...connection.nodes];
  let pageInfo = connection.pageInfo;
  for (let round = 0; pageInfo.hasNextPage; round += 1) {
    if (round >= MAX_ROUNDS) {
      github.gap(`the pull requests associated with ${commit}`, `more than ${MAX_ROUNDS} pages`);
      return undefined;
    }
    if (!pageInfo.endCursor) {
      github.gap(`the pull requests associated with ${commit}`, 'a next page but no cursor to it');
      return undefined;
    }
    const more = await github.query<AssociatedAnswer>(`the pull requests associated with ${commit}`, ASSOCIATED_QUERY, {
      ...github.repository,
      commit,
      after: pageInfo.endCursor,
    });
    if (!more.data) return undefined;
    const next = more.data.repository?.object?.associatedPullRequests;
    if (!next) {
      github.gap(`the pull requests associated with ${commit}`, 'the commit is gone');
      return undefined;
    }
    nodes.push(...next.nodes);
    pageInfo = next.pageInfo;
  }
  return nodes;
}

/** What the rounds learn besides the pull request's pages: permissions and profiles, by lower-cased login. */
interface PeopleRead {
  permissions: Map<string, RepositoryPermission | undefined>;
  profiles: Map<string, AccountProfile>;
}

/** A pull request's three paged lists, as read so far, and where each continues. */
class PullRequestPages {
  private readonly commits: CommitFacts[] = [];
  private readonly reviews: ReviewFacts[] = [];
  private readonly timeline: TimelineFacts[] = [];
  /** Lower-cased login → profile, from each review's author. */
  private readonly profiles = new Map<string, AccountProfile>();
  /** Where each list continues; absent: read to its end. */
  private readonly next: Partial<Record<PagedList, string>> = {};
  /** A list whose pages could not all be read: its facts are undefined (the gap is recorded). */
  private broken = false;

  constructor(
    private readonly node: PullRequestNode,
    private readonly github: GraphQLReads,
  ) {
    if (node.reviews === null) {
      github.gap(`pull request #${node.number}`, 'its reviews are null');
      this.broken = true;
    }
    this.add(node);
  }

  /** The pull request's facts from what was read; C is the merge commit. */
  facts(mergeCommit: CommitFacts): PullRequestFacts {
    const pr = this.node;
    const read = <T>(list: T[]) => (this.broken ? undefined : list);
    return {
      number: pr.number,
      url: pr.url,
      title: pr.title,
      author: accountOf(pr.author),
      mergedBy: accountOf(pr.mergedBy),
      merged: pr.merged,
      mergedAt: pr.mergedAt,
      mergeCommitSha: pr.mergeCommit?.oid ?? null,
      createdAt: pr.createdAt,
      headSha: pr.headRefOid,
      headRef: pr.headRefName,
      headRepository: pr.headRepository?.nameWithOwner,
      baseRef: pr.baseRefName,
      commitCount: pr.commits.totalCount,
      commits: read(this.commits),
      mergeCommit,
      reviews: read(this.reviews),
      timeline: read(this.timeline),
    };
  }

  /**
   * Rounds of one query each: every list's next page, and the permission of each reviewer seen and not yet asked; a
   * permission GraphQL refuses is read through REST. A failed round is a gap and ends the reading.
   */
  async readRemaining(number: number, visibility: string): Promise<PeopleRead> {
    const { github } = this;
    const permissions = new Map<string, RepositoryPermission | undefined>();
    const asked = new Set<string>();
    const viaRest = async (accounts: GitHubAccount[]) => {
      const read = await readPermissions(github.client, github.fullName, accounts, github.gaps);
      for (const [login, permission] of read) permissions.set(login.toLowerCase(), permission);
    };
    for (let round = 0; ; round += 1) {
      const reviewers = new Map(
        this.reviews.flatMap((r) => (r.reviewer ? [[r.reviewer.login.toLowerCase(), r.reviewer]] : [])),
      );
      // The author's permission too, when a person: without write access, their change needs one more approval.
      const author = accountOf(this.node.author);
      if (author?.type === 'User' && !reviewers.has(author.login.toLowerCase())) {
        reviewers.set(author.login.toLowerCase(), author);
      }
      const fresh = [...reviewers.values()].filter((account) => !asked.has(account.login.toLowerCase()));
      // Collaborators are Users: a bot's (or another account's) permission is one GraphQL cannot list, REST's to tell.
      const others = fresh.filter((account) => account.type !== 'User');
      const users = fresh.filter((account) => account.type === 'User').slice(0, LOGINS_PER_QUERY);
      const logins = users.map((account) => account.login);
      const lists = (Object.keys(this.next) as PagedList[]).filter((list) => this.next[list] !== undefined);
      if (logins.length === 0 && lists.length === 0 && others.length === 0) break;
      if (round >= MAX_ROUNDS) {
        github.gap(`pull request #${number}`, `more than ${MAX_ROUNDS} rounds of pages`);
        this.broken = true;
        break;
      }
      for (const account of [...users, ...others]) asked.add(account.login.toLowerCase());
      const [answer] = await Promise.all([
        logins.length > 0 || lists.length > 0 ? this.round(number, lists, logins) : undefined,
        others.length > 0 ? viaRest(others) : undefined,
      ]);
      if (!answer) continue;
      if (!answer.data?.repository) {
        this.broken = true;
        break;
      }
      const pullRequest = answer.data.repository.pullRequest;
      if (lists.length > 0) {
        if (!pullRequest) {
          github.gap(`pull request #${number}`, 'it is gone');
          this.broken = true;
          break;
        }
        for (const list of lists) {
          delete this.next[list];
          // A page asked for and answered with null (PullRequest.reviews is nullable) is a list not read to its end.
          if (!pullRequest[list]) {
            github.gap(`pull request #${number}`, `the next page of its ${list} is null`);
            this.broken = true;
          }
        }
        this.add(pullRequest);
      }
      const refused: GitHubAccount[] = [];
      for (const [i, account] of users.entries()) {
        const alias = `reviewer${i}`;
        if (answer.refusedAliases?.has(alias)) {
          refused.push(account);
          continue;
        }
        const connection = answer.notFoundAliases?.has(alias) ? null : answer.data.repository[alias];
        permissions.set(
          account.login.toLowerCase(),
          github.permission(account, connection as CollaboratorsNode | null, visibility),
        );
      }
      if (refused.length > 0) await viaRest(refused);
    }
    return { permissions, profiles: this.profiles };
  }

  /** One round's query: the next page of `lists` and the permissions of `logins`. */
  private round(number: number, lists: PagedList[], logins: string[]): Promise<Answer<FollowUpAnswer>> {
    const variables: Record<string, unknown> = { ...this.github.repository, ...(lists.length > 0 && { number }) };
    for (const list of lists) variables[`${list}After`] = this.next[list];
    for (const [i, login] of logins.entries()) variables[`reviewer${i}`] = login;
    return this.github.query<FollowUpAnswer>(
      `pull request #${number}: ${[...lists, ...(logins.length ? ['permissions'] : [])].join(', ')}`,
      followUpQuery({ lists, logins: logins.length }),
      variables,
      { refusable: logins.map((_, i) => `reviewer${i}`) },
    );
  }

  /** Adds a page of each list an answer carries, and notes where each continues. */
  private add(pr: Partial<Pick<PullRequestNode, PagedList>>): void {
    if (pr.commits) {
      this.commits.push(...pr.commits.nodes.map((n) => commitFactsOf(n.commit)));
      this.continueAt('commits', pr.commits.pageInfo);
    }
    if (pr.reviews) {
      for (const review of pr.reviews.nodes) {
        const reviewer = accountOf(review.author);
        const id = Number(review.fullDatabaseId ?? Number.NaN);
        if (!Number.isSafeInteger(id)) {
          this.github.gap(`pull request #${this.node.number}`, `a ${review.state} review has no id`);
          this.broken = true;
        }
        this.reviews.push({
          id,
          reviewer: reviewer ?? null,
          state: review.state,
          commitId: review.commit?.oid ?? null,
          ...(review.submittedAt !== null && { submittedAt: review.submittedAt }),
        });
        if (reviewer) this.profiles.set(reviewer.login.toLowerCase(), profileOf(reviewer, review.author));
      }
      this.continueAt('reviews', pr.reviews.pageInfo);
    }
    if (pr.timelineItems) {
      for (const item of pr.timelineItems.nodes) {
        const event = TIMELINE_EVENTS[item.__typename];
        if (event) this.timeline.push({ event, actor: accountOf(item.actor), createdAt: item.createdAt });
      }
      this.continueAt('timelineItems', pr.timelineItems.pageInfo);
    }
  }

  /** Notes where a list continues; a next page without a cursor to it is a list that cannot be read to its end. */
  private continueAt(list: PagedList, { hasNextPage, endCursor }: PageInfoNode): void {
    if (!hasNextPage) return;
    if (endCursor) {
      this.next[list] = endCursor;
      return;
    }
    this.github.gap(`pull request #${this.node.number}`, `its ${list} have a next page but no cursor to it`);
    this.broken = true;
  }
}

const TIMELINE_EVENTS: Record<string, TimelineFacts['event'] | undefined> = {
  BaseRefChangedEvent: 'base_ref_changed',
  // GitHub retargeting a stacked pull request when its base branch is deleted: a base change as any other.
  AutomaticBaseChangeSucceededEvent: 'automatic_base_change_succeeded',
  HeadRefForcePushedEvent: 'head_ref_force_pushed',
  ReopenedEvent: 'reopened',
};

// ── One query at a time ──────────────────────────────────────────────────────────────────────────────────────

interface Answer<T> {
  /** The data, when it can be used (no error, or errors only where `refusable` allows). */
  data?: T;
  /** GraphQL refused the token (see the header): no data, no gap. */
  refused?: string;
  /** Aliases whose field GraphQL refused (FORBIDDEN), or found no such user for (NOT_FOUND). */
  refusedAliases?: Set<string>;
  notFoundAliases?: Set<string>;
}

interface GraphQLErrorEntry {
  type?: string;
  path?: (string | number)[];
  message: string;
}

/** GraphQL's word for a token it will not serve at all, whatever is asked. */
const REFUSING = new Set(['FORBIDDEN', 'INSUFFICIENT_SCOPES', 'RATE_LIMITED']);

/** The queries of one repository; a failed query records a gap naming it and each error. */
class GraphQLReads {
  readonly repository: { owner: string; name: string };

  constructor(
    readonly client: GitHubClient,
    owner: string,
    name: string,
    readonly gaps: string[],
  ) {
    this.repository = { owner, name };
  }

  get fullName(): string {
    return `${this.repository.owner}/${this.repository.name}`;
  }

  gap(what: string, why: string): void {
    this.gaps.push(`POST /graphql (${what}): ${why}`);
  }

  /**
   * One query. The `first` query of a read may be refused (GraphQL refusing the token: `refused`, no gap); a later
   * query's refusal of a `refusable` alias (`repository.<alias>`) leaves the rest of its data usable. Anything else is
   * a gap.
   */
  async query<T>(
    what: string,
    query: string,
    variables: Record<string, unknown>,
    options: { first?: boolean; refusable?: string[] } = {},
  ): Promise<Answer<T>> {
    let data: T;
    try {
      data = await this.client.graphql<T>(query, variables);
    } catch (error) {
      if (isApiFailure(error)) {
        const failure = failureOf(error);
        if (options.first && (error.status === 401 || error.status === 403)) {
          return { refused: `POST /graphql: ${failure}` };
        }
        this.gap(what, failure);
        return {};
      }
      const errors = graphqlErrorsOf(error);
      if (!errors) throw error;
      const listed = errors
        .map((e) => `${e.type ?? 'ERROR'} at ${e.path?.join('.') || '(query)'}: ${e.message}`)
        .join('; ');
      if (options.first && errors.some((e) => e.type && REFUSING.has(e.type))) {
        return { refused: `POST /graphql: ${listed}` };
      }
      const refusable = new Set(options.refusable ?? []);
      const onAlias = (e: GraphQLErrorEntry) =>
        e.path?.length !== undefined && e.path[0] === 'repository' && refusable.has(String(e.path[1]));
      const answer: Answer<T> = { refusedAliases: new Set(), notFoundAliases: new Set() };
      for (const e of errors) {
        if (onAlias(e) && e.type === 'FORBIDDEN') answer.refusedAliases!.add(String(e.path![1]));
        else if (onAlias(e) && e.type === 'NOT_FOUND') answer.notFoundAliases!.add(String(e.path![1]));
        else {
          this.gap(what, listed);
          return {};
        }
      }
      const partial = (error as { data?: T }).data;
      if (partial === undefined || partial === null) {
        this.gap(what, listed);
        return {};
      }
      return this.shown(what, { ...answer, data: partial });
    }
    return this.shown(what, { data });
  }

  /**
   * The answer, unless a list in it has an item GitHub did not show: the schema lets every `nodes` list, and every
   * item of one, be null (an item of a deleted account, or data the token may not see), and a review or force push
   * left out must not pass as one that never happened. Such an answer is a gap, as an error would be.
   */
  private shown<T>(what: string, answer: Answer<T>): Answer<T> {
    const hidden = hiddenItem(answer.data);
    if (hidden === undefined) return answer;
    this.gap(what, `GitHub answered with an item it did not show (null) at ${hidden}`);
    return {};
  }

  /**
   * A reviewer's permission from `collaborators(login:)`: the listed collaborator's, else — not a collaborator, or no
   * such user (`null`) — `read` on a public repository and `none` otherwise (`none` for no such user).
   */
  permission(
    account: GitHubAccount,
    connection: CollaboratorsNode | null,
    visibility: string,
  ): RepositoryPermission | undefined {
    const login = account.login;
    if (connection === null) return 'none';
    const edge = (connection.edges ?? []).find((e) => e?.node.login.toLowerCase() === login.toLowerCase());
    if (!edge) return visibility === 'PUBLIC' ? 'read' : 'none';
    // The login's permission: the collaborator holding it must be the reviewer's account (renamed away and the login
    // taken by another, the answer is someone else's permission).
    if (edge.node.databaseId !== account.id) {
      this.gap(
        `${login}'s permission`,
        `expected account ${account.id}, the reviewer, found account ${edge.node.databaseId ?? '(none)'} (the login changed hands)`,
      );
      return undefined;
    }
    const permission = PERMISSIONS[edge.permission];
    if (!permission) this.gap(`${login}'s permission`, `unknown permission "${edge.permission}"`);
    return permission;
  }
}

const PERMISSIONS: Record<string, RepositoryPermission | undefined> = {
  ADMIN: 'admin',
  MAINTAIN: 'maintain',
  WRITE: 'write',
  TRIAGE: 'triage',
  READ: 'read',
};

/** The errors of a GraphQL answer (Octokit's GraphqlResponseError, or the throttling plugin's rate-limit error). */
function graphqlErrorsOf(error: unknown): GraphQLErrorEntry[] | undefined {
  if (!(error instanceof Error)) return undefined;
  const record = error as { errors?: unknown; data?: { errors?: unknown } };
  const errors = error.name === 'GraphqlResponseError' ? record.errors : record.data?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors.map((e: { type?: unknown; path?: unknown; message?: unknown }) => ({
    ...(typeof e.type === 'string' && { type: e.type }),
    ...(Array.isArray(e.path) && { path: e.path as (string | number)[] }),
    message: typeof e.message === 'string' ? e.message : JSON.stringify(e),
  }));
}

// ── Mapping GraphQL objects to what REST says ─────────────────────────────────────────────────────────────────

interface ActorNode {
  __typename: string;
  login: string;
  databaseId?: number | null;
  name?: string | null;
  email?: string;
}

function accountOf(actor: ActorNode | null | undefined): GitHubAccount | undefined {
  if (!actor || typeof actor.databaseId !== 'number') return undefined;
  // GraphQL names a bot `renovate`, REST and the commits' noreply addresses `renovate[bot]`.
  const login = actor.__typename === 'Bot' && !actor.login.endsWith('[bot]') ? `${actor.login}[bot]` : actor.login;
  return { login, id: actor.databaseId, type: actor.__typename };
}

/** The profile name and public e-mail a User shows (`""` is none); other actors show none. */
function profileOf(account: GitHubAccount, actor: ActorNode | null): AccountProfile {
  return { account, ...(actor?.name && { name: actor.name }), ...(actor?.email && { email: actor.email }) };
}

interface GitActorNode {
  name: string | null;
  email: string | null;
  date: string | null;
  user: { login: string; databaseId: number | null } | null;
}

function signatureOf(actor: GitActorNode | null): GitSignature | null {
  if (!actor) return null;
  return {
    ...(actor.name !== null && { name: actor.name }),
    ...(actor.email !== null && { email: actor.email }),
    ...(actor.date !== null && { date: utc(actor.date) }),
  };
}

function linkedAccountOf(actor: GitActorNode | null): GitHubAccount | undefined {
  const user = actor?.user;
  return user && typeof user.databaseId === 'number'
    ? { login: user.login, id: user.databaseId, type: 'User' }
    : undefined;
}

/** A git date (GitTimestamp, with its author's offset) as REST writes it: UTC, whole seconds, `Z`. */
function utc(date: string): string {
  const time = Date.parse(date);
  return Number.isFinite(time) ? new Date(time).toISOString().replace(/\.000Z$/, 'Z') : date;
}

interface CommitNode {
  __typename: 'Commit';
  oid: string;
  message: string;
  author: GitActorNode | null;
  committer: GitActorNode | null;
  parents?: { totalCount: number; nodes: { oid: string }[] };
  associatedPullRequests?: PullRequestConnectionNode | null;
}

function commitFactsOf(commit: CommitNode): CommitFacts {
  return {
    sha: commit.oid,
    parents: commit.parents?.nodes.map((p) => p.oid) ?? [],
    author: signatureOf(commit.author),
    committer: signatureOf(commit.committer),
    authorAccount: linkedAccountOf(commit.author),
    committerAccount: linkedAccountOf(commit.committer),
    message: commit.message,
  };
}

// ── The queries ─────────────────────────────────────────────────────────────────────────────────────────────

interface PageInfoNode {
  hasNextPage: boolean;
  endCursor: string | null;
}

interface ReviewNode {
  fullDatabaseId: string | null;
  author: ActorNode | null;
  state: string;
  commit: { oid: string } | null;
  submittedAt: string | null;
}

interface TimelineItemNode {
  __typename: string;
  actor?: ActorNode | null;
  createdAt: string;
}

type PagedList = 'commits' | 'reviews' | 'timelineItems';

interface PullRequestNode {
  number: number;
  url: string;
  title: string;
  merged: boolean;
  mergedAt: string | null;
  createdAt: string;
  headRefName: string;
  headRefOid: string;
  baseRefName: string;
  baseRepository: { nameWithOwner: string } | null;
  headRepository: { nameWithOwner: string } | null;
  mergeCommit: { oid: string } | null;
  author: ActorNode | null;
  mergedBy: ActorNode | null;
  commits: { totalCount: number; pageInfo: PageInfoNode; nodes: { commit: CommitNode }[] };
  reviews: { pageInfo: PageInfoNode; nodes: ReviewNode[] } | null;
  timelineItems: { pageInfo: PageInfoNode; nodes: TimelineItemNode[] };
}

interface PullRequestConnectionNode {
  pageInfo: PageInfoNode;
  nodes: PullRequestNode[];
}

interface CollaboratorsNode {
  edges: ({ permission: string; node: { login: string; databaseId: number | null } } | null)[] | null;
}

interface FirstAnswer {
  repository: {
    visibility: string;
    defaultBranchRef: { name: string } | null;
    object: CommitNode | { __typename: string } | null;
  } | null;
}

interface AssociatedAnswer {
  repository: { object: { associatedPullRequests?: PullRequestConnectionNode | null } | null } | null;
}

interface FollowUpAnswer {
  repository: ({ pullRequest?: Partial<Pick<PullRequestNode, PagedList>> | null } & Record<string, unknown>) | null;
}

const PAGE = 100;

const ACCOUNT = `fragment TwokeyAccount on Actor {
  __typename
  login
  ... on User { databaseId }
  ... on Bot { databaseId }
  ... on Organization { databaseId }
  ... on Mannequin { databaseId }
}`;

// A reviewer's profile name and public e-mail: what commits may carry instead of the noreply address.
const REVIEWER = `fragment TwokeyReviewer on Actor {
  ...TwokeyAccount
  ... on User { name email }
}`;

const GIT_ACTOR = `fragment TwokeyGitActor on GitActor {
  name
  email
  date
  user { login databaseId }
}`;

const COMMIT = `fragment TwokeyCommit on Commit {
  __typename
  oid
  message
  author { ...TwokeyGitActor }
  committer { ...TwokeyGitActor }
}`;

const COMMITS_PAGE = `fragment TwokeyCommits on PullRequestCommitConnection {
  totalCount
  pageInfo { hasNextPage endCursor }
  nodes { commit { ...TwokeyCommit } }
}`;

const REVIEWS_PAGE = `fragment TwokeyReviews on PullRequestReviewConnection {
  pageInfo { hasNextPage endCursor }
  nodes {
    fullDatabaseId
    author { ...TwokeyReviewer }
    state
    commit { oid }
    submittedAt
  }
}`;

const TIMELINE_PAGE = `fragment TwokeyTimeline on PullRequestTimelineItemsConnection {
  pageInfo { hasNextPage endCursor }
  nodes {
    __typename
    ... on BaseRefChangedEvent { actor { ...TwokeyAccount } createdAt }
    ... on AutomaticBaseChangeSucceededEvent { actor { ...TwokeyAccount } createdAt }
    ... on HeadRefForcePushedEvent { actor { ...TwokeyAccount } createdAt }
    ... on ReopenedEvent { actor { ...TwokeyAccount } createdAt }
  }
}`;

const TIMELINE_TYPES =
  '[BASE_REF_CHANGED_EVENT, AUTOMATIC_BASE_CHANGE_SUCCEEDED_EVENT, HEAD_REF_FORCE_PUSHED_EVENT, REOPENED_EVENT]';

const PULL_REQUEST = `fragment TwokeyPullRequest on PullRequest {
  number
  url
  title
  merged
  mergedAt
  createdAt
  headRefName
  headRefOid
  baseRefName
  baseRepository { nameWithOwner }
  headRepository { nameWithOwner }
  mergeCommit { oid }
  author { ...TwokeyAccount }
  mergedBy { ...TwokeyAccount }
  commits(first: ${PAGE}) { ...TwokeyCommits }
  reviews(first: ${PAGE}) { ...TwokeyReviews }
  timelineItems(first: ${PAGE}, itemTypes: ${TIMELINE_TYPES}) { ...TwokeyTimeline }
}`;

const PULL_REQUEST_FRAGMENTS = [
  PULL_REQUEST,
  COMMITS_PAGE,
  REVIEWS_PAGE,
  TIMELINE_PAGE,
  COMMIT,
  GIT_ACTOR,
  REVIEWER,
  ACCOUNT,
];

const ASSOCIATED_PAGE = 10;

/** The first query: the repository, C, and the pull requests associated with C with their first pages. */
export const FIRST_QUERY = [
  `query TwokeyReviewEvidence($owner: String!, $name: String!, $commit: GitObjectID!) {
  repository(owner: $owner, name: $name) {
    visibility
    defaultBranchRef { name }
    object(oid: $commit) {
      __typename
      ... on Commit {
        ...TwokeyCommit
        parents(first: ${PAGE}) { totalCount nodes { oid } }
        associatedPullRequests(first: ${ASSOCIATED_PAGE}) {
          pageInfo { hasNextPage endCursor }
          nodes { ...TwokeyPullRequest }
        }
      }
    }
  }
}`,
  ...PULL_REQUEST_FRAGMENTS,
].join('\n');

/** Further pull requests associated with C (rare: more than 10). */
export const ASSOCIATED_QUERY = [
  `query TwokeyAssociatedPullRequests($owner: String!, $name: String!, $commit: GitObjectID!, $after: String) {
  repository(owner: $owner, name: $name) {
    object(oid: $commit) {
      ... on Commit {
        associatedPullRequests(first: ${ASSOCIATED_PAGE}, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes { ...TwokeyPullRequest }
        }
      }
    }
  }
}`,
  ...PULL_REQUEST_FRAGMENTS,
].join('\n');

const LIST_SELECTIONS: Record<PagedList, { field: string; fragment: string[] }> = {
  commits: {
    field: `commits(first: ${PAGE}, after: $commitsAfter) { ...TwokeyCommits }`,
    fragment: [COMMITS_PAGE, COMMIT, GIT_ACTOR],
  },
  reviews: {
    field: `reviews(first: ${PAGE}, after: $reviewsAfter) { ...TwokeyReviews }`,
    fragment: [REVIEWS_PAGE, REVIEWER, ACCOUNT],
  },
  timelineItems: {
    field: `timelineItems(first: ${PAGE}, after: $timelineItemsAfter, itemTypes: ${TIMELINE_TYPES}) { ...TwokeyTimeline }`,
    fragment: [TIMELINE_PAGE, ACCOUNT],
  },
};

/**
 * A round's query: the next page of each of `lists` of pull request `$number`, and the permission of `logins`
 * reviewers (`$reviewer0`…, answered as `reviewer0`…). Logins are variables, never query text.
 */
export function followUpQuery(parts: { lists: PagedList[]; logins: number }): string {
  const variables = ['$owner: String!', '$name: String!'];
  const fields: string[] = [];
  const fragments = new Set<string>();
  if (parts.lists.length > 0) {
    variables.push('$number: Int!');
    for (const list of parts.lists) {
      variables.push(`$${list}After: String`);
      for (const fragment of LIST_SELECTIONS[list].fragment) fragments.add(fragment);
    }
    fields.push(
      `pullRequest(number: $number) {\n      ${parts.lists.map((l) => LIST_SELECTIONS[l].field).join('\n      ')}\n    }`,
    );
  }
  for (let i = 0; i < parts.logins; i += 1) {
    variables.push(`$reviewer${i}: String!`);
    fields.push(
      `reviewer${i}: collaborators(login: $reviewer${i}, first: 1) { edges { permission node { login databaseId } } }`,
    );
  }
  return [
    `query TwokeyReviewEvidenceMore(${variables.join(', ')}) {\n  repository(owner: $owner, name: $name) {\n    ${fields.join('\n    ')}\n  }\n}`,
    ...fragments,
  ].join('\n');
}

/** The path of the first `nodes` list in an answer that is null or holds a null item, or undefined when none does. */
function hiddenItem(value: unknown, path = 'data'): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = hiddenItem(item, `${path}.${i}`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (key === 'nodes' && (item === null || (Array.isArray(item) && item.includes(null)))) {
      return item === null ? at : `${at}.${(item as unknown[]).indexOf(null)}`;
    }
    const found = hiddenItem(item, at);
    if (found) return found;
  }
  return undefined;
}
