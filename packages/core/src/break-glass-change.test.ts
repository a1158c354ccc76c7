// The people of the change a break-glass lets through (breakGlassChangePeople), and the break-glass's approvers judged
// against them (breakGlassProblems): everyone who wrote, committed, co-authored, opened or pushed the change, told
// apart as the review rules tell a change's people apart — never only the head commit's author, who for a merge commit
// is whoever clicked Merge, and for any commit whatever its writer typed.
import { describe, expect, it } from 'vitest';
import {
  activity,
  alice,
  alicePerson,
  bob,
  carol,
  dependabot,
  HEAD,
  honestEvidence,
  MERGE_COMMIT,
  mallory,
  REPOSITORY,
} from './__fixtures__/review-evidence';
import { type BreakGlassPredicate, breakGlassProblems, WAIVABLE_CHECKS } from './break-glass';
import { type BreakGlassChangeEvidence, breakGlassChangePeople } from './break-glass-change';
import type { GitHubAccount, GitPerson, PullRequestCommit, ReviewEvidence } from './model';

const dave: GitHubAccount = { login: 'dave', id: 505, type: 'User' };
const webFlow: GitPerson = {
  name: 'GitHub',
  email: 'noreply@github.com',
  account: { login: 'web-flow', id: 19864447, type: 'User' },
};
const bobPerson: GitPerson = { name: 'bob', email: '202+bob@users.noreply.github.com', account: bob };
const NOW = new Date('2026-12-06T12:00:00.000Z');
const BY_HAND = 'workflow_dispatch';

function commit(sha: string, author: GitPerson, committer: GitPerson, coAuthors: PullRequestCommit['coAuthors'] = []) {
  return { sha, author, committer, coAuthors, committedAt: '2026-11-20T13:00:00Z' };
}

/** A commit pushed straight to main: no pull request, so its review evidence holds nothing but the repository. */
function directPush(): ReviewEvidence {
  return {
    repository: REPOSITORY,
    commit: MERGE_COMMIT,
    builtRef: 'refs/heads/main',
    defaultBranch: 'main',
    gaps: [],
    commits: [],
    reviews: [],
    lastPush: { accounts: [], people: [], source: 'head-commit' },
    permissions: {},
  };
}

function pushedBy(actor: GitHubAccount | null, activityType: 'push' | 'pr_merge' = 'push') {
  return { available: true as const, entries: [activity(activityType, actor, { id: 7100 })] };
}

function people(overrides: Partial<BreakGlassChangeEvidence>) {
  return breakGlassChangePeople({
    commit: commit(MERGE_COMMIT, alicePerson, alicePerson),
    review: directPush(),
    arrivals: pushedBy(alice),
    defaultBranch: 'main',
    profiles: [],
    ...overrides,
  });
}

/** A break-glass for the change, as the break-glass workflow would sign it once its approvers released it. */
function breakGlass(change: BreakGlassPredicate['change'], approvers: GitHubAccount[], requester = dave) {
  return {
    reason: 'checkout is down',
    incident: 'https://status.acme.example/incidents/42',
    environment: 'production',
    repository: { name: REPOSITORY, uri: `https://github.com/${REPOSITORY}` },
    change,
    requester,
    approvers,
    notBefore: '2026-12-06T11:00:00.000Z',
    expires: '2026-12-06T13:00:00.000Z',
    waives: [...WAIVABLE_CHECKS],
    run: { id: 9, attempt: 1, uri: `https://github.com/${REPOSITORY}/actions/runs/9/attempts/1` },
    defaultBranch: 'main',
  } satisfies BreakGlassPredicate;
}

function judged(predicate: BreakGlassPredicate) {
  return breakGlassProblems(predicate, { maxDurationSeconds: 86_400, minApprovers: 1 }, { now: NOW, trigger: BY_HAND });
}

describe('the people of the change a break-glass lets through', () => {
  it('refuses alice as the approver of her own pull request that bob merged with a merge commit (bob its author)', () => {
    // alice's unreviewed pull request #42, merged by bob with "Create a merge commit": the merge commit is bob's,
    // committed by web-flow; alice wrote and pushed the code.
    const review = honestEvidence({
      reviews: [],
      pullRequest: { ...honestEvidence().pullRequest!, mergeMethod: 'merge' },
    });
    const found = people({
      commit: commit(MERGE_COMMIT, bobPerson, webFlow),
      review,
      arrivals: pushedBy(bob, 'pr_merge'),
      profiles: [{ account: alice, name: 'Alice Author' }],
    });
    expect(found.problems).toEqual([]);
    expect(found.pullRequest).toEqual({
      number: 42,
      url: 'https://github.com/acme/app/pull/42',
      title: 'Add the widget endpoint',
    });
    expect(found.contributors).toEqual([
      { account: bob, roles: ['author', 'pusher'] },
      { account: alice, roles: ['author', 'committer', 'pull-request-author', 'head-branch-pusher'] },
    ]);
    const problems = judged(
      breakGlass({ commit: MERGE_COMMIT, author: bob, contributors: found.contributors }, [alice], bob),
    );
    expect(problems.join('; ')).toContain(
      "not counted: alice (the change's author, committer, pull-request-author, head-branch-pusher)",
    );
  });

  it('refuses alice who committed and pushed her change under bob’s noreply address as its author', () => {
    const found = people({ commit: commit(MERGE_COMMIT, bobPerson, alicePerson), arrivals: pushedBy(alice) });
    expect(found.problems).toEqual([]);
    expect(found.contributors).toEqual([
      { account: bob, roles: ['author'] },
      { account: alice, roles: ['committer', 'pusher'] },
    ]);
    const problems = judged(
      breakGlass({ commit: MERGE_COMMIT, author: bob, contributors: found.contributors }, [alice], carol),
    );
    expect(problems.join('; ')).toContain("not counted: alice (the change's committer, pusher)");
  });

  it('counts a co-author by the account a noreply address names, and one named by an approver’s profile name', () => {
    const found = people({
      commit: commit(MERGE_COMMIT, alicePerson, alicePerson, [
        { name: 'someone', email: '404+mallory@users.noreply.github.com' },
        { name: 'Carol Checker', email: 'carol@home.example' },
      ]),
      profiles: [{ account: carol, name: 'Carol Checker' }],
    });
    expect(found.problems).toEqual([]);
    expect(found.contributors).toEqual([
      { account: alice, roles: ['author', 'committer', 'pusher'] },
      { account: { login: 'mallory', id: mallory.id, type: 'User' }, roles: ['co-author'] },
      { account: carol, roles: ['co-author'] },
    ]);
  });

  it('leaves GitHub’s web-flow committer out: it is nobody', () => {
    const found = people({ commit: commit(MERGE_COMMIT, alicePerson, webFlow) });
    expect(found.contributors.map((c) => c.account.login)).toEqual(['alice']);
  });

  it.each([
    [
      'an author no GitHub account is known for',
      { commit: commit(MERGE_COMMIT, { name: 'Ghost', email: 'ghost@nowhere.example' }, alicePerson) },
      'author of aaaaaaa "Ghost <ghost@nowhere.example>" has no GitHub account',
    ],
    [
      'a co-author trailer naming nobody known',
      { commit: commit(MERGE_COMMIT, alicePerson, alicePerson, [{ name: 'Zed', email: 'zed@nowhere.example' }]) },
      '"Zed <zed@nowhere.example>" of aaaaaaa',
    ],
    [
      'a commit on the default branch its feed shows nobody putting there',
      { arrivals: { available: true as const, entries: [] } },
      'the activity feed of refs/heads/main shows no push or merge that put',
    ],
    [
      'a default branch whose feed cannot be read',
      { arrivals: { available: false as const, reason: 'GET /repos/acme/app/activity?ref=refs/heads/main: 403' } },
      `who put ${MERGE_COMMIT} on refs/heads/main cannot be told: GET /repos/acme/app/activity?ref=refs/heads/main: 403`,
    ],
    ['a push that names no account', { arrivals: pushedBy(null) }, 'names no account'],
    ['a push by a bot (whoever had it push is unknown)', { arrivals: pushedBy(dependabot) }, 'a bot'],
    [
      'a pull request whose evidence has a gap',
      { review: { ...directPush(), gaps: ['more than one pull request claims to be merged as it: #1, #2'] } },
      'more than one pull request claims to be merged as it: #1, #2',
    ],
    [
      'a pull request whose head branch’s feed cannot be read',
      { review: honestEvidence({ activity: { available: false, reason: 'a deleted fork' } }) },
      'who pushed to the head branch of pull request #42 cannot be told: a deleted fork',
    ],
  ])('refuses to tell the people of %s', (_what, overrides, said) => {
    expect(people(overrides).problems.join('; ')).toContain(said);
  });

  it('records the pull request’s every commit author and head-branch pusher, and the merger as its pusher', () => {
    const review = honestEvidence({
      commits: [
        commit(HEAD, alicePerson, alicePerson),
        commit('e'.repeat(40), { name: 'Carol', email: 'carol@acme.example', account: carol }, alicePerson),
      ],
    });
    const found = people({
      commit: commit(MERGE_COMMIT, alicePerson, webFlow),
      review,
      arrivals: pushedBy(bob, 'pr_merge'),
    });
    expect(found.contributors).toEqual([
      { account: alice, roles: ['author', 'committer', 'pull-request-author', 'head-branch-pusher'] },
      { account: carol, roles: ['author'] },
      { account: bob, roles: ['pusher'] },
    ]);
  });
});

describe('a break-glass judged against the people of its change', () => {
  const contributors = [
    { account: alice, roles: ['author' as const, 'pull-request-author' as const] },
    { account: bob, roles: ['pusher' as const] },
  ];

  it('refuses a break-glass that records none of the change’s people (signed before they were recorded)', () => {
    expect(judged(breakGlass({ commit: MERGE_COMMIT, author: bob }, [carol])).join('; ')).toContain(
      "it records none of the change's people (change.contributors",
    );
  });

  it('refuses an approver who is one of them, renamed since (alice → alice-ops): by account id', () => {
    const problems = judged(
      breakGlass({ commit: MERGE_COMMIT, author: bob, contributors }, [{ ...alice, login: 'alice-ops' }], carol),
    );
    expect(problems.join('; ')).toContain("not counted: alice-ops (the change's author, pull-request-author)");
  });

  it('names every reason an approver may not release it', () => {
    const problems = judged(breakGlass({ commit: MERGE_COMMIT, author: bob, contributors }, [bob], bob));
    expect(problems.join('; ')).toContain("not counted: bob (its requester; the change's author; the change's pusher)");
  });

  it('lets it through when an approver made none of it', () => {
    expect(judged(breakGlass({ commit: MERGE_COMMIT, author: bob, contributors }, [carol]))).toEqual([]);
  });
});
