// A reviewer's permission belongs to a login, and a login can change hands (threat-model row 171). alice (write) opens
// the pull request; mallory, a free account of hers with no access, approves it — after 100 "comment" reviews alice
// left on her own pull request, so that mallory's permission is asked in a later GraphQL query than the reviews. In
// between, alice renames mallory to mallory-old and herself to mallory: `collaborators(login: "mallory")` answers
// alice's WRITE, and it was recorded as the approving account's. The answer is now checked to be the reviewer's
// account (GraphQL: the collaborator's databaseId; REST: the permission's user.id), else it is a gap.
import { DEFAULT_REVIEW_RULES, evaluateReview } from '@twokey/core';
import { createGitHubClient, readReviewEvidence } from '@twokey/github';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type GitHubFake,
  type GitHubFakeState,
  mergePullRequest,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

/** GitHub renaming account `id` to `login`: every place the state names that account now shows the new login. */
function rename(state: GitHubFakeState, id: number, from: string, to: string): void {
  const seen = new Set<object>();
  const walk = (value: unknown): void => {
    if (!value || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const record = value as Record<string, unknown>;
    if (record.id === id && typeof record.login === 'string') record.login = to;
    for (const child of Object.values(record)) walk(child);
  };
  walk(state);
  for (const repository of state.repositories) {
    if (Object.hasOwn(repository.collaborators, from)) {
      repository.collaborators[to] = repository.collaborators[from]!;
      delete repository.collaborators[from];
    }
  }
}

function change() {
  const alice = aUser('alice', { profile: { name: 'Alice Author' } });
  const mallory = aUser('mallory', { profile: { name: 'M' } });
  // mallory is nobody's collaborator: no access to the private repository.
  const repository = aRepository('acme/app', { collaborators: { alice: 'write' } });
  const head = aCommit({ author: alice, message: 'Disable the auth check' });
  const pullRequest = aPullRequest({ author: alice, commits: [head], headRef: 'change' });
  // 100 "comment" reviews by the author herself (GitHub lets an author comment-review her own pull request).
  for (let i = 0; i < 100; i += 1) {
    pullRequest.reviews.push(aReview({ by: alice, on: head.sha, state: 'COMMENTED', body: `note ${i}` }));
  }
  pullRequest.reviews.push(aReview({ by: mallory, on: head.sha }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });
  return { alice, mallory, repository, merged };
}

describe('a reviewer’s permission answered for another account', () => {
  it('GraphQL: refuses the approval of an account whose login was given to its author before its permission was read', async () => {
    const { alice, mallory, repository, merged } = change();
    const fake = await startGitHubFake(aGitHubState(repository, alice, mallory));
    fakes.push(fake);
    const client = createGitHubClient({
      token: 'ghs_test',
      baseUrl: fake.url,
      retryDelayMs: 5,
      timeoutMs: 5_000,
      readsOnly: true,
    });
    let graphqlCalls = 0;
    let swapped = false;
    client.hook.before('request', async (options) => {
      if (options.method === 'POST' && String(options.url).endsWith('/graphql')) {
        graphqlCalls += 1;
        // Call 1: the first query; call 2: round 1 (reviews page 2, alice's permission); call 3: round 2 (mallory's).
        if (graphqlCalls === 3 && !swapped) {
          // Let the activity feed read (concurrent with round 1) finish first, as it does on GitHub.
          while (!fake.requests.some((r) => r.path.endsWith('/activity') && r.status !== 0)) {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          rename(fake.state, mallory.id, 'mallory', 'mallory-old');
          rename(fake.state, alice.id, 'alice', 'mallory');
          swapped = true;
        }
      }
    });
    const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
    const { evidence, api } = await readReviewEvidence(client, request, 'graphql');
    const result = evaluateReview(evidence, DEFAULT_REVIEW_RULES);

    expect(api).toBe('graphql');
    expect(swapped).toBe(true);
    const approval = evidence.reviews.find((r) => r.state === 'APPROVED')!;
    expect(approval.reviewer).toEqual({ login: 'mallory', id: mallory.id, type: 'User' });
    // GitHub answered alice's permission for the login: not recorded as mallory's.
    expect(evidence.permissions.mallory).toBeUndefined();
    expect(evidence.gaps).toEqual([
      `POST /graphql (mallory's permission): expected account ${mallory.id}, the reviewer, found account ${alice.id} (the login changed hands)`,
    ]);
    expect(result.verdict).toBe('fail');
    expect(result.independentApprovers).toEqual([]);
  });

  it('REST: refuses it too, the permission’s answer naming another account', async () => {
    const { alice, mallory, repository, merged } = change();
    const fake = await startGitHubFake(aGitHubState(repository, alice, mallory));
    fakes.push(fake);
    const client = createGitHubClient({
      token: 'ghs_test',
      baseUrl: fake.url,
      retryDelayMs: 5,
      timeoutMs: 5_000,
      readsOnly: true,
    });
    let swapped = false;
    client.hook.before('request', async (options) => {
      const url = String(options.url);
      if (!swapped && (url.includes('/permission') || url.includes('/users/'))) {
        rename(fake.state, mallory.id, 'mallory', 'mallory-old');
        rename(fake.state, alice.id, 'alice', 'mallory');
        swapped = true;
      }
    });
    const request = { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' };
    const { evidence } = await readReviewEvidence(client, request, 'rest');
    const result = evaluateReview(evidence, DEFAULT_REVIEW_RULES);
    expect(result.verdict).toBe('fail');
    expect(evidence.permissions.mallory).toBeUndefined();
    expect(evidence.gaps).toContain(
      `GET /repos/acme/app/collaborators/mallory/permission: expected account ${mallory.id}, the reviewer, found account ${alice.id} (the login changed hands)`,
    );
  });
});
