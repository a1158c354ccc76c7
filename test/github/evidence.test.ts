import { coAuthorsOf, collectReviewEvidence, createGitHubClient, type GitHubClientOptions } from '@twokey/github';
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
  type FakePullRequest,
  type FakeRepository,
  type FakeUser,
  type GitHubFake,
  type MergeMethodName,
  mergePullRequest,
  mergeQueueBot,
  moveBranch,
  pushCommit,
  pushToPullRequest,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const REVIEWS_ROUTE = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews';
const ACTIVITY_ROUTE = 'GET /repos/{owner}/{repo}/activity';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function serve(...entries: (FakeRepository | FakeUser)[]): Promise<GitHubFake> {
  const fake = await startGitHubFake(aGitHubState(...entries));
  fakes.push(fake);
  return fake;
}

// Fast back-off so failure tests stay quick; the retry and throttling plugins are the real ones.
function clientFor(fake: GitHubFake, options: Partial<GitHubClientOptions> = {}) {
  return createGitHubClient({ token: 'ghs_test', baseUrl: fake.url, retryDelayMs: 5, timeoutMs: 5_000, ...options });
}

/** alice opens a two-commit pull request, bob approves its head and merges it. */
function reviewedChange(method: MergeMethodName = 'merge') {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const first = aCommit({ author: alice, message: 'Add the parser' });
  const head = aCommit({ author: alice, message: 'Handle empty input' });
  const pullRequest = aPullRequest({ author: alice, commits: [first, head], title: 'Parser' });
  pullRequest.reviews.push(aReview({ by: bob, on: head.sha, state: 'APPROVED' }));
  const merged = mergePullRequest(repository, pullRequest, { method, by: bob });
  return { alice, bob, repository, pullRequest, first, head, merged };
}

function requestsTo(fake: GitHubFake, route: string) {
  return fake.requests.filter((r) => r.route === route);
}

describe('finding the pull request merged as the commit', () => {
  it.each(['merge', 'squash', 'rebase'] as const)('finds a %s merge and tells its method', async (method) => {
    const { repository, pullRequest, alice, bob, head, merged } = reviewedChange(method);
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.pullRequest).toEqual({
      number: pullRequest.number,
      url: `https://github.com/acme/app/pull/${pullRequest.number}`,
      title: 'Parser',
      author: { login: 'alice', id: alice.id, type: 'User' },
      headSha: head.sha,
      headRef: pullRequest.head.ref,
      headRepository: 'acme/app',
      mergeCommitSha: merged,
      createdAt: pullRequest.createdAt,
      mergedAt: pullRequest.mergedAt,
      mergedBy: { login: 'bob', id: bob.id, type: 'User' },
      mergeMethod: method,
      baseRef: 'main',
      baseChanges: [],
    });
    expect(evidence.defaultBranch).toBe('main');
    expect(evidence.commits.map((c) => c.sha)).toEqual(pullRequest.commits.map((c) => c.sha));
    expect(evidence.reviews).toEqual([
      {
        id: pullRequest.reviews[0]!.id,
        reviewer: { login: 'bob', id: bob.id, type: 'User' },
        state: 'APPROVED',
        commitId: head.sha,
        submittedAt: pullRequest.reviews[0]!.submittedAt,
      },
    ]);
    // The reviewer's, and the author's (a change by an author without write access needs one more approval).
    expect(evidence.permissions).toEqual({ bob: 'write', alice: 'write' });
    expect(fake.requests.every((r) => r.authorization === 'token ghs_test')).toBe(true);
  });

  it('records no pull request for a commit pushed directly to the default branch', async () => {
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app', { collaborators: { mallory: 'admin' } });
    const pushed = pushCommit(repository, aCommit({ author: mallory, message: 'Hotfix' }));
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: pushed });

    expect(evidence.pullRequest).toBeUndefined();
    expect(evidence.associatedPullRequests).toBeUndefined();
    expect(evidence.gaps).toEqual([]);
    expect(evidence.reviews).toEqual([]);
  });

  it('records no pull request merged as a branch commit, and names the one it was merged as instead', async () => {
    const { repository, pullRequest, head, merged } = reviewedChange('squash');
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: head.sha });

    expect(evidence.pullRequest).toBeUndefined();
    expect(evidence.associatedPullRequests).toEqual([
      { number: pullRequest.number, url: expect.any(String), merged: true, mergeCommitSha: merged },
    ]);
  });

  it('does not take an earlier commit of a rebase merge as the merged commit', async () => {
    const { repository, pullRequest, merged } = reviewedChange('rebase');
    const earlierReplayed = repository.commits.at(-2)!.sha;
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: earlierReplayed });

    expect(evidence.pullRequest).toBeUndefined();
    expect(evidence.associatedPullRequests).toEqual([
      expect.objectContaining({ number: pullRequest.number, mergeCommitSha: merged }),
    ]);
  });

  it('leaves a gap when the commit is unknown to GitHub', async () => {
    const repository = aRepository('acme/app');
    const fake = await serve(repository);
    const unknown = 'f'.repeat(40);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: unknown });

    expect(evidence.pullRequest).toBeUndefined();
    expect(evidence.gaps).toEqual([
      `GET /repos/acme/app/commits/${unknown}/pulls: HTTP 422 (No commit found for SHA: ${unknown} - https://docs.github.com/rest)`,
    ]);
  });

  it('leaves a gap when the pull request was fast-forwarded to one of its own commits (no GitHub merge method)', async () => {
    const alice = aUser('alice');
    const repository = aRepository('acme/app');
    const head = aCommit({ author: alice });
    const pullRequest = aPullRequest({ author: alice, commits: [head] });
    repository.pullRequests.push(pullRequest);
    Object.assign(pullRequest, {
      state: 'closed',
      merged: true,
      mergeCommitSha: head.sha,
      mergedAt: '2026-03-02T12:00:00Z',
      mergedBy: alice,
    });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: head.sha });

    expect(evidence.pullRequest).toBeUndefined();
    expect(evidence.gaps).toEqual([expect.stringMatching(/unknown merge method: .*fast-forward/)]);
  });

  it('leaves a gap when a merge commit’s second parent is not the reviewed head', async () => {
    const { repository, merged } = reviewedChange('merge');
    const mergeCommit = repository.commits.find((c) => c.sha === merged)!;
    mergeCommit.parents[1] = 'e'.repeat(40);
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.pullRequest).toBeUndefined();
    expect(evidence.gaps).toEqual([
      expect.stringContaining(`has second parent ${'e'.repeat(40)}, not the pull request head`),
    ]);
  });
});

describe('commits, authors and co-authors', () => {
  it('collects authors, committers with their GitHub accounts, and Co-authored-by trailers', async () => {
    const alice = aUser('alice');
    const carol = aUser('carol');
    const repository = aRepository('acme/app', { collaborators: { carol: 'write' } });
    const commit = aCommit({
      author: alice,
      committer: { name: 'Build Box', email: 'ci@example.com' },
      message: 'Pair on the parser',
      coAuthors: [carol, { name: 'Dave Unlinked', email: 'dave@example.com' }],
    });
    const pullRequest = aPullRequest({ author: alice, commits: [commit] });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: carol });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.commits).toEqual([
      {
        sha: commit.sha,
        author: { name: 'alice', email: alice.email, account: { login: 'alice', id: alice.id, type: 'User' } },
        committer: { name: 'Build Box', email: 'ci@example.com' },
        coAuthors: [
          { name: 'carol', email: carol.email },
          { name: 'Dave Unlinked', email: 'dave@example.com' },
        ],
        committedAt: commit.committer.date,
      },
    ]);
  });

  it('reads Co-authored-by lines in any case and anywhere in the message, once per email', () => {
    const message = [
      'Refactor',
      '',
      'co-authored-by: Eve <eve@example.com>',
      'Body text',
      'Co-Authored-By:   Frank Q. <frank@example.com>  ',
      'Co-authored-by: Eve Again <EVE@example.com>',
      'Co-authored-by: no email here',
    ].join('\n');

    expect(coAuthorsOf(message)).toEqual([
      { name: 'Eve', email: 'eve@example.com' },
      { name: 'Frank Q.', email: 'frank@example.com' },
    ]);
  });

  it('reads the forms git reads as a trailer: spaces before the colon, a continued value, CRLF and U+2028 lines', () => {
    const message = [
      'Pair on the cache',
      '',
      'Co-authored-by : Bob Builder <bob@example.com>',
      'Co-authored-by: Carol',
      ' <carol@example.com>',
      'Co-authored-by:\tGina <gina@example.com>\r',
      'Co-authored-by: Smith, Dave <dave.smith@corp.example>',
      'Signed-off-by: Alice <alice@example.com>',
      '    Co-authored-by  is not a key here <not-a-trailer>',
    ].join('\n');
    expect(coAuthorsOf(`${message}\u2028Co-authored-by: Erin <erin@example.com>`)).toEqual([
      { name: 'Bob Builder', email: 'bob@example.com' },
      { name: 'Carol', email: 'carol@example.com' },
      { name: 'Gina', email: 'gina@example.com' },
      // A name written "Last, First" is the whole name (it identifies by the name its holder wrote).
      { name: 'Smith, Dave', email: 'dave.smith@corp.example' },
      { name: 'Erin', email: 'erin@example.com' },
    ]);
  });

  it('reads no co-author from prose: an address must end the value, as GitHub reads it', () => {
    const message = [
      'Co-authored-by: read as git reads a trailer, every Name <email> of a value',
      'Co-authored-by: lines may now carry <br> tags',
      'Co-authored-by: Dave <dave@example.com> (pairing, Tuesday)',
    ].join('\n');
    expect(coAuthorsOf(message)).toEqual([]);
  });

  it('reads a trailer line on its own as well as continued, and a squashed message’s indented trailer block', () => {
    // A note indented under the trailer: the line on its own is Bob.
    const noted = ['Retry the upload', '', 'Co-authored-by: Bob <bob@acme.example>', '    (he wrote the backoff)'];
    expect(coAuthorsOf(noted.join('\n'))).toEqual([{ name: 'Bob', email: 'bob@acme.example' }]);
    // `git merge --squash` indents each commit's message: the trailer block is indented as a whole, and the reviewer's
    // Reviewed-by line after Bob's is no continuation of it.
    const squashed = [
      'Squashed commit of the following:',
      '',
      '    Cache the manifest',
      '    ',
      '    Co-authored-by: Bob Builder <bob@acme.example>',
      '    Reviewed-by: Carol <carol@acme.example>',
    ];
    expect(coAuthorsOf(squashed.join('\n'))).toEqual([{ name: 'Bob Builder', email: 'bob@acme.example' }]);
    // Trailers apart by CR or U+2028 on one LF line: each by its own name, as before (the LF reading comes second).
    for (const separator of ['\r', '\u2028']) {
      const pair = `Fix\n\nCo-authored-by: Alice Doe <alice@example.com>${separator}Co-authored-by: Bob Builder <bob@home.example>\n`;
      expect(coAuthorsOf(pair)).toEqual([
        { name: 'Alice Doe', email: 'alice@example.com' },
        { name: 'Bob Builder', email: 'bob@home.example' },
      ]);
    }
    // A name holding U+2028 or CR (one line to git and GitHub): read at LF alone too.
    expect(coAuthorsOf('x\n\nCo-authored-by: Bob\u2028Builder <12+bob@users.noreply.github.com>')).toEqual([
      { name: 'Bob\u2028Builder', email: '12+bob@users.noreply.github.com' },
    ]);
    expect(coAuthorsOf('x\n\nCo-authored-by: Bob\rBuilder <12+bob@users.noreply.github.com>')).toEqual([
      { name: 'Bob\rBuilder', email: '12+bob@users.noreply.github.com' },
    ]);
  });

  it('reads a long value in time linear in it (a hang guard, not a benchmark)', () => {
    for (const value of [
      ' '.repeat(200_000),
      `a${' '.repeat(200_000)}b`,
      'a'.repeat(200_000),
      `${'<a'.repeat(50_000)}> x`,
      '\t <'.repeat(60_000),
    ]) {
      const started = performance.now();
      expect(coAuthorsOf(`Co-authored-by: ${value}`)).toEqual([]);
      expect(performance.now() - started).toBeLessThan(2000);
    }
    // A trailer continued over many lines, each ending like an address: read over a bounded number of them.
    const started = performance.now();
    coAuthorsOf(`Co-authored-by: x\n${' <a@b> x\n'.repeat(100_000)}`);
    coAuthorsOf(`Co-authored-by: x\n${' x <a@b>\n'.repeat(100_000)}`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('leaves a gap when the pull request has more commits than the API lists (250)', async () => {
    const alice = aUser('alice');
    const repository = aRepository('acme/app');
    const commits = Array.from({ length: 260 }, (_, i) => aCommit({ author: alice, message: `Step ${i}` }));
    const pullRequest = aPullRequest({ author: alice, commits });
    const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: alice });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.commits).toHaveLength(250);
    expect(evidence.gaps).toContain(
      `pull request #${pullRequest.number} has 260 commits but the API listed 250 (it lists at most 250): the authors of the others are unknown`,
    );
    expect(requestsTo(fake, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/commits')).toHaveLength(3);
  });
});

describe('reviews and permissions', () => {
  it('collects more than 100 reviews, the approval on the last page included', async () => {
    const { repository, pullRequest, head, merged } = reviewedChange('merge');
    const chatty = [aUser('chatty1'), aUser('chatty2'), aUser('chatty3')];
    const approval = pullRequest.reviews.pop()!;
    for (let i = 0; i < 130; i += 1) {
      pullRequest.reviews.push(aReview({ by: chatty[i % 3]!, on: head.sha, state: 'COMMENTED', body: `nit ${i}` }));
    }
    pullRequest.reviews.push(approval);
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.reviews).toHaveLength(131);
    expect(evidence.reviews.at(-1)).toMatchObject({ id: approval.id, state: 'APPROVED', commitId: head.sha });
    const pages = requestsTo(fake, REVIEWS_ROUTE).map((r) => r.query.page ?? '1');
    expect(pages).toEqual(['1', '2']);
  });

  it('maps review states and leaves a gap for an approval by a deleted account', async () => {
    const { repository, pullRequest, head, merged, bob } = reviewedChange('merge');
    pullRequest.reviews.push(
      aReview({ by: bob, on: head.sha, state: 'DISMISSED' }),
      aReview({ by: bob, on: head.sha, state: 'CHANGES_REQUESTED' }),
      aReview({ by: null, on: head.sha, state: 'COMMENTED' }),
    );
    const ghost = aReview({ by: null, on: head.sha, state: 'APPROVED' });
    pullRequest.reviews.push(ghost);
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.reviews.map((r) => r.state)).toEqual(['APPROVED', 'DISMISSED', 'CHANGES_REQUESTED']);
    expect(evidence.gaps).toEqual([`review ${ghost.id} (APPROVED) has no reviewer account (deleted user)`]);
  });

  it('collects each reviewer’s permission, roles and outsiders included', async () => {
    const { repository, pullRequest, head, merged } = reviewedChange('merge');
    repository.visibility = 'public';
    const reviewers = ['admina', 'maintainer', 'triager', 'reader', 'custom', 'outsider'].map((login) => aUser(login));
    Object.assign(repository.collaborators, {
      admina: 'admin',
      maintainer: 'maintain',
      triager: 'triage',
      reader: 'read',
      custom: { roleName: 'release-manager', permission: 'write' },
    });
    for (const reviewer of reviewers) pullRequest.reviews.push(aReview({ by: reviewer, on: head.sha }));
    pullRequest.reviews.push(aReview({ by: aBot('renovate'), on: head.sha }));
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.permissions).toEqual({
      bob: 'write',
      admina: 'admin',
      maintainer: 'maintain',
      triager: 'triage',
      reader: 'read',
      custom: 'write',
      outsider: 'read',
      'renovate[bot]': 'read',
      alice: 'write',
    });
    expect(evidence.reviews.at(-1)!.reviewer).toMatchObject({ login: 'renovate[bot]', type: 'Bot' });
  });

  it('gives an outsider on a private repository no permission', async () => {
    const { repository, pullRequest, head, merged } = reviewedChange('merge');
    pullRequest.reviews.push(aReview({ by: aUser('sockpuppet'), on: head.sha }));
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.permissions).toEqual({ bob: 'write', sockpuppet: 'none', alice: 'write' });
  });
});

describe('the last push, when the activity feed cannot answer (the fallback)', () => {
  function withForcePush(options: { pushedAfterHead: boolean; forgedHeadDate?: string }) {
    const alice = aUser('alice');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app', { collaborators: { alice: 'write', mallory: 'write' } });
    const headDate = options.forgedHeadDate ?? '2026-04-01T10:00:00Z';
    const head = aCommit({ author: alice, date: headDate });
    const pushedAt = options.pushedAfterHead ? '2026-04-01T11:00:00Z' : '2026-04-01T09:00:00Z';
    const pullRequest: FakePullRequest = aPullRequest({
      author: alice,
      commits: [head],
      events: [aForcePush({ by: mallory, at: pushedAt, headSha: head.sha })],
    });
    const merged = mergePullRequest(repository, pullRequest, {
      method: 'merge',
      by: alice,
      at: '2026-04-01T12:00:00Z',
    });
    return { alice, mallory, repository, merged };
  }

  it('is the actor of a force push newer than the head commit', async () => {
    const { repository, merged, mallory } = withForcePush({ pushedAfterHead: true });
    const fake = await serve(repository);
    fake.failOn(ACTIVITY_ROUTE, { status: 403 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.activity).toMatchObject({ available: false });
    expect(evidence.lastPush).toEqual({
      accounts: [{ login: 'mallory', id: mallory.id, type: 'User' }],
      people: [],
      source: 'head_ref_force_pushed',
    });
  });

  it('is the head commit’s author and committer when the force push is older', async () => {
    const { repository, merged, alice } = withForcePush({ pushedAfterHead: false });
    const fake = await serve(repository);
    fake.failOn(ACTIVITY_ROUTE, { status: 404 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.lastPush.source).toBe('head-commit');
    expect(evidence.lastPush.accounts).toEqual([{ login: 'alice', id: alice.id, type: 'User' }]);
    expect(evidence.lastPush.people.map((p) => p.email)).toEqual([alice.email, alice.email]);
  });

  it('is the force pusher when the head commit is dated after the merge (a forged date)', async () => {
    const { repository, merged } = withForcePush({ pushedAfterHead: true, forgedHeadDate: '2030-01-01T00:00:00Z' });
    const fake = await serve(repository);
    fake.failOn(ACTIVITY_ROUTE, { status: 403 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.lastPush).toMatchObject({ source: 'head_ref_force_pushed', accounts: [{ login: 'mallory' }] });
  });
});

describe('who the approvers are, and what the merge commit says', () => {
  it('collects the public profile of every approver: name and e-mail when shown, nothing when not', async () => {
    const { repository, pullRequest, head, merged, bob: reviewer } = reviewedChange('merge');
    const bob = aUser('bob', { id: reviewer.id, profile: { name: 'Bob Builder', email: 'bob@acme.example' } });
    const dave = aUser('dave');
    const carol = aUser('carol', { profile: { name: 'Carol C.' } });
    pullRequest.reviews.push(
      aReview({ by: dave, on: head.sha }),
      aReview({ by: carol, on: head.sha, state: 'COMMENTED' }),
      aReview({ by: bob, on: head.sha }),
    );
    const fake = await serve(repository, bob, carol);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.profiles).toEqual([
      { account: { login: 'bob', id: bob.id, type: 'User' }, name: 'Bob Builder', email: 'bob@acme.example' },
      { account: { login: 'dave', id: dave.id, type: 'User' } },
    ]);
    expect(requestsTo(fake, 'GET /users/{username}').map((r) => r.path)).toEqual(['/users/bob', '/users/dave']);
  });

  it('leaves a gap naming the request when a profile cannot be read', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn('GET /users/{username}', { status: 404 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.profiles).toEqual([]);
    expect(evidence.gaps).toEqual(['GET /users/bob: HTTP 404 (Not Found - https://docs.github.com/rest)']);
  });

  it('leaves a gap when the login now belongs to another account', async () => {
    const { repository, merged, bob } = reviewedChange('merge');
    const newBob = aUser('bob', { profile: { name: 'Not the reviewer' } });
    const fake = await serve(repository, newBob);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.profiles).toEqual([]);
    // Neither bob's profile nor his permission is the reviewer's: both are the new holder's of the login.
    expect(evidence.permissions.bob).toBeUndefined();
    expect([...evidence.gaps].sort()).toEqual([
      `GET /repos/acme/app/collaborators/bob/permission: expected account ${bob.id}, the reviewer, found account ${newBob.id} (the login changed hands)`,
      `GET /users/bob: expected account ${bob.id}, the reviewer, found account ${newBob.id} (the login changed hands)`,
    ]);
  });

  it('collects the merge commit’s own co-authors, the built ref and the default branch', async () => {
    const alice = aUser('alice');
    const carol = aUser('carol');
    const repository = aRepository('acme/app', { defaultBranch: 'trunk' });
    const pullRequest = aPullRequest({
      author: alice,
      commits: [aCommit({ author: alice }), aCommit({ author: carol })],
      baseRef: 'trunk',
    });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), {
      repository: 'acme/app',
      commit: merged,
      ref: 'refs/heads/trunk',
    });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.builtRef).toBe('refs/heads/trunk');
    expect(evidence.defaultBranch).toBe('trunk');
    expect(evidence.mergeCommitCoAuthors).toEqual([{ name: 'carol', email: carol.email }]);
  });

  it('records when the pull request was retargeted to another base (base_ref_changed)', async () => {
    const alice = aUser('alice');
    const repository = aRepository('acme/app');
    const pullRequest = aPullRequest({ author: alice, commits: [aCommit({ author: alice })] });
    pullRequest.events.push(aTimelineEvent('base_ref_changed', { by: alice, at: '2026-03-05T10:00:00Z' }));
    const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: alice });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.pullRequest?.baseChanges).toEqual([
      { at: '2026-03-05T10:00:00Z', actor: { login: 'alice', id: alice.id, type: 'User' } },
    ]);
  });

  it('leaves a gap when the repository cannot be read, and still finds the pull request', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn('GET /repos/{owner}/{repo}', { status: 403 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.defaultBranch).toBeUndefined();
    expect(evidence.pullRequest?.number).toBeDefined();
    expect(evidence.gaps).toEqual([
      'GET /repos/acme/app: HTTP 403 (Resource not accessible by integration - https://docs.github.com/rest)',
    ]);
  });
});

describe('the activity feed: who pushed, and how the commit reached the built branch', () => {
  function summary(entries: { activityType: string; actor: { login: string } | null; ref: string }[]) {
    return entries.map((entry) => [entry.activityType, entry.actor?.login, entry.ref]);
  }

  it('names someone who pushed to the pull request as the last pusher, whoever the commit says wrote it', async () => {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write', mallory: 'write' } });
    const first = aCommit({ author: alice });
    const pullRequest = aPullRequest({ author: alice, commits: [first], headRef: 'parser' });
    const asAlice = aCommit({ author: alice, message: 'Looks like alice' });
    pushToPullRequest(pullRequest, asAlice, { by: mallory });
    pullRequest.reviews.push(aReview({ by: mallory, on: asAlice.sha }));
    const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: bob });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), {
      repository: 'acme/app',
      commit: merged,
      ref: 'refs/heads/main',
    });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.lastPush).toEqual({
      accounts: [{ login: 'mallory', id: mallory.id, type: 'User' }],
      people: [],
      source: 'activity',
    });
    if (!evidence.activity?.available) throw new Error('expected the activity feed');
    expect(summary(evidence.activity.headPushes)).toEqual([
      ['branch_creation', 'alice', 'refs/heads/parser'],
      ['push', 'alice', 'refs/heads/parser'],
      ['push', 'mallory', 'refs/heads/parser'],
    ]);
    expect(evidence.activity.builtCommitArrivals).toEqual([
      {
        id: expect.any(Number),
        ref: 'refs/heads/main',
        before: repository.commits[0]!.sha,
        after: merged,
        timestamp: pullRequest.mergedAt,
        activityType: 'pr_merge',
        actor: { login: 'bob', id: bob.id, type: 'User' },
      },
    ]);
    expect(requestsTo(fake, ACTIVITY_ROUTE).map((r) => r.query)).toEqual(
      expect.arrayContaining([
        { ref: 'refs/heads/parser', direction: 'desc', per_page: '100' },
        { ref: 'refs/heads/main', direction: 'desc', per_page: '100' },
      ]),
    );
  });

  it('names a force pusher as the last pusher', async () => {
    const alice = aUser('alice');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app');
    const pullRequest = aPullRequest({ author: alice, commits: [aCommit({ author: alice })] });
    pushToPullRequest(pullRequest, aCommit({ author: alice }), { by: mallory, force: true });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.lastPush).toMatchObject({ accounts: [{ login: 'mallory' }], source: 'activity' });
    if (!evidence.activity?.available) throw new Error('expected the activity feed');
    expect(evidence.activity.headPushes.at(-1)).toMatchObject({ activityType: 'force_push' });
  });

  it('shows a merge through the merge queue as merge_queue_merge', async () => {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const repository = aRepository('acme/app');
    const pullRequest = aPullRequest({ author: alice, commits: [aCommit({ author: alice })] });
    pullRequest.reviews.push(aReview({ by: bob, on: pullRequest.head.sha }));
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob, mergeQueue: true });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), {
      repository: 'acme/app',
      commit: merged,
      ref: 'refs/heads/main',
    });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.pullRequest).toMatchObject({ mergeMethod: 'squash', mergedBy: { login: mergeQueueBot.login } });
    if (!evidence.activity?.available) throw new Error('expected the activity feed');
    expect(summary(evidence.activity.builtCommitArrivals)).toEqual([
      ['merge_queue_merge', 'github-merge-queue[bot]', 'refs/heads/main'],
    ]);
  });

  it('shows a pull request’s merge commit pushed onto the built branch as a push', async () => {
    const alice = aUser('alice');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app');
    const root = repository.branches.main!;
    moveBranch(repository, 'side', root, { by: mallory });
    const pullRequest = aPullRequest({ author: mallory, commits: [aCommit({ author: mallory })], baseRef: 'side' });
    pullRequest.reviews.push(aReview({ by: alice, on: pullRequest.head.sha }));
    const merged = mergePullRequest(repository, pullRequest, { method: 'merge', by: mallory });
    moveBranch(repository, 'main', merged, { by: mallory });
    const fake = await serve(repository);

    const onMain = await collectReviewEvidence(clientFor(fake), {
      repository: 'acme/app',
      commit: merged,
      ref: 'refs/heads/main',
    });
    const onSide = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(onMain.gaps).toEqual([]);
    expect(onMain.pullRequest?.baseRef).toBe('side');
    if (!onMain.activity?.available || !onSide.activity?.available) throw new Error('expected the activity feed');
    expect(summary(onMain.activity.builtCommitArrivals)).toEqual([['push', 'mallory', 'refs/heads/main']]);
    // Without the built ref, the base is read.
    expect(summary(onSide.activity.builtCommitArrivals)).toEqual([['pr_merge', 'mallory', 'refs/heads/side']]);
  });

  it('does not take an older branch of the same name’s pushes for the pull request’s', async () => {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const mallory = aUser('mallory');
    const repository = aRepository('acme/app');
    const old = aPullRequest({ author: mallory, commits: [aCommit({ author: mallory })], headRef: 'feature' });
    mergePullRequest(repository, old, { method: 'merge', by: mallory, deleteBranch: true });
    const reused = aPullRequest({ author: alice, commits: [aCommit({ author: alice })], headRef: 'feature' });
    const merged = mergePullRequest(repository, reused, { method: 'merge', by: bob });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    if (!evidence.activity?.available) throw new Error('expected the activity feed');
    expect(summary(evidence.activity.headPushes)).toEqual([
      ['branch_creation', 'alice', 'refs/heads/feature'],
      ['push', 'alice', 'refs/heads/feature'],
    ]);
    expect(evidence.lastPush).toMatchObject({ accounts: [{ login: 'alice' }], source: 'activity' });
  });

  it('reads a pull request from a fork in the fork’s feed', async () => {
    const alice = aUser('alice');
    const bob = aUser('bob');
    const repository = aRepository('acme/app');
    const fork = aRepository('alice/app', { ownerType: 'User' });
    const pullRequest = aPullRequest({
      author: alice,
      commits: [aCommit({ author: alice })],
      headRepository: 'alice/app',
    });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: bob });
    const fake = await serve(repository, fork);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.pullRequest?.headRepository).toBe('alice/app');
    expect(
      requestsTo(fake, ACTIVITY_ROUTE)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/repos/acme/app/activity', '/repos/alice/app/activity']);
    if (!evidence.activity?.available) throw new Error('expected the activity feed');
    expect(evidence.activity.headPushes.map((p) => p.actor?.login)).toEqual(['alice', 'alice']);
  });

  it('records the feed as unavailable for a pull request from a deleted fork', async () => {
    const alice = aUser('alice');
    const repository = aRepository('acme/app');
    const pullRequest = aPullRequest({ author: alice, commits: [aCommit({ author: alice })], headRepository: null });
    const merged = mergePullRequest(repository, pullRequest, { method: 'squash', by: alice });
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.pullRequest?.headRepository).toBeUndefined();
    expect(evidence.activity).toEqual({
      available: false,
      reason: `pull request #${pullRequest.number}'s head repository is gone (a deleted fork): its branch's activity cannot be read`,
    });
  });

  it.each([
    [403, 'Resource not accessible by integration'],
    [404, 'Not Found'],
  ] as const)('records the feed as unavailable, not as a gap, when it answers %i', async (status, message) => {
    const { repository, pullRequest, merged, alice } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn(ACTIVITY_ROUTE, { status });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.activity).toEqual({
      available: false,
      reason: [
        `GET /repos/acme/app/activity?ref=refs/heads/${pullRequest.head.ref}: HTTP ${status} (${message} - https://docs.github.com/rest)`,
        `GET /repos/acme/app/activity?ref=refs/heads/main: HTTP ${status} (${message} - https://docs.github.com/rest)`,
      ].join('; '),
    });
    expect(evidence.lastPush).toMatchObject({ source: 'head-commit', accounts: [{ login: alice.login }] });
  });

  it('records the feed as unavailable when one of its two reads fails', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn(ACTIVITY_ROUTE, { status: 502, count: 1 });

    const evidence = await collectReviewEvidence(clientFor(fake, { retries: 0 }), {
      repository: 'acme/app',
      commit: merged,
    });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.activity).toMatchObject({
      available: false,
      reason: expect.stringMatching(/^GET \/repos\/acme\/app\/activity\?ref=refs\/heads\/\S+: HTTP 502, after retries/),
    });
  });

  it('reads the built branch back to a day before the merge, no further', async () => {
    const { repository, merged, pullRequest, bob } = reviewedChange('merge');
    const before = Date.parse(pullRequest.mergedAt!) - 2 * 24 * 3_600_000;
    for (let i = 0; i < 250; i += 1) {
      const at = new Date(before - i * 60_000).toISOString();
      repository.activity.push(anActivity('push', { ref: 'main', after: 'a'.repeat(40), by: bob, at }));
    }
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.activity).toMatchObject({ available: true, builtCommitArrivals: [{ activityType: 'pr_merge' }] });
    const mainReads = requestsTo(fake, ACTIVITY_ROUTE).filter((r) => r.query.ref === 'refs/heads/main');
    expect(mainReads).toHaveLength(1);
  });

  it('leaves a gap when ten pages do not reach a day before the merge', async () => {
    const { repository, merged, bob } = reviewedChange('merge');
    for (let i = 0; i < 1001; i += 1) {
      repository.activity.push(anActivity('push', { ref: 'main', after: 'a'.repeat(40), by: bob }));
    }
    const fake = await serve(repository);

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    const gap =
      'GET /repos/acme/app/activity?ref=refs/heads/main: 10 pages of 100 entries did not reach a day before the merge';
    expect(evidence.gaps).toEqual([expect.stringContaining(gap)]);
    expect(evidence.activity).toEqual({ available: false, reason: evidence.gaps[0] });
    expect(requestsTo(fake, ACTIVITY_ROUTE).filter((r) => r.query.ref === 'refs/heads/main')).toHaveLength(10);
  });
});

describe('when the API fails', () => {
  it('retries a 500 and collects complete evidence', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn(REVIEWS_ROUTE, { status: 500, count: 1 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.reviews).toHaveLength(1);
    expect(requestsTo(fake, REVIEWS_ROUTE).map((r) => r.status)).toEqual([500, 200]);
  });

  it('records a gap naming the route when it fails every time', async () => {
    const { repository, pullRequest, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn(REVIEWS_ROUTE, { status: 502 });

    const evidence = await collectReviewEvidence(clientFor(fake, { retries: 2 }), {
      repository: 'acme/app',
      commit: merged,
    });

    expect(evidence.gaps).toEqual([
      `GET /repos/acme/app/pulls/${pullRequest.number}/reviews: HTTP 502, after retries (Bad Gateway - https://docs.github.com/rest)`,
    ]);
    expect(evidence.reviews).toEqual([]);
    expect(requestsTo(fake, REVIEWS_ROUTE).map((r) => r.status)).toEqual([502, 502, 502]);
  });

  it('waits out a primary rate limit that resets a second ahead, then collects complete evidence', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn(REVIEWS_ROUTE, { status: 403, count: 1, rateLimitReset: Math.floor(Date.now() / 1000) + 1 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.reviews).toHaveLength(1);
    expect(requestsTo(fake, REVIEWS_ROUTE).map((r) => r.status)).toEqual([403, 200]);
  });

  it('waits out a secondary rate limit with retry-after, then collects complete evidence', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn('GET /repos/{owner}/{repo}/pulls/{pull_number}', { status: 403, count: 1, retryAfter: 1 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.pullRequest?.mergeMethod).toBe('merge');
    expect(requestsTo(fake, 'GET /repos/{owner}/{repo}/pulls/{pull_number}').map((r) => r.status)).toEqual([403, 200]);
  });

  it('does not wait for a rate limit that lifts later than it may wait: a gap, at once', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    const reset = Math.floor(Date.now() / 1000) + 3600;
    fake.failOn(REVIEWS_ROUTE, { status: 403, rateLimitReset: reset });

    const started = Date.now();
    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(evidence.gaps).toEqual([
      expect.stringMatching(
        new RegExp(
          `^GET /repos/acme/app/pulls/\\d+/reviews: HTTP 403: rate limit exhausted until ${new Date(reset * 1000).toISOString()}`,
        ),
      ),
    ]);
  });

  it('does not retry a 403 that is not a rate limit', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { status: 403 });

    const evidence = await collectReviewEvidence(clientFor(fake), { repository: 'acme/app', commit: merged });

    expect(evidence.permissions).toEqual({});
    expect(evidence.gaps).toEqual([
      'GET /repos/acme/app/collaborators/bob/permission: HTTP 403 (Resource not accessible by integration - https://docs.github.com/rest)',
      'GET /repos/acme/app/collaborators/alice/permission: HTTP 403 (Resource not accessible by integration - https://docs.github.com/rest)',
    ]);
    // One request each, the reviewer's and the author's: none retried.
    expect(requestsTo(fake, 'GET /repos/{owner}/{repo}/collaborators/{username}/permission')).toHaveLength(2);
  });

  it('records a gap when the API does not answer within the time limit', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn(REVIEWS_ROUTE, { delayMs: 10_000 });

    const started = Date.now();
    const evidence = await collectReviewEvidence(clientFor(fake, { timeoutMs: 200, retries: 1 }), {
      repository: 'acme/app',
      commit: merged,
    });

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(evidence.gaps).toEqual([
      expect.stringMatching(/^GET \/repos\/acme\/app\/pulls\/\d+\/reviews: no answer within the time limit/),
    ]);
    expect(requestsTo(fake, REVIEWS_ROUTE)).toHaveLength(2);
  });

  it('collects complete evidence when only the first attempt is too slow', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn(REVIEWS_ROUTE, { delayMs: 10_000, count: 1 });

    const evidence = await collectReviewEvidence(clientFor(fake, { timeoutMs: 200 }), {
      repository: 'acme/app',
      commit: merged,
    });

    expect(evidence.gaps).toEqual([]);
    expect(evidence.reviews).toHaveLength(1);
  });

  it('records the gap and no pull request when the commit lookup itself fails', async () => {
    const { repository, merged } = reviewedChange('merge');
    const fake = await serve(repository);
    fake.failOn('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', { status: 500 });

    const evidence = await collectReviewEvidence(clientFor(fake, { retries: 1 }), {
      repository: 'acme/app',
      commit: merged,
    });

    expect(evidence.pullRequest).toBeUndefined();
    expect(evidence.gaps).toEqual([
      `GET /repos/acme/app/commits/${merged}/pulls: HTTP 500, after retries (Server Error - https://docs.github.com/rest)`,
    ]);
  });
});

describe('input', () => {
  it('throws on a malformed repository or commit (a caller’s bug, not an API failure)', async () => {
    const fake = await serve(aRepository('acme/app'));
    const client = clientFor(fake);

    await expect(collectReviewEvidence(client, { repository: 'acme', commit: 'a'.repeat(40) })).rejects.toThrow(
      /repository must be owner\/name, got "acme"/,
    );
    await expect(collectReviewEvidence(client, { repository: 'acme/app', commit: 'main' })).rejects.toThrow(
      /commit must be 40 or 64 hex digits, got "main"/,
    );
  });
});
