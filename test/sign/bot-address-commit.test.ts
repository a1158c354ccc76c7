// A commit written under a bot's noreply address, read through GitHub's REST and GraphQL APIs (found by the review of
// GraphQL against REST). Anyone can write `--author 'dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>'`
// into a commit: REST linked the commit to the bot account, so contributors-identified passed; GraphQL's GitActor
// `user` is a User only, so the commit was no account's, and refused. The same pull request passed through one reader
// and was refused through the other — and a writer who spends the token's GraphQL budget (RATE_LIMITED) makes the
// sign stage read REST. Now REST leaves a bot GitHub links to a commit out too: both refuse.
import { DEFAULT_REVIEW_RULES, evaluateReview } from '@twokey/core';
import {
  collectReviewEvidence,
  collectReviewEvidenceGraphQL,
  createGitHubClient,
  readReviewEvidence,
} from '@twokey/github';
import {
  aBot,
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  failGraphQLField,
  type GitHubFake,
  mergePullRequest,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
const client = (fake: GitHubFake) =>
  createGitHubClient({ token: 'ghs_test', baseUrl: fake.url, retryDelayMs: 5, timeoutMs: 5_000, readsOnly: true });

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** alice's pull request: her commit, then one she wrote with dependabot's noreply address as author; bob approves. */
function scenario() {
  const alice = aUser('alice');
  const bob = aUser('bob', { profile: { name: 'Bob Builder' } });
  const dependabot = aBot('dependabot', { id: 49699333 }); // never acts: only its noreply address is written
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const first = aCommit({ author: alice });
  const disguised = aCommit({ author: dependabot, committer: alice, message: 'Bump lodash' });
  const pr = aPullRequest({ author: alice, commits: [first, disguised] });
  const approvedAt = Date.parse(disguised.committer.date) + 3_600_000;
  pr.reviews.push(aReview({ by: bob, on: disguised.sha, at: iso(approvedAt) }));
  const merged = mergePullRequest(repository, pr, { method: 'merge', by: bob, at: iso(approvedAt + 60_000) });
  return { entries: [repository, bob], request: { repository: 'acme/app', commit: merged, ref: 'refs/heads/main' } };
}

async function serve(entries: ReturnType<typeof scenario>['entries']) {
  const fake = await startGitHubFake(aGitHubState(...entries));
  fakes.push(fake);
  return fake;
}

describe('a commit written under a bot’s noreply address', () => {
  it('is no account’s through REST as through GraphQL: contributors-identified refuses it on both', async () => {
    const { entries, request } = scenario();
    const rest = await collectReviewEvidence(client(await serve(entries)), request);
    const graphql = await collectReviewEvidenceGraphQL(client(await serve(entries)), request);
    expect(rest.commits[1]!.author.account).toBeUndefined();
    expect(graphql.commits[1]!.author.account).toBeUndefined();
    for (const evidence of [rest, graphql]) {
      const result = evaluateReview(evidence, DEFAULT_REVIEW_RULES);
      expect(result.verdict).toBe('fail');
      expect(result.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).toEqual(['contributors-identified']);
    }
  });

  it('is no account’s through REST when the answer leaves out the account’s type (never a User by default)', async () => {
    const { entries, request } = scenario();
    const typeless = client(await serve(entries));
    typeless.hook.after('request', (response, options) => {
      if (!String(options.url).includes('/commits')) return;
      const strip = (c: { author?: Record<string, unknown> | null; committer?: Record<string, unknown> | null }) => {
        if (c.author) delete c.author.type;
        if (c.committer) delete c.committer.type;
      };
      const data = response.data as unknown;
      if (Array.isArray(data)) data.forEach(strip);
      else if (data && typeof data === 'object' && 'sha' in data) strip(data as never);
    });
    const rest = await collectReviewEvidence(typeless, request);
    expect(rest.commits[1]!.author.account).toBeUndefined();
    expect(evaluateReview(rest, DEFAULT_REVIEW_RULES).verdict).toBe('fail');
  });

  it('is refused when a spent GraphQL budget sends the sign stage to REST', async () => {
    const { entries, request } = scenario();
    const limited = await serve(entries);
    failGraphQLField(limited, { field: 'Query.repository', type: 'RATE_LIMITED', message: 'API rate limit exceeded' });
    const forced = await readReviewEvidence(client(limited), request);
    expect(forced.api).toBe('rest');
    expect(evaluateReview(forced.evidence, DEFAULT_REVIEW_RULES).verdict).toBe('fail');
  });
});
