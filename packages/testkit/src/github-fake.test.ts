import { createGitHubClient } from '@twokey/github';
import { afterEach, describe, expect, it } from 'vitest';
import examples from './__fixtures__/github-examples.json' with { type: 'json' };
import {
  aCommit,
  aForcePush,
  aGitHubState,
  anActivity,
  aPullRequest,
  aRepository,
  aReview,
  aTimelineEvent,
  aUser,
  aWorkflowRun,
  type FakeRepository,
  type FakeUser,
  type GitHubFake,
  mergePullRequest,
  mergeQueueBot,
  moveBranch,
  NO_COMMIT,
  pushCommit,
  pushToPullRequest,
  RUNNER_HEADER,
  startGitHubFake,
} from './github-fake';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function serve(...entries: (FakeRepository | FakeUser)[]): Promise<GitHubFake> {
  const fake = await startGitHubFake(aGitHubState(...entries));
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
    const { repository, pullRequest, merged, alice, bob } = scenario();
    aWorkflowRun(repository, { id: 42, actor: alice, reRunBy: [bob] });
    const fake = await serve(repository);
    const n = pullRequest.number;
    const cases: [string, unknown][] = [
      ['/repos/acme/app', examples['repos/get']],
      [`/repos/acme/app/pulls/${n}`, examples['pulls/get']],
      [`/repos/acme/app/commits/${merged}`, examples['repos/get-commit']],
      ['/repos/acme/app/collaborators/bob/permission', examples['repos/get-collaborator-permission-level']],
      ['/repos/acme/app/actions/runs/42/attempts/2', examples['actions/get-workflow-run-attempt']],
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

  it('gives base changes among the issue events only, as GitHub documents them (not in the timeline)', async () => {
    const { repository, pullRequest, alice } = scenario();
    pullRequest.events.push(aTimelineEvent('base_ref_changed', { by: alice }));
    pullRequest.events.push(aTimelineEvent('automatic_base_change_succeeded', { by: alice }));
    const fake = await serve(repository);

    const timeline = (await get(fake, `/repos/acme/app/issues/${pullRequest.number}/timeline`)).body as {
      event: string;
    }[];
    expect(timeline.map((e) => e.event)).toEqual(['committed', 'reviewed', 'head_ref_force_pushed']);
    const issueEvents = (await get(fake, `/repos/acme/app/issues/${pullRequest.number}/events`)).body as {
      event: string;
    }[];
    expect(issueEvents.map((e) => e.event)).toEqual([
      'head_ref_force_pushed',
      'base_ref_changed',
      'automatic_base_change_succeeded',
    ]);
    expect(keysOf(issueEvents[1])).toEqual(
      keysOf(examples['issues/list-events-for-timeline[0]']).filter((k) => k !== 'lock_reason'),
    );
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

describe('workflow runs and their attempts', () => {
  it('names who started the run and who started each attempt: a re-run’s is whoever re-ran it', async () => {
    const repository = aRepository('acme/app');
    const dana = aUser('dana');
    const bob = aUser('bob');
    aWorkflowRun(repository, { id: 42, actor: dana, reRunBy: [bob] });
    const fake = await serve(repository);

    const first = await get(fake, '/repos/acme/app/actions/runs/42/attempts/1');
    const second = await get(fake, '/repos/acme/app/actions/runs/42/attempts/2');

    expect(first.body).toMatchObject({
      id: 42,
      run_attempt: 1,
      actor: { login: 'dana', id: dana.id },
      triggering_actor: { login: 'dana', id: dana.id },
      previous_attempt_url: null,
      url: `${fake.url}/repos/acme/app/actions/runs/42`,
      repository: { full_name: 'acme/app', id: repository.id },
    });
    expect(second.body).toMatchObject({
      run_attempt: 2,
      actor: { login: 'dana', id: dana.id },
      triggering_actor: { login: 'bob', id: bob.id, type: 'User' },
      previous_attempt_url: `${fake.url}/repos/acme/app/actions/runs/42/attempts/1`,
    });
    expect(JSON.stringify(second.body)).not.toMatch(/octo-org|Hello-World|30433642/);
    expect((await get(fake, '/repos/acme/app/actions/runs/42/attempts/3')).status).toBe(404);
    expect((await get(fake, '/repos/acme/app/actions/runs/43/attempts/1')).status).toBe(404);
  });

  it('takes the runner’s note of a job’s run (never anyone else’s), and keeps an attempt the test described', async () => {
    const repository = aRepository('acme/app');
    const dana = aUser('dana');
    const bob = aUser('bob');
    aWorkflowRun(repository, { id: 42, actor: dana, reRunBy: [{ ...bob, login: 'bob-ops' }] });
    const fake = await serve(repository, dana, bob);
    const note = (path: string, triggering: string, headers: Record<string, string> = { [RUNNER_HEADER]: 'run' }) =>
      fetch(`${fake.url}/_testkit/runs/acme/app/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ actor: { login: 'dana', id: dana.id }, triggering_actor: triggering }),
      });

    expect((await note('44/1', 'dana', {})).status).toBe(404);
    expect(repository.workflowRuns?.['44']).toBeUndefined();
    // bob re-ran dana's run 44: its second attempt; the first, nobody described, was dana's.
    const noted = await note('44/2', 'bob');
    expect(noted.status).toBe(200);
    expect(await noted.json()).toMatchObject({ triggering_actor: { login: 'bob', id: bob.id } });
    const attempt = await get(fake, '/repos/acme/app/actions/runs/44/attempts/2');
    expect(attempt.body).toMatchObject({ actor: { id: dana.id }, triggering_actor: { login: 'bob', id: bob.id } });
    expect((await get(fake, '/repos/acme/app/actions/runs/44/attempts/1')).body).toMatchObject({
      triggering_actor: { login: 'dana', id: dana.id },
    });
    // The run the test described is GitHub's word: bob (bob-ops now) re-ran run 42, whatever the job's login says.
    expect(await (await note('42/2', 'bob')).json()).toMatchObject({
      triggering_actor: { login: 'bob-ops', id: bob.id },
    });
    // A login that names no account: nothing noted.
    expect((await note('45/1', 'nobody')).status).toBe(404);
    // The runner's notes are not the action's requests.
    expect(fake.requests.map((r) => r.path)).not.toContain('/_testkit/runs/acme/app/44/2');
  });
});

describe('failure injection: GitHub’s answers for a feature that is not there', () => {
  it('answers 404 Not Found and 403 Resource not accessible by integration', async () => {
    const fake = await serve(aRepository('acme/app'));
    fake.failOn('GET /repos/{owner}/{repo}/activity', { status: 404, count: 1 });
    fake.failOn('GET /repos/{owner}/{repo}/activity', { status: 403, count: 1 });

    const first = await get(fake, '/repos/acme/app/activity');
    const second = await get(fake, '/repos/acme/app/activity');

    expect(first).toMatchObject({ status: 404, body: { message: 'Not Found', status: '404' } });
    expect(second).toMatchObject({
      status: 403,
      body: { message: 'Resource not accessible by integration', status: '403' },
    });
    expect(second.headers.get('x-ratelimit-remaining')).toBe('4999');
    expect((await get(fake, '/repos/acme/app/activity')).status).toBe(200);
  });
});

describe('users and their public profiles', () => {
  it('answers a registered user with the shape of GitHub’s example, its profile name and public e-mail', async () => {
    const bob = aUser('bob', { profile: { name: 'Bob Builder', email: 'bob@acme.example' } });
    const fake = await serve(aRepository('acme/app'), bob);

    const { status, body } = await get(fake, '/users/BOB');

    expect(status).toBe(200);
    expect(keysOf(body)).toEqual(expect.arrayContaining(keysOf(examples['users/get-by-username'])));
    expect(body).toMatchObject({
      login: 'bob',
      id: bob.id,
      type: 'User',
      name: 'Bob Builder',
      email: 'bob@acme.example',
      url: `${fake.url}/users/bob`,
      user_view_type: 'public',
    });
    expect(bob.email).toBe(`${bob.id}+bob@users.noreply.github.com`);
  });

  it('answers null name and e-mail for an account without them, and 404 for a login it never saw', async () => {
    const { repository, alice } = scenario();
    const quiet = aUser('quiet');
    const fake = await serve(repository, quiet);

    expect((await get(fake, '/users/alice')).body).toMatchObject({
      login: 'alice',
      id: alice.id,
      name: null,
      email: null,
    });
    expect((await get(fake, '/users/quiet')).body).toMatchObject({ login: 'quiet', name: null, email: null });
    expect((await get(fake, '/users/nobody')).status).toBe(404);
  });
});

type ActivityItem = {
  id: number;
  ref: string;
  before: string;
  after: string;
  activity_type: string;
  actor: { login: string } | null;
};

async function feed(fake: GitHubFake, query: string, repository = 'acme/app'): Promise<ActivityItem[]> {
  const { status, body } = await get(fake, `/repos/${repository}/activity?per_page=100&${query}`);
  expect(status).toBe(200);
  return body as ActivityItem[];
}

function summary(items: ActivityItem[]): [string, string | undefined, string, string][] {
  return items.map((item) => [item.activity_type, item.actor?.login, item.before, item.after]);
}

describe('the repository activity feed', () => {
  /** alice opens a two-commit pull request, mallory pushes a third commit onto it, bob merges it. */
  function pushedByAnother() {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app');
    const root = repository.branches.main!;
    const first = aCommit({ author: alice });
    const second = aCommit({ author: alice });
    const pullRequest = aPullRequest({ author: alice, commits: [first, second], headRef: 'feature', baseSha: root });
    const third = aCommit({ author: alice, message: 'Looks like alice' });
    pushToPullRequest(pullRequest, third, { by: mallory });
    const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: bob });
    return { alice, bob, mallory, repository, root, pullRequest, first, second, third, merged };
  }

  it('answers each entry with the keys of the schema’s example, the actor a simple user', async () => {
    const { repository } = pushedByAnother();
    const fake = await serve(repository);

    const items = await feed(fake, '');

    expect(items.length).toBeGreaterThan(0);
    const example = examples['repos/list-activities[0]'];
    for (const item of items) {
      expect(keysOf(item)).toEqual(keysOf(example));
      expect(keysOf(item.actor)).toEqual(expect.arrayContaining(keysOf(example.actor)));
    }
  });

  it('shows the head branch’s creation and every push by its pusher, and the merge on the base by the merger', async () => {
    const { repository, root, first, second, third, merged } = pushedByAnother();
    const fake = await serve(repository);

    expect(summary(await feed(fake, 'ref=refs/heads/feature&direction=asc'))).toEqual([
      ['branch_creation', 'alice', NO_COMMIT, root],
      ['push', 'alice', root, first.sha],
      ['push', 'alice', first.sha, second.sha],
      ['push', 'mallory', second.sha, third.sha],
    ]);
    expect(summary(await feed(fake, 'ref=main'))).toEqual([['pr_merge', 'bob', root, merged]]);
  });

  it('lists newest first by default and filters by ref, actor and activity type', async () => {
    const { repository, third } = pushedByAnother();
    const fake = await serve(repository);

    const all = await feed(fake, '');
    const timestamps = all.map((item) => Date.parse((item as unknown as { timestamp: string }).timestamp));
    expect(timestamps).toEqual([...timestamps].sort((a, b) => b - a));
    expect(summary(await feed(fake, 'actor=MALLORY'))).toEqual([['push', 'mallory', expect.any(String), third.sha]]);
    expect((await feed(fake, 'activity_type=pr_merge')).map((item) => item.ref)).toEqual(['refs/heads/main']);
    expect(await feed(fake, 'ref=feature')).toEqual(await feed(fake, 'ref=refs/heads/feature'));
    expect(await feed(fake, 'ref=refs/heads/feat')).toEqual([]);
    const invalid = await get(fake, '/repos/acme/app/activity?activity_type=merge');
    expect(invalid).toMatchObject({ status: 422, body: { message: 'Validation Failed' } });
  });

  it('filters by time period, relative to now', async () => {
    const repository = aRepository('acme/app');
    const carol = aUser('carol');
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const sha = repository.branches.main!;
    repository.activity.push(
      anActivity('push', { ref: 'main', after: sha, by: carol, at: hoursAgo(2) }),
      anActivity('push', { ref: 'main', after: sha, by: carol, at: hoursAgo(30) }),
      anActivity('push', { ref: 'main', after: sha, by: carol, at: hoursAgo(24 * 40) }),
    );
    const fake = await serve(repository);

    expect(await feed(fake, 'time_period=day')).toHaveLength(1);
    expect(await feed(fake, 'time_period=week')).toHaveLength(2);
    expect(await feed(fake, 'time_period=quarter')).toHaveLength(3);
  });

  it('shows a direct push and a new branch by their pusher', async () => {
    const alice = aUser('alice');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app');
    const root = repository.branches.main!;
    const byAlice = pushCommit(repository, aCommit({ author: alice }));
    const asAlice = pushCommit(repository, aCommit({ author: alice }), 'main', { by: mallory });
    const side = pushCommit(repository, aCommit({ author: mallory }), 'side');
    const fake = await serve(repository);

    expect(summary(await feed(fake, 'ref=main&direction=asc'))).toEqual([
      ['push', 'alice', root, byAlice],
      ['push', 'mallory', byAlice, asAlice],
    ]);
    expect(summary(await feed(fake, 'ref=side'))).toEqual([['branch_creation', 'mallory', NO_COMMIT, side]]);
  });

  it('shows a force push to a pull request in the feed and on the timeline, and replaces its commits', async () => {
    const { alice, mallory, repository, pullRequest } = pushedByAnother();
    const original = aCommit({ author: alice });
    const open = aPullRequest({ author: alice, commits: [original], headRef: 'other' });
    repository.pullRequests.push(open);
    const rewritten = aCommit({ author: alice, message: 'Rewritten' });
    pushToPullRequest(open, rewritten, { by: mallory, force: true });
    pullRequest.events.push(aForcePush({ by: alice }));
    const fake = await serve(repository);

    expect(open.commits).toEqual([rewritten]);
    expect(open.head.sha).toBe(rewritten.sha);
    expect(rewritten.parents).toEqual([open.base.sha]);
    expect(summary(await feed(fake, 'ref=other&activity_type=force_push'))).toEqual([
      ['force_push', 'mallory', original.sha, rewritten.sha],
    ]);
    const timeline = (await get(fake, `/repos/acme/app/issues/${open.number}/timeline`)).body as {
      event: string;
      actor?: { login: string };
      commit_id?: string;
    }[];
    expect(timeline.filter((e) => e.event === 'head_ref_force_pushed')).toMatchObject([
      { actor: { login: 'mallory' }, commit_id: rewritten.sha },
    ]);
    // A force push the test wrote as a timeline event is in the feed too, to the head.
    expect(summary(await feed(fake, 'ref=feature&activity_type=force_push'))).toEqual([
      ['force_push', 'alice', pullRequest.head.sha, pullRequest.head.sha],
    ]);
  });

  it('moves a branch onto an existing commit by a direct push or force push', async () => {
    const { repository, merged, mallory, root } = pushedByAnother();
    const hotfix = pushCommit(repository, aCommit({ author: mallory }), 'hotfix');
    moveBranch(repository, 'main', hotfix, { by: mallory, force: true });
    moveBranch(repository, 'release', merged, { by: mallory });
    const fake = await serve(repository);

    expect(repository.branches).toMatchObject({ main: hotfix, release: merged });
    expect(summary(await feed(fake, 'ref=main&direction=asc'))).toEqual([
      ['pr_merge', 'bob', root, merged],
      ['force_push', 'mallory', merged, hotfix],
    ]);
    expect(summary(await feed(fake, 'ref=release'))).toEqual([['branch_creation', 'mallory', NO_COMMIT, merged]]);
    expect(() => moveBranch(repository, 'main', 'f'.repeat(40), { by: mallory })).toThrow(/no commit/);
  });

  it('merges into a branch other than the default, the merge landing on that branch', async () => {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const repository = aRepository('acme/app');
    const root = repository.branches.main!;
    moveBranch(repository, 'release', root, { by: bob });
    const head = aCommit({ author: alice });
    const pullRequest = aPullRequest({ author: alice, commits: [head], baseRef: 'release', baseSha: root });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });
    const fake = await serve(repository);

    expect(repository.branches).toEqual({ main: root, release: merged });
    expect(summary(await feed(fake, 'ref=release&direction=asc'))).toEqual([
      ['branch_creation', 'bob', NO_COMMIT, root],
      ['pr_merge', 'bob', root, merged],
    ]);
    expect(await feed(fake, 'ref=main')).toEqual([]);
    const pr = (await get(fake, `/repos/acme/app/pulls/${pullRequest.number}`)).body;
    expect(pr).toMatchObject({ base: { ref: 'release' }, merged: true, merge_commit_sha: merged });
  });

  it('merges through the merge queue: the queue’s branch, then merge_queue_merge on the base, by the queue’s bot', async () => {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const repository = aRepository('acme/app');
    const root = repository.branches.main!;
    const pullRequest = aPullRequest({ author: alice, commits: [aCommit({ author: alice })], baseSha: root });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob, mergeQueue: true });
    const fake = await serve(repository);

    const queueBranch = `refs/heads/gh-readonly-queue/main/pr-${pullRequest.number}-${root}`;
    expect(summary(await feed(fake, `ref=${queueBranch}&direction=asc`))).toEqual([
      ['branch_creation', 'github-merge-queue[bot]', NO_COMMIT, merged],
      ['branch_deletion', 'github-merge-queue[bot]', merged, NO_COMMIT],
    ]);
    expect(summary(await feed(fake, 'ref=main'))).toEqual([
      ['merge_queue_merge', 'github-merge-queue[bot]', root, merged],
    ]);
    expect(repository.branches.main).toBe(merged);
    const pr = (await get(fake, `/repos/acme/app/pulls/${pullRequest.number}`)).body;
    expect(pr).toMatchObject({
      merged: true,
      merge_commit_sha: merged,
      merged_by: { login: mergeQueueBot.login, type: 'Bot' },
    });
    const timeline = (await get(fake, `/repos/acme/app/issues/${pullRequest.number}/timeline`)).body as {
      event: string;
      actor?: { login: string };
    }[];
    expect(timeline.find((e) => e.event === 'added_to_merge_queue')?.actor?.login).toBe('bob');
  });

  it('shows the head branch’s deletion after the merge, and a new branch of the same name as a new creation', async () => {
    const alice = aUser('alice');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app');
    const old = aPullRequest({ author: mallory, commits: [aCommit({ author: mallory })], headRef: 'feature' });
    mergePullRequest(repository, old, { method: 'merge', by: mallory, deleteBranch: true });
    const fresh = aPullRequest({ author: alice, commits: [aCommit({ author: alice })], headRef: 'feature' });
    repository.pullRequests.push(fresh);
    const fake = await serve(repository);

    expect(summary(await feed(fake, 'ref=feature&direction=asc')).map(([type, actor]) => [type, actor])).toEqual([
      ['branch_creation', 'mallory'],
      ['push', 'mallory'],
      ['branch_deletion', 'mallory'],
      ['branch_creation', 'alice'],
      ['push', 'alice'],
    ]);
  });

  it('shows a pull request from a fork in the fork’s feed, and its head repository in the pull request', async () => {
    const alice = aUser('alice');
    const repository = aRepository('acme/app');
    const fork = aRepository('alice/app', { ownerType: 'User' });
    const fromFork = aPullRequest({
      author: alice,
      commits: [aCommit({ author: alice })],
      headRepository: 'alice/app',
    });
    const fromDeletedFork = aPullRequest({
      author: alice,
      commits: [aCommit({ author: alice })],
      headRepository: null,
    });
    repository.pullRequests.push(fromFork, fromDeletedFork);
    const fake = await serve(repository, fork);

    const inFork = await feed(fake, `ref=${fromFork.head.ref}&direction=asc`, 'alice/app');
    expect(inFork.map((item) => item.activity_type)).toEqual(['branch_creation', 'push']);
    expect(await feed(fake, `ref=${fromFork.head.ref}`)).toEqual([]);
    const pr = (await get(fake, `/repos/acme/app/pulls/${fromFork.number}`)).body;
    expect(pr).toMatchObject({ head: { label: `alice:${fromFork.head.ref}`, repo: { full_name: 'alice/app' } } });
    const orphan = (await get(fake, `/repos/acme/app/pulls/${fromDeletedFork.number}`)).body;
    expect(orphan).toMatchObject({ head: { repo: null }, base: { repo: { full_name: 'acme/app' } } });
  });
});

describe('the activity feed’s cursor pagination', () => {
  async function withEntries(count: number) {
    const repository = aRepository('acme/app');
    const carol = aUser('carol');
    for (let i = 0; i < count; i += 1) {
      repository.activity.push(anActivity('push', { ref: 'main', after: repository.branches.main!, by: carol }));
    }
    return { repository, fake: await serve(repository) };
  }

  it('pages 30 by default, links next with an after cursor and prev with a before cursor', async () => {
    const { repository, fake } = await withEntries(75);
    const newestFirst = [...repository.activity].reverse().map((a) => a.id);
    const path = '/repos/acme/app/activity';

    const first = await get(fake, path);
    expect((first.body as ActivityItem[]).map((item) => item.id)).toEqual(newestFirst.slice(0, 30));
    const firstLinks = first.headers.get('link')!;
    expect(firstLinks).toMatch(new RegExp(`^<${fake.url}${path}\\?per_page=30&after=[\\w-]+>; rel="next"$`));

    const next = /<([^>]+)>; rel="next"/.exec(firstLinks)![1]!;
    const second = await get(fake, next.slice(fake.url.length));
    expect((second.body as ActivityItem[]).map((item) => item.id)).toEqual(newestFirst.slice(30, 60));
    const prev = /<([^>]+)>; rel="prev"/.exec(second.headers.get('link')!)![1]!;
    expect(prev).toContain('before=');
    const back = await get(fake, prev.slice(fake.url.length));
    expect((back.body as ActivityItem[]).map((item) => item.id)).toEqual(newestFirst.slice(0, 30));

    const unknown = await get(fake, `${path}?after=bm90LWEtY3Vyc29y`);
    expect(unknown.status).toBe(422);
  });

  it('is followed to the end by Octokit’s paginate, 100 a page at most', async () => {
    const { repository, fake } = await withEntries(250);
    const client = createGitHubClient({ token: 't', baseUrl: fake.url });

    const all = await client.paginate('GET /repos/{owner}/{repo}/activity', {
      owner: 'acme',
      repo: 'app',
      per_page: 500,
    });

    expect(all.map((item) => item.id)).toEqual([...repository.activity].reverse().map((a) => a.id));
    expect(fake.requests.map((r) => r.query.after === undefined)).toEqual([true, false, false]);
  });
});
