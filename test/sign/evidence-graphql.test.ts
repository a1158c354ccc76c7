// The review evidence read through GitHub's GraphQL API is the evidence the REST reads give — for every kind of pull
// request the rules judge — in fewer requests; its queries are ones GitHub's schema accepts; and a GraphQL failure is
// never read as "no reviews" or "no co-authors": it is a gap (refused), or, when GraphQL refuses the token, the REST
// reads instead.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_REVIEW_RULES, evaluateReview } from '@twokey/core';
import {
  ASSOCIATED_QUERY,
  collectReviewEvidence,
  collectReviewEvidenceGraphQL,
  createGitHubClient,
  FIRST_QUERY,
  followUpQuery,
  type GitHubClientOptions,
  type ReviewEvidenceRequest,
  readReviewEvidence,
} from '@twokey/github';
import {
  aBot,
  aCommit,
  aForcePush,
  aGitHubState,
  anActivity,
  aPullRequest,
  aRepository,
  aReview,
  aTimelineEvent,
  aUser,
  checkGraphQLAnswer,
  checkGraphQLQuery,
  type FakeRepository,
  type FakeUser,
  failGraphQLField,
  type GitHubFake,
  type MergeMethodName,
  mergePullRequest,
  moveBranch,
  pushCommit,
  pushToPullRequest,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const GRAPHQL = 'POST /graphql';
const PERMISSION_ROUTE = 'GET /repos/{owner}/{repo}/collaborators/{username}/permission';

const fakes: GitHubFake[] = [];
const proxies: Server[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  await Promise.all(
    proxies.splice(0).map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections())),
  );
});

async function serve(...entries: (FakeRepository | FakeUser)[]): Promise<GitHubFake> {
  const fake = await startGitHubFake(aGitHubState(...entries));
  fakes.push(fake);
  return fake;
}

function clientFor(fake: Pick<GitHubFake, 'url'>, options: Partial<GitHubClientOptions> = {}) {
  return createGitHubClient({
    token: 'ghs_test',
    baseUrl: fake.url,
    retryDelayMs: 5,
    timeoutMs: 5_000,
    readsOnly: true,
    ...options,
  });
}

/** The evidence through both APIs, each on a fake of its own, and the requests each made. */
async function bothWays(entries: (FakeRepository | FakeUser)[], request: ReviewEvidenceRequest) {
  const restFake = await serve(...entries);
  const graphqlFake = await serve(...entries);
  const rest = await collectReviewEvidence(clientFor(restFake), request);
  const graphql = await collectReviewEvidenceGraphQL(clientFor(graphqlFake), request);
  return { rest, graphql, restRequests: restFake.requests, graphqlRequests: graphqlFake.requests };
}

/** alice opens a two-commit pull request, bob approves its head and merges it. */
function reviewedChange(method: MergeMethodName = 'merge') {
  const alice = aUser('alice');
  const bob = aUser('bob', { profile: { name: 'Bob Builder', email: 'bob@acme.example' } });
  const carol = aUser('carol');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', carol: 'write' } });
  const first = aCommit({ author: alice, message: 'Add the parser' });
  const head = aCommit({ author: alice, message: 'Handle empty input' });
  const pullRequest = aPullRequest({ author: alice, commits: [first, head], title: 'Parser' });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, state: 'APPROVED' }));
  return {
    alice,
    bob,
    carol,
    repository,
    pullRequest,
    first,
    head,
    merge: () => mergePullRequest(repository, pullRequest, { method, by: bob }),
  };
}

/** Each scenario: the state and the built commit (and ref). */
const scenarios: [
  string,
  () => {
    entries: (FakeRepository | FakeUser)[];
    commit: string;
    ref?: string;
    /** Approvers whose profile is read through REST: GraphQL showed no e-mail, and the change carries trailers. */
    restProfiles?: string[];
  },
][] = [
  ...(['merge', 'squash', 'rebase'] as const).map(
    (method): [string, () => { entries: (FakeRepository | FakeUser)[]; commit: string }] => [
      `a ${method} approved by someone with a public profile`,
      () => {
        const change = reviewedChange(method);
        return { entries: [change.repository, change.bob], commit: change.merge() };
      },
    ],
  ),
  [
    'commits by several people, co-authors (a bot among them), a merge commit with its own trailers',
    () => {
      const change = reviewedChange('squash');
      const renovate = aBot('renovate');
      change.pullRequest.commits.push(
        aCommit({ author: change.carol, committer: change.alice, message: 'Pair', coAuthors: [change.bob, renovate] }),
        aCommit({ author: { name: 'Bob B.', email: 'bob@acme.example' }, message: 'By e-mail only' }),
      );
      change.pullRequest.head.sha = change.pullRequest.commits.at(-1)!.sha;
      change.pullRequest.reviews.push(aReview({ by: change.carol, on: change.pullRequest.head.sha }));
      // carol's profile shows no e-mail through GraphQL, and the change carries trailers: asked through REST.
      return { entries: [change.repository, change.bob], commit: change.merge(), restProfiles: ['carol'] };
    },
  ],
  [
    'more than 100 reviews by several people, the approval on the last page, each state and a deleted account',
    () => {
      const change = reviewedChange('merge');
      const approval = change.pullRequest.reviews.pop()!;
      const chatty = [aUser('chatty1'), aUser('chatty2'), change.carol];
      const states = ['COMMENTED', 'CHANGES_REQUESTED', 'DISMISSED', 'COMMENTED'] as const;
      for (let i = 0; i < 130; i += 1) {
        change.pullRequest.reviews.push(aReview({ by: chatty[i % 3]!, on: change.head.sha, state: states[i % 4] }));
      }
      change.pullRequest.reviews.push(aReview({ by: null, on: change.head.sha, state: 'COMMENTED' }));
      change.pullRequest.reviews.push(aReview({ by: null, on: change.head.sha, state: 'APPROVED' }));
      change.pullRequest.reviews.push(aReview({ by: change.carol, on: change.head.sha, state: 'PENDING' }));
      change.pullRequest.reviews.push(approval);
      return { entries: [change.repository, change.bob], commit: change.merge() };
    },
  ],
  [
    'reviewers of every role, an outsider and a bot, on a public repository',
    () => {
      const change = reviewedChange('merge');
      change.repository.visibility = 'public';
      Object.assign(change.repository.collaborators, {
        admina: 'admin',
        maintainer: 'maintain',
        triager: 'triage',
        reader: 'read',
        custom: { roleName: 'release-manager', permission: 'write' },
      });
      for (const login of ['admina', 'maintainer', 'triager', 'reader', 'custom', 'outsider']) {
        change.pullRequest.reviews.push(aReview({ by: aUser(login), on: change.head.sha }));
      }
      change.pullRequest.reviews.push(aReview({ by: aBot('renovate'), on: change.head.sha }));
      return { entries: [change.repository], commit: change.merge() };
    },
  ],
  [
    'an outsider on a private repository',
    () => {
      const change = reviewedChange('merge');
      change.pullRequest.reviews.push(aReview({ by: aUser('sockpuppet'), on: change.head.sha }));
      return { entries: [change.repository], commit: change.merge() };
    },
  ],
  [
    'a push by someone else, a force push, a retargeted base',
    () => {
      const change = reviewedChange('merge');
      const mallory = aUser('mallory');
      pushToPullRequest(change.pullRequest, aCommit({ author: change.alice, message: 'As alice' }), { by: mallory });
      pushToPullRequest(change.pullRequest, aCommit({ author: change.alice, message: 'Rewritten' }), {
        by: mallory,
        force: true,
      });
      change.pullRequest.events.push(aTimelineEvent('base_ref_changed', { by: change.alice }));
      change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.pullRequest.head.sha }));
      return { entries: [change.repository], commit: change.merge() };
    },
  ],
  [
    'a force push the feed cannot show (403): the last pusher guessed from the timeline',
    () => {
      const change = reviewedChange('merge');
      change.pullRequest.events.push(aForcePush({ by: aUser('mallory') }));
      return { entries: [change.repository], commit: change.merge() };
    },
  ],
  [
    'a merge through the merge queue, the head branch deleted',
    () => {
      const change = reviewedChange('squash');
      return {
        entries: [change.repository],
        commit: mergePullRequest(change.repository, change.pullRequest, {
          method: 'squash',
          by: change.bob,
          mergeQueue: true,
          deleteBranch: true,
        }),
      };
    },
  ],
  [
    'a pull request from a fork, and one from a deleted fork',
    () => {
      const alice = aUser('alice');
      const bob = aUser('bob');
      const repository = aRepository('acme/app', { collaborators: { bob: 'write' } });
      const fork = aRepository('alice/app', { ownerType: 'User' });
      const gone = aPullRequest({ author: alice, commits: [aCommit({ author: alice })], headRepository: null });
      mergePullRequest(repository, gone, { method: 'squash', by: bob });
      const pullRequest = aPullRequest({
        author: alice,
        commits: [aCommit({ author: alice })],
        headRepository: 'alice/app',
      });
      pullRequest.reviews.push(aReview({ by: bob, on: pullRequest.head.sha }));
      return {
        entries: [repository, fork],
        commit: mergePullRequest(repository, pullRequest, { method: 'squash', by: bob }),
      };
    },
  ],
  [
    'a pull request into a side branch, main then moved onto its merge commit (built on main)',
    () => {
      const change = reviewedChange('merge');
      change.pullRequest.base.ref = 'side';
      const merged = change.merge();
      moveBranch(change.repository, 'main', merged, { by: change.alice });
      return { entries: [change.repository], commit: merged, ref: 'refs/heads/main' };
    },
  ],
  [
    'a commit pushed straight to main (no pull request)',
    () => {
      const repository = aRepository('acme/app');
      return { entries: [repository], commit: pushCommit(repository, aCommit({ author: aUser('mallory') })) };
    },
  ],
  [
    'a branch commit of a pull request merged as another commit',
    () => {
      const change = reviewedChange('squash');
      change.merge();
      return { entries: [change.repository], commit: change.head.sha };
    },
  ],
  [
    'a pull request fast-forwarded to its own head (no GitHub merge method)',
    () => {
      const change = reviewedChange('merge');
      change.merge();
      change.pullRequest.mergeCommitSha = change.head.sha;
      change.repository.commits.push(change.head);
      return { entries: [change.repository], commit: change.head.sha };
    },
  ],
  [
    'a busy repository: more than a page of other pushes since the pull request was opened',
    () => {
      const change = reviewedChange('merge');
      const merged = change.merge();
      for (let i = 0; i < 150; i += 1) {
        change.repository.activity.push(
          anActivity('push', { ref: `other-${i}`, after: 'b'.repeat(40), by: change.carol }),
        );
      }
      return { entries: [change.repository], commit: merged };
    },
  ],
];

describe('the evidence through GraphQL is the evidence through REST', () => {
  it.each(scenarios)('%s', async (_, build) => {
    const { entries, commit, ref, restProfiles = [] } = build();
    const request = { repository: 'acme/app', commit, ...(ref && { ref }) };

    const { rest, graphql, graphqlRequests } = await bothWays(entries, request);

    expect(graphql).toEqual(rest);
    // Through GraphQL, REST only for what GraphQL has not: the activity feed, a bot's permission, and the public
    // e-mail of an approver GraphQL showed none when a trailer could name it.
    const viaRest = graphqlRequests.filter(
      (r) =>
        r.route !== GRAPHQL &&
        r.route !== 'GET /repos/{owner}/{repo}/activity' &&
        !(r.route === PERMISSION_ROUTE && r.path.endsWith('%5Bbot%5D/permission')),
    );
    expect(viaRest.map((r) => `${r.method} ${r.path}`)).toEqual(restProfiles.map((login) => `GET /users/${login}`));
  });

  it('reads every commit of a pull request longer than REST lists (260): what REST leaves as a gap', async () => {
    const alice = aUser('alice');
    const repository = aRepository('acme/app');
    const commits = Array.from({ length: 260 }, (_, i) => aCommit({ author: alice, message: `Step ${i}` }));
    const pullRequest = aPullRequest({ author: alice, commits });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });

    const { rest, graphql } = await bothWays([repository], { repository: 'acme/app', commit: merged });

    // REST: the 10 newest commits, the head among them, unknown — and with them the merge method.
    expect(rest.gaps).toContain(
      `pull request #${pullRequest.number} has 260 commits but the API listed 250 (it lists at most 250): the authors of the others are unknown`,
    );
    expect(rest.pullRequest).toBeUndefined();
    expect(graphql.gaps).toEqual([]);
    expect(graphql.commits.map((c) => c.sha)).toEqual(commits.map((c) => c.sha));
    expect(graphql.pullRequest?.mergeMethod).toBe('squash');
  });

  it('says the same when the feed cannot be read (403)', async () => {
    const change = reviewedChange('merge');
    change.pullRequest.events.push(aForcePush({ by: aUser('mallory') }));
    const merged = change.merge();
    const request = { repository: 'acme/app', commit: merged };
    const fakes = [await serve(change.repository), await serve(change.repository)];
    for (const fake of fakes) fake.failOn('GET /repos/{owner}/{repo}/activity', { status: 403 });

    const rest = await collectReviewEvidence(clientFor(fakes[0]!), request);
    const graphql = await collectReviewEvidenceGraphQL(clientFor(fakes[1]!), request);

    expect(graphql).toEqual({ ...rest, activity: { available: false, reason: expect.stringContaining('HTTP 403') } });
    expect(rest.lastPush.source).toBe('head_ref_force_pushed');
  });
});

describe('how many requests', () => {
  it('a one-commit pull request with one review: 3 (REST: 7)', async () => {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
    const head = aCommit({ author: alice });
    const pullRequest = aPullRequest({ author: alice, commits: [head] });
    pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });

    const { rest, graphql, restRequests, graphqlRequests } = await bothWays([repository], {
      repository: 'acme/app',
      commit: merged,
      ref: 'refs/heads/main',
    });

    expect(graphql).toEqual(rest);
    expect(graphql.gaps).toEqual([]);
    expect(graphqlRequests.map((r) => r.route).sort()).toEqual([
      'GET /repos/{owner}/{repo}/activity',
      GRAPHQL,
      GRAPHQL,
    ]);
    expect(restRequests.length).toBeGreaterThanOrEqual(7);
  });

  it('125 reviews by 5 reviewers: at most 5 (REST: 13 or more)', async () => {
    const alice = aUser('alice');
    const reviewers = ['bob', 'carol', 'dave', 'erin', 'frank'].map((login) => aUser(login));
    const repository = aRepository('acme/app', {
      collaborators: Object.fromEntries(['alice', ...reviewers.map((r) => r.login)].map((l) => [l, 'write'])),
    });
    const head = aCommit({ author: alice });
    const pullRequest = aPullRequest({ author: alice, commits: [head] });
    for (let i = 0; i < 125; i += 1) {
      pullRequest.reviews.push(
        aReview({ by: reviewers[i % 5]!, on: head.sha, state: i < 120 ? 'COMMENTED' : 'APPROVED' }),
      );
    }
    const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: reviewers[0]! });

    const { rest, graphql, restRequests, graphqlRequests } = await bothWays([repository], {
      repository: 'acme/app',
      commit: merged,
    });

    expect(graphql).toEqual(rest);
    expect(graphql.reviews).toHaveLength(125);
    expect(graphqlRequests.length).toBeLessThanOrEqual(5);
    expect(graphqlRequests.map((r) => r.route).sort()).toEqual([
      'GET /repos/{owner}/{repo}/activity',
      GRAPHQL,
      GRAPHQL,
    ]);
    expect(restRequests.length).toBeGreaterThanOrEqual(13);
  });
});

describe("the queries are GitHub's", () => {
  it("every query the evidence sends passes GitHub's schema", () => {
    const queries = [
      FIRST_QUERY,
      ASSOCIATED_QUERY,
      followUpQuery({ lists: ['commits', 'reviews', 'timelineItems'], logins: 3 }),
      followUpQuery({ lists: ['reviews'], logins: 0 }),
      followUpQuery({ lists: [], logins: 1 }),
    ];
    for (const query of queries) expect(checkGraphQLQuery(query), query).toEqual([]);
  });
});

describe('a GraphQL failure is never "no reviews"', () => {
  function approved() {
    const change = reviewedChange('merge');
    return { ...change, merged: change.merge() };
  }

  it('a query failing every time (503): a gap naming it, after retries; no review is taken from it', async () => {
    const { repository, merged } = approved();
    const fake = await serve(repository);
    fake.failOn(GRAPHQL, { status: 503 });

    const read = await readReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(read.api).toBe('graphql');
    expect(read.evidence.gaps).toEqual([
      expect.stringMatching(/^POST \/graphql \(the pull request merged as [0-9a-f]{40}\): HTTP 503, after retries/),
    ]);
    expect(read.evidence.reviews).toEqual([]);
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 503, 503]);
  });

  it('a later page failing: a gap, and not one review of the pull request taken as read', async () => {
    const change = reviewedChange('merge');
    for (let i = 0; i < 120; i += 1) {
      change.pullRequest.reviews.unshift(aReview({ by: change.carol, on: change.head.sha, state: 'COMMENTED' }));
    }
    const merged = change.merge();
    const fake = await serve(change.repository);
    failGraphQLField(fake, {
      field: 'PullRequest.reviews',
      type: 'INTERNAL',
      message: 'Something went wrong',
      skip: 1,
    });

    const read = await readReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(read.evidence.gaps).toEqual([
      expect.stringMatching(
        /^POST \/graphql \(pull request #\d+: reviews, permissions\): INTERNAL at repository\.pullRequest\.reviews: Something went wrong/,
      ),
    ]);
    expect(read.evidence.reviews).toEqual([]);
    expect(read.evidence.permissions).toEqual({});
  });

  it('a list with a next page but no cursor to it (endCursor null, as the schema allows): a gap, nothing taken as read', async () => {
    const change = reviewedChange('merge');
    for (let i = 0; i < 120; i += 1) {
      change.pullRequest.reviews.unshift(aReview({ by: change.carol, on: change.head.sha, state: 'COMMENTED' }));
    }
    const merged = change.merge();
    const fake = await serve(change.repository);
    // GitHub's answers, but for the reviews' cursor, dropped on their way (PageInfo.endCursor is a nullable String).
    const dropped: string[] = [];
    const proxy = await answersRewritten(fake, function drop(node: unknown): void {
      if (typeof node !== 'object' || node === null) return;
      const reviews = (node as { reviews?: { pageInfo?: PageInfo } }).reviews;
      if (reviews?.pageInfo?.hasNextPage && reviews.pageInfo.endCursor) {
        dropped.push(reviews.pageInfo.endCursor);
        reviews.pageInfo.endCursor = null;
      }
      for (const value of Object.values(node)) drop(value);
    });

    const read = await readReviewEvidence(clientFor(proxy), { repository: 'acme/app', commit: merged });

    expect(dropped).toHaveLength(1);
    expect(read.evidence.gaps).toEqual([
      expect.stringMatching(/^POST \/graphql \(pull request #\d+\): its reviews have a next page but no cursor to it$/),
    ]);
    expect(read.evidence.reviews).toEqual([]);
  });

  it('a later page of reviews answered with null and no error (the schema allows it): a gap, nothing taken as read', async () => {
    const change = reviewedChange('merge');
    for (let i = 0; i < 120; i += 1) {
      change.pullRequest.reviews.unshift(aReview({ by: change.carol, on: change.head.sha, state: 'COMMENTED' }));
    }
    const merged = change.merge();
    const fake = await serve(change.repository);
    // GitHub's answers, but for the second page of reviews, nulled on its way (PullRequest.reviews is nullable).
    let pages = 0;
    const proxy = await answersRewritten(fake, function nullPages(node: unknown): void {
      if (typeof node !== 'object' || node === null) return;
      const pullRequest = node as { reviews?: unknown };
      if (pullRequest.reviews && typeof pullRequest.reviews === 'object' && 'pageInfo' in pullRequest.reviews) {
        pages += 1;
        if (pages > 1) pullRequest.reviews = null;
      }
      for (const value of Object.values(node)) nullPages(value);
    });

    const read = await readReviewEvidence(clientFor(proxy), { repository: 'acme/app', commit: merged });

    expect(pages).toBe(2);
    expect(read.evidence.gaps).toEqual([
      expect.stringMatching(/^POST \/graphql \(pull request #\d+\): the next page of its reviews is null$/),
    ]);
    expect(read.evidence.reviews).toEqual([]);
  });

  it('a permission read failing otherwise (INTERNAL): a gap, the permission unknown', async () => {
    const { repository, merged } = approved();
    const fake = await serve(repository);
    failGraphQLField(fake, { field: 'Repository.collaborators', type: 'INTERNAL', message: 'Something went wrong' });

    const read = await readReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(read.evidence.gaps).toEqual([
      expect.stringContaining('INTERNAL at repository.reviewer0: Something went wrong'),
    ]);
    expect(read.evidence.permissions).toEqual({});
  });

  it("a reviewer's permission GraphQL refuses (FORBIDDEN: no push access) is read through REST", async () => {
    const { repository, merged } = approved();
    const fake = await serve(repository);
    failGraphQLField(fake, {
      field: 'Repository.collaborators',
      type: 'FORBIDDEN',
      message: 'Must have push access to view repository collaborators.',
    });

    const read = await readReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(read.api).toBe('graphql');
    expect(read.evidence.gaps).toEqual([]);
    expect(read.evidence.permissions).toEqual({ bob: 'write', alice: 'write' });
    expect(fake.requests.map((r) => r.route)).toContain(
      'GET /repos/{owner}/{repo}/collaborators/{username}/permission',
    );
  });

  it('an error anywhere else in an answer, even with partial data: a gap with the error, nothing read from it', async () => {
    const { repository, merged } = approved();
    const fake = await serve(repository);
    failGraphQLField(fake, { field: 'PullRequest.reviews', type: 'INTERNAL', message: 'Something went wrong' });

    const read = await readReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(read.api).toBe('graphql');
    expect(read.evidence.gaps).toEqual([
      expect.stringContaining(
        'INTERNAL at repository.object.associatedPullRequests.nodes.0.reviews: Something went wrong',
      ),
    ]);
    expect(read.evidence.pullRequest).toBeUndefined();
    expect(read.evidence.reviews).toEqual([]);
  });

  it.each([
    ['HTTP 403', (fake: GitHubFake) => fake.failOn(GRAPHQL, { status: 403 })],
    [
      'FORBIDDEN',
      (fake: GitHubFake) =>
        failGraphQLField(fake, {
          field: 'Query.repository',
          type: 'FORBIDDEN',
          message: 'Resource not accessible by integration',
        }),
    ],
  ] as const)('GraphQL refusing the token (%s): the evidence is read through REST, and says so', async (_, refuse) => {
    const { repository, merged } = approved();
    const fake = await serve(repository);
    refuse(fake);
    const request = { repository: 'acme/app', commit: merged };

    const read = await readReviewEvidence(clientFor(fake), request);

    expect(read.api).toBe('rest');
    expect(read.fallback).toMatch(/^POST \/graphql: /);
    const reference = await serve(repository);
    expect(read.evidence).toEqual(await collectReviewEvidence(clientFor(reference), request));
    expect(read.evidence.gaps).toEqual([]);
  });

  it('the REST reads when asked for: no GraphQL request', async () => {
    const { repository, merged } = approved();
    const fake = await serve(repository);

    const read = await readReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged }, 'rest');

    expect(read.api).toBe('rest');
    expect(fake.requests.some((r) => r.route === GRAPHQL)).toBe(false);
  });
});

interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

describe("another repository's pull request of the same number, associated with C", () => {
  // GitHub's associatedPullRequests may list pull requests of other repositories (a fork's lists its upstream's): the
  // read chose the one merged as C among this repository's, then judged the first of the list with that number.
  /** Puts `foreign` (a copy of acme/app's own node, changed) first in the first query's associated pull requests. */
  async function foreignFirst(fake: GitHubFake, commit: string, change: (foreign: AnyRecord, own: AnyRecord) => void) {
    const problems: string[][] = [];
    const proxy = await answersRewritten(fake, (answer) => {
      const data = (answer as { data?: AnyRecord }).data;
      const object = (data?.repository as AnyRecord | undefined)?.object as AnyRecord | undefined;
      const connection = object?.associatedPullRequests as { nodes: AnyRecord[] } | undefined;
      if (!connection) return;
      const own = connection.nodes[0]!;
      const foreign = structuredClone(own);
      foreign.baseRepository = { nameWithOwner: 'upstream/app' };
      foreign.url = `https://github.com/upstream/app/pull/${own.number}`;
      change(foreign, own);
      connection.nodes.unshift(foreign);
      // An answer GitHub's schema allows (the fake's own check of its answers).
      problems.push(checkGraphQLAnswer(FIRST_QUERY, data, { variables: { owner: 'acme', name: 'app', commit } }));
    });
    return { proxy, problems };
  }

  it("alice's pull request, pushed to after bob's approval: refused, though upstream/app's #n, listed first, merged as C with an approval of its head", async () => {
    const change = reviewedChange('merge');
    change.pullRequest.reviews.splice(0);
    change.pullRequest.reviews.push(aReview({ by: change.bob, on: change.head.sha, at: '2026-03-02T10:00:00Z' }));
    pushToPullRequest(change.pullRequest, aCommit({ author: change.alice, message: 'Unreviewed' }), {
      at: '2026-03-02T10:10:00Z',
    });
    const merged = mergePullRequest(change.repository, change.pullRequest, { method: 'merge', by: change.alice });
    const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
    const rest = await readReviewEvidence(clientFor(await serve(change.repository)), request, 'rest');
    const fake = await serve(change.repository);
    const { proxy, problems } = await foreignFirst(fake, merged, (foreign, own) => {
      // What upstream/app's pull request shows: bob's approval on its head, after the last push.
      for (const review of (foreign.reviews as { nodes: AnyRecord[] }).nodes) {
        review.commit = { oid: own.headRefOid };
        review.submittedAt = '2026-03-02T10:30:00Z';
      }
    });

    const graphql = await readReviewEvidence(clientFor(proxy), request, 'graphql');

    expect(problems).toEqual([[]]);
    expect(graphql.api).toBe('graphql');
    expect(graphql.evidence.pullRequest?.url).toBe(`https://github.com/acme/app/pull/${change.pullRequest.number}`);
    const verdict = evaluateReview(graphql.evidence, DEFAULT_REVIEW_RULES);
    expect(verdict.verdict).toBe('fail');
    expect(verdict).toEqual(evaluateReview(rest.evidence, DEFAULT_REVIEW_RULES));
  });

  it("an approved change: judged and passed as through REST, though upstream/app's open #n is listed first", async () => {
    const change = reviewedChange('merge');
    const merged = change.merge();
    const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
    const rest = await readReviewEvidence(clientFor(await serve(change.repository)), request, 'rest');
    const fake = await serve(change.repository);
    const { proxy, problems } = await foreignFirst(fake, merged, (foreign) => {
      Object.assign(foreign, { merged: false, mergedAt: null, mergeCommit: null });
    });

    const graphql = await readReviewEvidence(clientFor(proxy), request, 'graphql');

    expect(problems).toEqual([[]]);
    expect(graphql.evidence.gaps).toEqual([]);
    expect(graphql.evidence.pullRequest?.url).toBe(`https://github.com/acme/app/pull/${change.pullRequest.number}`);
    expect(evaluateReview(graphql.evidence, DEFAULT_REVIEW_RULES).verdict).toBe('pass');
    expect(evaluateReview(rest.evidence, DEFAULT_REVIEW_RULES).verdict).toBe('pass');
  });
});

type AnyRecord = Record<string, unknown>;

/** A loopback proxy to the fake that hands each GraphQL answer to `rewrite` (in place) before the client sees it. */
async function answersRewritten(fake: GitHubFake, rewrite: (answer: unknown) => void): Promise<{ url: string }> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
    ) as Record<string, string>;
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const upstream = await fetch(`${fake.url}${request.url}`, { method: request.method, headers, body });
    let text = await upstream.text();
    if (request.method === 'POST' && request.url === '/graphql' && upstream.ok) {
      const answer = JSON.parse(text) as unknown;
      rewrite(answer);
      text = JSON.stringify(answer);
    }
    const passed: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
        passed[name] = value;
    });
    response.writeHead(upstream.status, passed);
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxies.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
