import { afterEach, describe, expect, it } from 'vitest';
import examples from './__fixtures__/github-examples.json' with { type: 'json' };
import {
  aCommit,
  aForcePush,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  type GitHubFake,
  mergePullRequest,
  startGitHubFake,
} from './github-fake';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function serve(...repositories: FakeRepository[]): Promise<GitHubFake> {
  const fake = await startGitHubFake(aGitHubState(...repositories));
  fakes.push(fake);
  return fake;
}

async function get(fake: GitHubFake, path: string) {
  const response = await fetch(`${fake.url}${path}`, { headers: { authorization: 'token t' } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

function scenario() {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { visibility: 'public', collaborators: { bob: 'maintain' } });
  const head = aCommit({ author: alice, message: 'Change' });
  const pullRequest = aPullRequest({
    author: alice,
    commits: [head],
    reviews: [aReview({ by: bob, on: head.sha })],
    events: [aForcePush({ by: alice })],
  });
  const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: bob });
  return { alice, bob, repository, pullRequest, head, merged };
}

function keysOf(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

describe('response shapes: every field of GitHub’s example is present', () => {
  it('answers each route with the keys of its OpenAPI example', async () => {
    const { repository, pullRequest, merged } = scenario();
    const fake = await serve(repository);
    const n = pullRequest.number;
    const cases: [string, unknown][] = [
      ['/repos/acme/app', examples['repos/get']],
      [`/repos/acme/app/pulls/${n}`, examples['pulls/get']],
      [`/repos/acme/app/commits/${merged}`, examples['repos/get-commit']],
      ['/repos/acme/app/collaborators/bob/permission', examples['repos/get-collaborator-permission-level']],
    ];
    // The repository example is a fork made from a template; ours is neither.
    const forkOnly = ['parent', 'source', 'template_repository'];
    for (const [path, example] of cases) {
      const { status, body } = await get(fake, path);
      expect(status, path).toBe(200);
      const expected = keysOf(example).filter((key) => !forkOnly.includes(key));
      expect(keysOf(body), path).toEqual(expect.arrayContaining(expected));
    }
    const lists: [string, unknown][] = [
      [`/repos/acme/app/pulls/${n}/reviews`, examples['pulls/list-reviews[0]']],
      [`/repos/acme/app/pulls/${n}/commits`, examples['pulls/list-commits[0]']],
      [`/repos/acme/app/commits/${merged}/pulls`, examples['repos/list-pull-requests-associated-with-commit[0]']],
    ];
    for (const [path, example] of lists) {
      const { body } = await get(fake, path);
      expect((body as unknown[]).length, path).toBeGreaterThan(0);
      expect(keysOf((body as unknown[])[0]), path).toEqual(expect.arrayContaining(keysOf(example)));
    }
  });

  it('writes the state into the answers', async () => {
    const { repository, pullRequest, merged, bob, head } = scenario();
    const fake = await serve(repository);

    const pr = (await get(fake, `/repos/acme/app/pulls/${pullRequest.number}`)).body as Record<string, unknown>;
    expect(pr).toMatchObject({
      number: pullRequest.number,
      merged: true,
      merge_commit_sha: merged,
      merged_by: { login: 'bob', id: bob.id },
      head: { sha: head.sha, ref: pullRequest.head.ref },
      base: { ref: 'main', repo: { full_name: 'acme/app' } },
      commits: 1,
      url: `${fake.url}/repos/acme/app/pulls/${pullRequest.number}`,
    });
    const commit = (await get(fake, `/repos/acme/app/commits/${merged}`)).body as { parents: { sha: string }[] };
    expect(commit.parents.map((p) => p.sha)).toEqual([repository.commits.at(-2)!.sha, head.sha]);
    const repo = (await get(fake, '/repos/acme/app')).body;
    expect(repo).toMatchObject({ full_name: 'acme/app', private: false, visibility: 'public', default_branch: 'main' });
    const permission = (await get(fake, '/repos/acme/app/collaborators/bob/permission')).body;
    expect(permission).toMatchObject({ permission: 'write', role_name: 'maintain', user: { login: 'bob' } });
  });

  it('lists commits, reviews and other events in time order on the timeline', async () => {
    const { repository, pullRequest } = scenario();
    const fake = await serve(repository);

    const { body } = await get(fake, `/repos/acme/app/issues/${pullRequest.number}/timeline`);

    const events = body as { event: string; actor?: { login: string } }[];
    expect(events.map((e) => e.event)).toEqual(['committed', 'reviewed', 'head_ref_force_pushed']);
    expect(events[2]!.actor?.login).toBe('alice');
  });

  it('answers 404 for an unknown repository or pull request, and 422 for an unknown commit', async () => {
    const fake = await serve(aRepository('acme/app'));

    expect((await get(fake, '/repos/acme/other')).status).toBe(404);
    expect((await get(fake, '/repos/acme/app/pulls/99')).status).toBe(404);
    expect((await get(fake, `/repos/acme/app/commits/${'0'.repeat(40)}`)).status).toBe(422);
    expect((await get(fake, '/nothing/here')).status).toBe(404);
  });
});

describe('pagination as GitHub pages', () => {
  async function withReviews(count: number) {
    const { repository, pullRequest, head, bob } = scenario();
    pullRequest.reviews = Array.from({ length: count }, () => aReview({ by: bob, on: head.sha, state: 'COMMENTED' }));
    const fake = await serve(repository);
    return { fake, path: `/repos/acme/app/pulls/${pullRequest.number}/reviews` };
  }

  it('pages 30 by default and links next and last', async () => {
    const { fake, path } = await withReviews(75);

    const { body, headers } = await get(fake, path);

    expect((body as unknown[]).length).toBe(30);
    expect(headers.get('link')).toBe(
      `<${fake.url}${path}?per_page=30&page=2>; rel="next", <${fake.url}${path}?per_page=30&page=3>; rel="last"`,
    );
  });

  it('caps per_page at 100 and links prev and first from a later page', async () => {
    const { fake, path } = await withReviews(250);

    const { body, headers } = await get(fake, `${path}?per_page=500&page=2`);

    expect((body as unknown[]).length).toBe(100);
    expect(headers.get('link')).toBe(
      [
        `<${fake.url}${path}?per_page=100&page=1>; rel="prev"`,
        `<${fake.url}${path}?per_page=100&page=3>; rel="next"`,
        `<${fake.url}${path}?per_page=100&page=3>; rel="last"`,
        `<${fake.url}${path}?per_page=100&page=1>; rel="first"`,
      ].join(', '),
    );
    const last = await get(fake, `${path}?per_page=100&page=3`);
    expect((last.body as unknown[]).length).toBe(50);
    const beyond = await get(fake, `${path}?per_page=100&page=4`);
    expect(beyond.body).toEqual([]);
  });
});

describe('failure injection and the request log', () => {
  it('fails a templated route the given number of times, then answers', async () => {
    const { repository, pullRequest } = scenario();
    const fake = await serve(repository);
    fake.failOn('GET /repos/{owner}/{repo}/pulls/{pull_number}', { status: 502, count: 2 });
    const path = `/repos/acme/app/pulls/${pullRequest.number}`;

    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await get(fake, path)).status);

    expect(statuses).toEqual([502, 502, 200]);
    expect(fake.requests.map((r) => [r.route, r.status, r.injected])).toEqual([
      ['GET /repos/{owner}/{repo}/pulls/{pull_number}', 502, true],
      ['GET /repos/{owner}/{repo}/pulls/{pull_number}', 502, true],
      ['GET /repos/{owner}/{repo}/pulls/{pull_number}', 200, false],
    ]);
    expect(fake.requests[0]!.authorization).toBe('token t');
  });

  it('answers a primary rate limit with x-ratelimit-remaining 0 and the reset', async () => {
    const fake = await serve(aRepository('acme/app'));
    fake.failOn(/^GET \/repos\/acme\/app$/, { status: 403, rateLimitReset: 1_900_000_000, count: 1 });

    const { status, headers, body } = await get(fake, '/repos/acme/app');

    expect(status).toBe(403);
    expect(headers.get('x-ratelimit-remaining')).toBe('0');
    expect(headers.get('x-ratelimit-reset')).toBe('1900000000');
    expect(body).toMatchObject({ message: expect.stringContaining('API rate limit exceeded') });
  });

  it('answers a secondary rate limit with retry-after', async () => {
    const fake = await serve(aRepository('acme/app'));
    fake.failOn('/repos/acme/app', { status: 429, retryAfter: 7 });

    const { status, headers, body } = await get(fake, '/repos/acme/app');

    expect(status).toBe(429);
    expect(headers.get('retry-after')).toBe('7');
    expect(body).toMatchObject({ message: expect.stringContaining('secondary rate limit') });
  });

  it('answers late when told to, and closes with a late answer pending', async () => {
    const fake = await serve(aRepository('acme/app'));
    fake.failOn('GET /repos/{owner}/{repo}', { delayMs: 150, count: 1 });

    const started = Date.now();
    expect((await get(fake, '/repos/acme/app')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    fake.failOn('GET /repos/{owner}/{repo}', { delayMs: 60_000 });
    const pending = fetch(`${fake.url}/repos/acme/app`).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await fake.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('workflow run approvals', () => {
  it('lists the environment reviews of a run', async () => {
    const repository = aRepository('acme/app');
    const bob = aUser('bob');
    repository.workflowRunApprovals['42'] = [
      { state: 'approved', comment: 'Ship it', environments: ['production'], user: bob },
    ];
    const fake = await serve(repository);

    const { body } = await get(fake, '/repos/acme/app/actions/runs/42/approvals');

    expect(body).toMatchObject([
      { state: 'approved', comment: 'Ship it', environments: [{ name: 'production' }], user: { login: 'bob' } },
    ]);
    expect((await get(fake, '/repos/acme/app/actions/runs/43/approvals')).status).toBe(404);
  });
});
