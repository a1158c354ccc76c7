import { FIRST_QUERY } from '@twokey/github';
import { afterEach, describe, expect, it } from 'vitest';
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
} from './github-fake';
import { checkGraphQLAnswer, failGraphQLField } from './github-graphql';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function post(fake: GitHubFake, query: string, variables: object = {}, token: string | null = 'ghs_token') {
  const response = await fetch(`${fake.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLBody };
}

interface GraphQLBody {
  data?: unknown;
  errors?: { type?: string; path?: (string | number)[]; message: string }[];
}

/** The value at a dotted path of an answer (`data.repository.visibility`). */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);
}

function aReviewedChange() {
  const alice = aUser('alice', { profile: { name: 'Alice Liddell', email: 'alice@acme.example' } });
  const bob = aUser('bob');
  const renovate = aBot('renovate');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'maintain' } });
  const head = aCommit({ author: alice, message: 'Add the parser', coAuthors: [renovate] });
  const pullRequest = aPullRequest({ author: alice, commits: [head], title: 'Parser' });
  pullRequest.reviews.push(aReview({ by: renovate, on: head.sha, state: 'COMMENTED' }));
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });
  return { alice, bob, renovate, repository, pullRequest, head, merged };
}

const QUERY = `query ($owner: String!, $name: String!, $commit: GitObjectID!, $login: String!) {
  repository(owner: $owner, name: $name) {
    visibility
    defaultBranchRef { name }
    object(oid: $commit) {
      __typename
      ... on Commit {
        oid
        parents(first: 3) { totalCount nodes { oid } }
        author { name email date user { login databaseId } }
        associatedPullRequests(first: 5) {
          nodes {
            number merged mergedAt
            author { __typename login ... on User { databaseId name email } }
            mergedBy { __typename login }
            reviews(first: 100) {
              totalCount
              pageInfo { hasNextPage endCursor }
              nodes { fullDatabaseId state submittedAt commit { oid } author { __typename login ... on Bot { databaseId } ... on User { databaseId } } }
            }
          }
        }
      }
    }
    bob: collaborators(login: $login, first: 1) { edges { permission node { login } } }
    nobody: collaborators(login: "mallory", first: 1) { edges { permission } }
  }
}`;

describe("the GitHub fake's GraphQL API", () => {
  it('answers a query from the state in the shape GitHub gives it', async () => {
    const change = aReviewedChange();
    const fake = await startGitHubFake(aGitHubState(change.repository, change.alice));
    fakes.push(fake);
    const variables = { owner: 'acme', name: 'app', commit: change.merged, login: 'BOB' };

    const { status, body } = await post(fake, QUERY, variables);

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(checkGraphQLAnswer(QUERY, body.data, { variables })).toEqual([]);
    expect(at(body, 'data.repository.visibility')).toBe('PRIVATE');
    expect(at(body, 'data.repository.bob.edges')).toEqual([{ permission: 'MAINTAIN', node: { login: 'bob' } }]);
    expect(at(body, 'data.repository.nobody.edges')).toEqual([]);
    const pr = at(body, 'data.repository.object.associatedPullRequests.nodes.0');
    expect(at(pr, 'author')).toEqual({
      __typename: 'User',
      login: 'alice',
      databaseId: change.alice.id,
      name: 'Alice Liddell',
      email: 'alice@acme.example',
    });
    // A bot's login without the suffix REST shows.
    expect(at(pr, 'reviews.nodes.0.author')).toEqual({
      __typename: 'Bot',
      login: 'renovate',
      databaseId: change.renovate.id,
    });
    expect(at(pr, 'reviews.nodes.1.author.login')).toBe('bob');
    expect(fake.requests.map((r) => r.route)).toEqual(['POST /graphql']);
  });

  it('refuses a query GitHub would refuse: an unknown field, a connection without first', async () => {
    const change = aReviewedChange();
    const fake = await startGitHubFake(aGitHubState(change.repository));
    fakes.push(fake);

    const unknown = await post(fake, '{ repository(owner: "acme", name: "app") { pushers } }');
    expect(unknown.body.data).toBeUndefined();
    expect(unknown.body.errors?.[0].message).toContain('Cannot query field "pushers" on type "Repository"');

    const unbounded = await post(
      fake,
      `{ repository(owner: "acme", name: "app") { pullRequest(number: ${change.pullRequest.number}) { reviews { totalCount } } } }`,
    );
    expect(unbounded.body.errors).toEqual([
      expect.objectContaining({
        type: 'MISSING_PAGINATION_BOUNDARIES',
        path: ['repository', 'pullRequest', 'reviews'],
      }),
    ]);
  });

  it('fails a field on demand, with partial data, and answers 401 to an anonymous caller', async () => {
    const change = aReviewedChange();
    const fake = await startGitHubFake(aGitHubState(change.repository));
    fakes.push(fake);
    failGraphQLField(fake, { field: 'Repository.collaborators', type: 'FORBIDDEN', count: 1 });

    const query = '{ repository(owner: "acme", name: "app") { visibility collaborators(first: 10) { totalCount } } }';
    const refused = await post(fake, query);
    expect(refused.body).toEqual({
      data: { repository: { visibility: 'PRIVATE', collaborators: null } },
      errors: [expect.objectContaining({ type: 'FORBIDDEN', path: ['repository', 'collaborators'] })],
    });
    expect(at((await post(fake, query)).body, 'data.repository.collaborators.totalCount')).toBe(2);
    expect((await post(fake, query, {}, null)).status).toBe(401);
  });

  it("answers the sign stage's own queries in GitHub's shape, and the check is no formality", async () => {
    const change = aReviewedChange();
    const fake = await startGitHubFake(aGitHubState(change.repository, change.alice));
    fakes.push(fake);
    const variables = { owner: 'acme', name: 'app', commit: change.merged };

    const { body } = await post(fake, FIRST_QUERY, variables);

    expect(body.errors).toBeUndefined();
    expect(checkGraphQLAnswer(FIRST_QUERY, body.data, { variables })).toEqual([]);
    // The same answer, tampered with the ways a hand-written imitation goes wrong, is refused for each.
    type Json = Record<string, unknown>;
    const tampered = (edit: (answer: Json) => void) => {
      const copy = structuredClone(body.data) as Json;
      edit(copy);
      return checkGraphQLAnswer(FIRST_QUERY, copy, { variables });
    };
    const pr = (answer: Json) => at(answer, 'repository.object.associatedPullRequests.nodes.0') as Json;
    expect(tampered((a) => delete pr(a).mergedAt)).toEqual([expect.stringContaining('.mergedAt: missing')]);
    expect(tampered((a) => (pr(a).merged = null))).toEqual([
      expect.stringContaining('null where Boolean! is required'),
    ]);
    expect(tampered((a) => ((at(pr(a), 'reviews.nodes.1') as Json).state = 'LGTM'))).toEqual([
      expect.stringContaining('"LGTM" is not a value of PullRequestReviewState'),
    ]);
    expect(tampered((a) => ((at(pr(a), 'reviews.nodes.0.author') as Json).__typename = 'Robot'))).toEqual([
      expect.stringContaining('"Robot" is not a possible type of Actor'),
    ]);
    expect(tampered((a) => (pr(a).mergedAt = '2026-03-02 09:00'))).toEqual([
      expect.stringContaining('expected DateTime'),
    ]);
    expect(tampered((a) => (pr(a).headRefOid = 'HEAD'))).toEqual([expect.stringContaining('expected GitObjectID')]);
    expect(tampered((a) => (pr(a).reviewers = []))).toEqual([expect.stringContaining('.reviewers: not selected')]);
  });
});
