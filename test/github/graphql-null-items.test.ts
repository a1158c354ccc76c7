// GitHub's GraphQL schema lets every connection's `nodes` list, and every item of one, be null (`nodes:
// [PullRequestTimelineItems]`, `[PullRequestCommit]`, `[PullRequestReview]`, `[PullRequest]`, `[Commit]`): GitHub
// answers a null item for data it does not show (a deleted account's, one the token may not see). The sign stage read
// such an item's fields and stopped with a TypeError (an internal error); a review or force push it does not show
// must not pass as one that never happened either. An answer with one is a gap: the evidence is incomplete.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGitHubClient, FIRST_QUERY, readReviewEvidence } from '@twokey/github';
import {
  aCommit,
  aForcePush,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  checkGraphQLAnswer,
  type GitHubFake,
  mergePullRequest,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function change() {
  const alice = aUser('alice');
  const bob = aUser('bob', { profile: { name: 'Bob', email: 'bob@acme.example' } });
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const head = aCommit({ author: alice, message: 'Handle empty input' });
  const pullRequest = aPullRequest({ author: alice, commits: [head], title: 'Parser' });
  pullRequest.events.push(aForcePush({ by: alice, headSha: head.sha }));
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, state: 'APPROVED' }));
  const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });
  return { repository, merged };
}

async function serve(repository: ReturnType<typeof change>['repository']): Promise<GitHubFake> {
  const fake = await startGitHubFake(aGitHubState(repository));
  closers.push(() => fake.close());
  return fake;
}

/** A proxy handing each GraphQL answer to `rewrite` (the first query's only) before the client sees it. */
async function rewritten(fake: GitHubFake, rewrite: (answer: { data?: unknown }, query: string) => void) {
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([n]) => !['host', 'connection', 'content-length'].includes(n)),
    ) as Record<string, string>;
    const upstream = await fetch(`${fake.url}${request.url}`, { method: request.method, headers, body });
    let text = await upstream.text();
    if (request.method === 'POST' && request.url === '/graphql' && upstream.ok && body) {
      const { query } = JSON.parse(body.toString('utf8')) as { query: string };
      const answer = JSON.parse(text) as { data?: unknown };
      rewrite(answer, query);
      text = JSON.stringify(answer);
    }
    const passed: Record<string, string> = {};
    upstream.headers.forEach((v, n) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(n)) passed[n] = v;
    });
    response.writeHead(upstream.status, passed);
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve).closeAllConnections()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const client = (url: string) =>
  createGitHubClient({ token: 'ghs_test', baseUrl: url, retryDelayMs: 5, timeoutMs: 5_000, readsOnly: true });

type AnyRecord = Record<string, unknown>;
function pullRequestOf(answer: { data?: unknown }): AnyRecord {
  const repository = (answer.data as AnyRecord).repository as AnyRecord;
  const object = repository.object as AnyRecord;
  return ((object.associatedPullRequests as AnyRecord).nodes as AnyRecord[])[0]!;
}

describe('GitHub GraphQL: an item GitHub did not show (null) in a list of the pull request', () => {
  for (const list of ['timelineItems', 'commits', 'reviews'] as const) {
    it(`a null item in ${list}.nodes is a gap in the evidence (a reasoned refusal), not a crash`, async () => {
      const { repository, merged } = change();
      const fake = await serve(repository);
      const problems: string[][] = [];
      const url = await rewritten(fake, (answer, query) => {
        if (query !== FIRST_QUERY || !answer.data) return;
        const pr = pullRequestOf(answer);
        ((pr[list] as AnyRecord).nodes as unknown[]).push(null);
        // GitHub's schema allows this answer: the fake's own check of its answers agrees.
        problems.push(
          checkGraphQLAnswer(FIRST_QUERY, answer.data, { variables: { owner: 'acme', name: 'app', commit: merged } }),
        );
      });

      const read = await readReviewEvidence(client(url), {
        repository: 'acme/app',
        commit: merged,
        ref: 'refs/heads/main',
      });

      expect(problems).toEqual([[]]);
      expect(read.evidence.gaps).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `GitHub answered with an item it did not show \\(null\\) at data\\.repository\\.object\\.associatedPullRequests\\.nodes\\.0\\.${list}\\.nodes\\.\\d+`,
          ),
        ),
      );
    });
  }
});
