import { describe, expect, it } from 'vitest';
import {
  activity,
  alice,
  alicePerson,
  bob,
  carol,
  dependabot,
  HEAD,
  honestActivity,
  honestEvidence,
  MERGE_COMMIT,
  mallory,
  OLD_HEAD,
  PROFILES,
  RULES,
  review,
} from './__fixtures__/review-evidence';
import type { RefActivity, ReviewEvidence } from './model';
import { evaluateReview, normaliseName, REVIEW_CHECK_IDS, type ReviewResult } from './review';

function failed(result: ReviewResult): string[] {
  return result.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
}

function check(result: ReviewResult, id: string) {
  const found = result.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

/** The evidence with the head branch's creation (before the pull request was opened) in its activity feed. */
function created(evidence: ReviewEvidence): ReviewEvidence {
  const feed = evidence.activity as Extract<ReviewEvidence['activity'], { available: true }>;
  feed.headPushes.unshift(
    activity('branch_creation', alice, {
      ref: 'refs/heads/widget',
      after: 'd'.repeat(40),
      timestamp: '2026-11-20T11:00:00Z',
    }),
  );
  return evidence;
}

function withPr(evidence: ReviewEvidence, change: Partial<NonNullable<ReviewEvidence['pullRequest']>>): ReviewEvidence {
  return { ...evidence, pullRequest: { ...evidence.pullRequest!, ...change } };
}

describe('evaluateReview: the honest path', () => {
  it('accepts a change approved on its merged head by one independent reviewer with write access', () => {
    const result = evaluateReview(honestEvidence(), RULES);
    expect(failed(result)).toEqual([]);
    expect(result.verdict).toBe('pass');
    expect(result.checks.map((c) => c.id)).toEqual([...REVIEW_CHECK_IDS]);
    expect(result.independentApprovers).toEqual([bob]);
    expect(result.approvals).toMatchObject([{ reviewer: bob, counted: true, commitId: HEAD }]);
    for (const c of result.checks) expect(c.reason).not.toBe('');
  });

  it('accepts when the only valid approval is the last of more than 100 reviews', () => {
    const comments = Array.from({ length: 120 }, (_, i) => review(carol, 'COMMENTED', HEAD, i % 50));
    const evidence = honestEvidence({ reviews: [...comments, review(bob, 'APPROVED', HEAD, 59)] });
    expect(evaluateReview(evidence, RULES).verdict).toBe('pass');
  });

  it('keeps an approval standing when the same reviewer only comments afterwards (as GitHub does)', () => {
    const evidence = honestEvidence({
      reviews: [review(bob, 'APPROVED', HEAD, 10), review(bob, 'COMMENTED', HEAD, 20)],
    });
    expect(evaluateReview(evidence, RULES).verdict).toBe('pass');
  });

  it('does not let an extra approval by the author veto an independent approval', () => {
    const evidence = honestEvidence({ reviews: [review(alice, 'APPROVED'), review(bob, 'APPROVED')] });
    const result = evaluateReview(evidence, RULES);
    expect(result.verdict).toBe('pass');
    expect(result.approvals.find((a) => a.reviewer === alice)).toMatchObject({ counted: false });
    expect(check(result, 'reviewer-not-author').reason).toContain('not counted: alice is the author');
  });

  it('does not mistake a stranger with a different name and e-mail for the reviewer', () => {
    const evidence = honestEvidence();
    evidence.commits[1] = {
      ...evidence.commits[1]!,
      coAuthors: [{ name: 'Alice Author', email: 'alice@home.example' }],
    };
    expect(evaluateReview(evidence, RULES).verdict).toBe('pass');
  });

  it('accepts a merge by rebase or merge commit the same way', () => {
    for (const mergeMethod of ['merge', 'rebase'] as const) {
      expect(evaluateReview(withPr(honestEvidence(), { mergeMethod }), RULES).verdict).toBe('pass');
    }
  });
});

describe('evaluateReview refuses', () => {
  it('a commit pushed directly, with no pull request', () => {
    const result = evaluateReview(honestEvidence({ pullRequest: undefined, reviews: [] }), RULES);
    expect(result.verdict).toBe('fail');
    expect(check(result, 'merged-by-pull-request')).toMatchObject({ verdict: 'fail' });
    expect(check(result, 'merged-by-pull-request').reason).toContain(MERGE_COMMIT);
    expect(check(result, 'merged-by-pull-request').reason).toContain('pushed directly?');
    // What reads the pull request is not evaluated without one — never a pass, and not a failure of its own.
    for (const id of ['merged-commit-matches', 'base-is-protected-branch', 'reached-branch-by-merge']) {
      expect(check(result, id)).toEqual({ id, verdict: 'not-evaluated', reason: 'no pull request' });
    }
  });

  it('a pull request whose merge method the API cannot show: the reason is the gap, not a direct push', () => {
    const gap = `pull request #42 (https://github.com/acme/app/pull/42) was merged as ${MERGE_COMMIT} by an unknown merge method: merge commit ${MERGE_COMMIT} has 3 parents`;
    const result = evaluateReview(honestEvidence({ pullRequest: undefined, reviews: [], gaps: [gap] }), RULES);
    expect(result.verdict).toBe('fail');
    expect(failed(result)).toEqual(expect.arrayContaining(['evidence-complete', 'merged-by-pull-request']));
    const reason = check(result, 'merged-by-pull-request').reason;
    expect(reason).toContain(gap);
    expect(reason).toContain('incomplete');
    expect(reason).not.toContain('pushed directly');
  });

  it('a pull request merged as a different commit than the one built', () => {
    const result = evaluateReview(honestEvidence({ commit: 'e'.repeat(40) }), RULES);
    expect(failed(result)).toEqual(['merged-commit-matches']);
    expect(check(result, 'merged-commit-matches').reason).toBe(
      `expected pull request #42 to be merged as the built commit ${'e'.repeat(40)}, found ${MERGE_COMMIT}`,
    );
  });

  it('incomplete evidence (an API failure after retries), with the gap as the reason', () => {
    const gap = 'GET /repos/acme/app/pulls/42/reviews failed after 3 attempts: HTTP 502';
    const result = evaluateReview(honestEvidence({ gaps: [gap] }), RULES);
    expect(failed(result)).toEqual(['evidence-complete']);
    expect(check(result, 'evidence-complete').reason).toContain(gap);
  });

  it('a review with an unreadable submission time (it could not be ordered)', () => {
    const undated = { ...review(bob, 'APPROVED'), submittedAt: 'yesterday' };
    const result = evaluateReview(honestEvidence({ reviews: [undated] }), RULES);
    expect(failed(result)).toContain('evidence-complete');
  });

  it('a pull request approved only by its author', () => {
    const result = evaluateReview(honestEvidence({ reviews: [review(alice, 'APPROVED')] }), RULES);
    expect(result.verdict).toBe('fail');
    expect(failed(result)).toContain('reviewer-not-author');
    expect(failed(result)).toContain('min-independent-approvals');
    expect(check(result, 'reviewer-not-author').reason).toBe('alice is the author of pull request #42');
  });

  it('a self-approval by the author under a differently-cased login', () => {
    const Alice = { ...alice, login: 'Alice' };
    const result = evaluateReview(honestEvidence({ reviews: [review(Alice, 'APPROVED')] }), RULES);
    expect(failed(result)).toContain('reviewer-not-author');
  });

  it('an approval only by someone who authored one of the commits', () => {
    const evidence = honestEvidence({ reviews: [review(carol, 'APPROVED')] });
    const carolPerson = { name: 'Carol', email: 'carol@acme.example', account: carol };
    evidence.commits[0] = { ...evidence.commits[0]!, author: carolPerson, committer: carolPerson };
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['reviewer-not-contributor', 'min-independent-approvals']);
    expect(check(result, 'reviewer-not-contributor').reason).toBe('carol authored commit ccccccc, committed ccccccc');
  });

  it('an approval only by someone who committed one of the commits (a cherry-pick or rebase)', () => {
    const evidence = honestEvidence({ reviews: [review(carol, 'APPROVED')] });
    evidence.commits[0] = { ...evidence.commits[0]!, committer: { name: 'C', email: 'c@x.example', account: carol } };
    expect(failed(evaluateReview(evidence, RULES))).toContain('reviewer-not-contributor');
  });

  it('an approval only by a co-author named in a Co-authored-by trailer with a noreply address', () => {
    const evidence = honestEvidence();
    evidence.commits[1] = {
      ...evidence.commits[1]!,
      coAuthors: [{ name: 'Bobby', email: '202+bobby-renamed@users.noreply.github.com' }],
    };
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['reviewer-not-contributor', 'min-independent-approvals']);
    expect(check(result, 'reviewer-not-contributor').reason).toBe('bob co-authored commit bbbbbbb');
  });

  it('an approval only by a co-author whose email is linked to their account on another commit', () => {
    const evidence = honestEvidence();
    const bobPerson = { name: 'Bob', email: 'Bob@Acme.example', account: bob };
    evidence.commits[0] = { ...evidence.commits[0]!, committer: bobPerson };
    evidence.commits[1] = { ...evidence.commits[1]!, coAuthors: [{ name: 'B.', email: 'bob@acme.example' }] };
    const reason = check(evaluateReview(evidence, RULES), 'reviewer-not-contributor').reason;
    expect(reason).toBe('bob committed ccccccc, co-authored commit bbbbbbb');
  });

  it('an approval by someone who wrote a commit under an email not linked to any account', () => {
    const evidence = honestEvidence();
    evidence.commits[0] = {
      ...evidence.commits[0]!,
      author: { name: 'Anonymous', email: 'unlinked@example.org' },
    };
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['contributors-identified']);
    expect(check(result, 'contributors-identified').reason).toContain('"Anonymous <unlinked@example.org>"');
  });

  it('an approval by someone whose commit carries a login@users.noreply… address GitHub linked to no account (from before a rename)', () => {
    const evidence = honestEvidence();
    evidence.commits[0] = {
      ...evidence.commits[0]!,
      author: { name: 'Robert B.', email: 'bobby@users.noreply.github.com' },
    };
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['contributors-identified']);
    expect(check(result, 'contributors-identified').reason).toContain(
      '"Robert B. <bobby@users.noreply.github.com>" has no GitHub account',
    );
  });

  it('even when an account in the evidence now holds that login (a sock puppet took bob’s freed login and commented)', () => {
    const puppet = { login: 'bobby', id: 999_999, type: 'User' };
    const evidence = honestEvidence();
    evidence.commits[0] = {
      ...evidence.commits[0]!,
      author: { name: 'Robert B.', email: 'bobby@users.noreply.github.com' },
    };
    evidence.reviews = [review(puppet, 'COMMENTED', undefined, 5), ...evidence.reviews];
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['contributors-identified']);
    expect(check(result, 'contributors-identified').reason).toContain(
      '"Robert B. <bobby@users.noreply.github.com>" has no GitHub account',
    );
  });

  it('but counts a noreply address of the ID+login form as identified (by its id), and a login-form one GitHub linked', () => {
    // carol (id 303) is in the evidence (a profile): her ID+login address, whatever login it carries, is hers.
    const byId = honestEvidence();
    byId.commits[0] = {
      ...byId.commits[0]!,
      author: { name: 'A. Author', email: `${carol.id}+someone@users.noreply.github.com` },
    };
    expect(evaluateReview(byId, RULES).verdict).toBe('pass');
    // A commit's author GitHub linked to no account under an id no account of the evidence has: anyone may write one
    // (GitHub links an existing account's), so it identifies nobody.
    const byUnknownId = honestEvidence();
    byUnknownId.commits[0] = {
      ...byUnknownId.commits[0]!,
      author: { name: 'A. Author', email: '999999999+nobody@users.noreply.github.com' },
    };
    expect(failed(evaluateReview(byUnknownId, RULES))).toEqual(['contributors-identified']);
    // In a co-author's trailer (GitHub links none) an ID+login address is that id's, whoever it is: no approver's.
    const trailer = honestEvidence();
    trailer.commits[0] = {
      ...trailer.commits[0]!,
      coAuthors: [{ name: 'Someone', email: '999999999+nobody@users.noreply.github.com' }],
    };
    expect(evaluateReview(trailer, RULES).verdict).toBe('pass');
    const linked = honestEvidence();
    linked.commits[0] = {
      ...linked.commits[0]!,
      author: { name: 'A. Author', email: 'alice@users.noreply.github.com', account: alice },
    };
    expect(evaluateReview(linked, RULES).verdict).toBe('pass');
    // Unlinked, the login form identifies nobody, though alice is in the evidence: it may be another's old address.
    const unlinked = honestEvidence();
    unlinked.commits[0] = {
      ...unlinked.commits[0]!,
      author: { name: 'A. Author', email: 'alice@users.noreply.github.com' },
    };
    expect(failed(evaluateReview(unlinked, RULES))).toEqual(['contributors-identified']);
    // The ID+login form is bob's by his id, whatever login it carries: bob is then a contributor.
    const evidence = honestEvidence();
    evidence.commits[0] = {
      ...evidence.commits[0]!,
      author: { name: 'R', email: `${bob.id}+bobby@users.noreply.github.com` },
    };
    expect(failed(evaluateReview(evidence, RULES))).toEqual(['reviewer-not-contributor', 'min-independent-approvals']);
  });

  it('an activity feed whose last push to the head branch did not make the merged head (the push that did is missing)', () => {
    // GitHub does not say the feed is complete or immediate: if the push that made the head is not in it, the push
    // before it is not the last one, and neither who pushed last nor when can be read from it.
    const evidence = honestEvidence();
    const feed = honestActivity();
    feed.headPushes = feed.headPushes.slice(0, 1); // only alice's push of FIRST_COMMIT
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(
      expect.arrayContaining(['reviewer-not-last-pusher', 'approval-on-merged-head', 'min-independent-approvals']),
    );
    expect(check(result, 'reviewer-not-last-pusher').reason).toContain(
      `did not make the merged head ${HEAD.slice(0, 7)}: the push that did is not in the feed`,
    );
    // Two entries of one second, in whichever order GitHub lists them: the one that made the head is the last push.
    const sameSecond = honestEvidence();
    const both = honestActivity();
    const [first, made] = both.headPushes as [RefActivity, RefActivity];
    both.headPushes = [made, { ...first, id: 7003, timestamp: made.timestamp }];
    sameSecond.activity = both;
    expect(evaluateReview(sameSecond, RULES).verdict).toBe('pass');
  });

  it('an approval after a push by a bot (github-actions[bot]: any writer’s workflow) to the head branch', () => {
    const actions = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
    const evidence = honestEvidence();
    const feed = honestActivity();
    feed.headPushes.push(
      activity('push', actions, { ref: 'refs/heads/widget', after: HEAD, timestamp: '2026-11-20T11:45:00Z' }),
    );
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['contributors-identified']);
    expect(check(result, 'contributors-identified').reason).toContain(
      'the push to refs/heads/widget at 2026-11-20T11:45:00Z was made by github-actions[bot], a bot, so whoever had it push',
    );
    // Listing the bot does not help github-actions[bot] (the policy refuses to list it); it does for another bot.
    feed.headPushes.push(
      activity('push', dependabot, { ref: 'refs/heads/widget', after: HEAD, timestamp: '2026-11-20T11:46:00Z' }),
    );
    const listed = evaluateReview(evidence, { ...RULES, botPushers: ['dependabot[bot]'] });
    expect(check(listed, 'contributors-identified').reason).not.toContain('dependabot[bot]');
    expect(check(listed, 'contributors-identified').reason).toContain('github-actions[bot]');
    feed.headPushes.splice(-2, 1);
    expect(evaluateReview(evidence, { ...RULES, botPushers: ['Dependabot[bot]'] }).verdict).toBe('pass');
    expect(failed(evaluateReview(evidence, RULES))).toEqual(['contributors-identified']);
  });

  it('an approval given before the last push (on a commit that is not the merged head)', () => {
    const result = evaluateReview(honestEvidence({ reviews: [review(bob, 'APPROVED', OLD_HEAD)] }), RULES);
    expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(result, 'approval-on-merged-head').reason).toBe(
      'bob approved ddddddd, not the merged head bbbbbbb (given before the last push)',
    );
  });

  it('nothing when the policy does not require approval on the head (require-approval-on-head: false)', () => {
    const evidence = honestEvidence({ reviews: [review(bob, 'APPROVED', OLD_HEAD)] });
    expect(evaluateReview(evidence, { ...RULES, requireApprovalOnHead: false }).verdict).toBe('pass');
  });

  it('an approval that was dismissed', () => {
    const result = evaluateReview(honestEvidence({ reviews: [review(bob, 'DISMISSED')] }), RULES);
    expect(failed(result)).toContain('latest-review-per-reviewer');
    expect(failed(result)).toContain('min-independent-approvals');
    expect(result.approvals).toMatchObject([{ reviewer: bob, counted: false, state: 'DISMISSED' }]);
    expect(result.approvals[0]!.reason).toContain('dismissed');
  });

  it('an approval followed by "changes requested" from the same reviewer', () => {
    const evidence = honestEvidence({
      reviews: [review(bob, 'CHANGES_REQUESTED', HEAD, 30), review(bob, 'APPROVED', HEAD, 20)],
    });
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toContain('latest-review-per-reviewer');
    expect(failed(result)).toContain('changes-requested');
    expect(result.approvals[0]!.reason).toContain('superseded by the reviewer');
    // Even where "changes requested" does not block, it still cancels that reviewer's own approval.
    const lenient = evaluateReview(evidence, { ...RULES, changesRequestedBlocks: false });
    expect(failed(lenient)).toContain('latest-review-per-reviewer');
    expect(lenient.verdict).toBe('fail');
  });

  it('orders reviews submitted in the same second by id, so the later "changes requested" wins', () => {
    const approved = review(bob, 'APPROVED', HEAD, 10);
    const changes = { ...review(bob, 'CHANGES_REQUESTED', HEAD, 10), id: approved.id + 1 };
    expect(evaluateReview(honestEvidence({ reviews: [changes, approved] }), RULES).verdict).toBe('fail');
  });

  it('another reviewer\'s outstanding "changes requested" (changes-requested-blocks)', () => {
    const evidence = honestEvidence({ reviews: [review(bob, 'APPROVED'), review(carol, 'CHANGES_REQUESTED')] });
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['changes-requested']);
    expect(check(result, 'changes-requested').reason).toContain('carol');
    expect(evaluateReview(evidence, { ...RULES, changesRequestedBlocks: false }).verdict).toBe('pass');
  });

  it('an approval only by a bot', () => {
    const result = evaluateReview(honestEvidence({ reviews: [review(dependabot, 'APPROVED')] }), RULES);
    expect(failed(result)).toEqual(['reviewer-not-bot', 'min-independent-approvals']);
    const app = { login: 'renovate[bot]', id: 29139614, type: 'User' };
    const evidence = honestEvidence({ reviews: [review(app, 'APPROVED')], permissions: { 'renovate[bot]': 'write' } });
    expect(failed(evaluateReview(evidence, RULES))).toContain('reviewer-not-bot');
  });

  it('nothing when the policy counts bots (allow-bots: true)', () => {
    const evidence = honestEvidence({ reviews: [review(dependabot, 'APPROVED')] });
    expect(evaluateReview(evidence, { ...RULES, allowBots: true }).verdict).toBe('pass');
  });

  it('an approval only by the last pusher, named by the activity feed', () => {
    const evidence = honestEvidence({ reviews: [review(carol, 'APPROVED')] });
    const feed = honestActivity();
    feed.headPushes.push(
      activity('push', carol, { ref: 'refs/heads/widget', after: HEAD, timestamp: '2026-11-20T11:45:00Z' }),
    );
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual([
      'reviewer-not-contributor',
      'reviewer-not-last-pusher',
      'min-independent-approvals',
    ]);
    expect(check(result, 'reviewer-not-last-pusher').reason).toBe(
      'carol is the last pusher (push by carol at 2026-11-20T11:45:00Z, from the activity feed)',
    );
    expect(check(result, 'reviewer-not-contributor').reason).toBe(
      'carol pushed to refs/heads/widget at 2026-11-20T11:45:00Z',
    );
  });

  it('an approval by someone who pushed to the head branch earlier, under commits authored by someone else', () => {
    const evidence = honestEvidence();
    const feed = honestActivity();
    feed.headPushes.splice(
      1,
      0,
      activity('push', bob, { ref: 'refs/heads/widget', timestamp: '2026-11-20T11:10:00Z' }),
    );
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['reviewer-not-contributor', 'min-independent-approvals']);
  });

  it('an approval only by the last pusher, guessed from a force push when the policy accepts the fallback', () => {
    const evidence = honestEvidence({
      reviews: [review(carol, 'APPROVED')],
      activity: { available: false, reason: 'GET /repos/acme/app/activity: HTTP 403' },
      lastPush: { accounts: [carol], people: [], source: 'head_ref_force_pushed' },
    });
    const lenient = { ...RULES, allowActivityFallback: true };
    const result = evaluateReview(evidence, lenient);
    expect(failed(result)).toEqual(['reviewer-not-last-pusher', 'min-independent-approvals']);
    expect(check(result, 'reviewer-not-last-pusher').reason).toBe(
      'carol is the last pusher (force-pushed the head branch last; fallback, as the activity feed could not answer: GET /repos/acme/app/activity: HTTP 403)',
    );
  });

  it("an approval only by the last pusher identified by the head commit's noreply email (fallback)", () => {
    const pusher = { name: 'Carol', email: 'carol@users.noreply.github.com' };
    const evidence = honestEvidence({
      reviews: [review(carol, 'APPROVED')],
      activity: { available: false, reason: 'HTTP 404' },
      lastPush: { accounts: [], people: [pusher], source: 'head-commit' },
    });
    expect(failed(evaluateReview(evidence, { ...RULES, allowActivityFallback: true }))).toContain(
      'reviewer-not-last-pusher',
    );
  });

  it('an approval when nobody can tell who pushed last (fallback accepted, but nothing to go on)', () => {
    const evidence = honestEvidence({
      activity: { available: false, reason: 'HTTP 404' },
      lastPush: { accounts: [], people: [], source: 'head-commit' },
    });
    expect(failed(evaluateReview(evidence, { ...RULES, allowActivityFallback: true }))).toEqual([
      'reviewer-not-last-pusher',
      'min-independent-approvals',
    ]);
  });

  it('an approval only by an outsider with no write access (a sock-puppet account)', () => {
    const result = evaluateReview(honestEvidence({ reviews: [review(mallory, 'APPROVED')] }), RULES);
    expect(failed(result)).toEqual(['reviewer-has-write-access', 'min-independent-approvals']);
    expect(check(result, 'reviewer-has-write-access').reason).toBe(
      'mallory has read permission on acme/app, expected write, maintain or admin',
    );
  });

  it('an approval by a reviewer whose permission could not be read', () => {
    const stranger = { login: 'stranger', id: 505, type: 'User' };
    const result = evaluateReview(honestEvidence({ reviews: [review(stranger, 'APPROVED')] }), RULES);
    expect(failed(result)).toContain('reviewer-has-write-access');
    expect(check(result, 'reviewer-has-write-access').reason).toContain('unknown');
  });

  it('fewer independent approvals than min-approvals', () => {
    const evidence = honestEvidence({ reviews: [review(bob, 'APPROVED'), review(mallory, 'APPROVED')] });
    const result = evaluateReview(evidence, { ...RULES, minApprovals: 2 });
    expect(failed(result)).toEqual(['min-independent-approvals']);
    expect(check(result, 'min-independent-approvals').reason).toContain('expected at least 2, found 1');
    const two = honestEvidence({ reviews: [review(bob, 'APPROVED'), review(carol, 'APPROVED')] });
    expect(evaluateReview(two, { ...RULES, minApprovals: 2 }).verdict).toBe('pass');
  });

  it('a pull request with no reviews at all', () => {
    const result = evaluateReview(honestEvidence({ reviews: [] }), RULES);
    expect(failed(result)).toContain('min-independent-approvals');
    expect(failed(result)).toContain('latest-review-per-reviewer');
  });
});

// ── issue 11: no one ships alone ────────────────────────────────────────────────────────────────────────────

describe('evaluateReview knows who the people are', () => {
  it("refuses a co-author named only by e-mail and name: bob's public profile e-mail", () => {
    const evidence = honestEvidence();
    evidence.commits[1] = { ...evidence.commits[1]!, coAuthors: [{ name: 'Robert', email: 'BOB@acme.example' }] };
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['reviewer-not-contributor', 'min-independent-approvals']);
    expect(check(result, 'reviewer-not-contributor').reason).toBe('bob co-authored commit bbbbbbb');
  });

  it("refuses a co-author named only by bob's profile name (after normalisation)", () => {
    const evidence = honestEvidence();
    evidence.commits[1] = {
      ...evidence.commits[1]!,
      coAuthors: [{ name: '  BOB   Builder ', email: 'someone-else@example.org' }],
    };
    const result = evaluateReview(evidence, RULES);
    expect(check(result, 'reviewer-not-contributor')).toMatchObject({
      verdict: 'fail',
      reason: 'bob co-authored commit bbbbbbb',
    });
    expect(normaliseName('Bøb Bůilder')).toBe('bøb builder');
    expect(normaliseName('Ｂｏｂ  Builder')).toBe('bob builder');
  });

  it("refuses a commit whose author name is the reviewer's login, though the e-mail is unlinked", () => {
    const evidence = honestEvidence();
    evidence.commits[0] = { ...evidence.commits[0]!, author: { name: 'bob', email: 'laptop@local' } };
    const result = evaluateReview(evidence, RULES);
    expect(check(result, 'reviewer-not-contributor').reason).toBe('bob authored commit ccccccc');
  });

  it('refuses a co-author trailer of the squash commit itself', () => {
    const evidence = honestEvidence({ mergeCommitCoAuthors: [{ name: 'Bob Builder', email: 'bob@acme.example' }] });
    const result = evaluateReview(evidence, RULES);
    expect(check(result, 'reviewer-not-contributor').reason).toBe('bob co-authored the merge commit aaaaaaa');
  });

  it('refuses a co-author that matches no account, saying how to allow it; allows it when the policy says so', () => {
    const evidence = honestEvidence();
    evidence.commits[1] = {
      ...evidence.commits[1]!,
      coAuthors: [{ name: 'Pat Pair', email: 'pat@elsewhere.example' }],
    };
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['contributors-identified']);
    const reason = check(result, 'contributors-identified').reason;
    expect(reason).toContain('"Pat Pair <pat@elsewhere.example>" of bbbbbbb');
    expect(reason).toContain('review.unidentified-co-authors: allow');
    const allowed = evaluateReview(evidence, { ...RULES, unidentifiedCoAuthors: 'allow' });
    expect(allowed.verdict).toBe('pass');
    expect(check(allowed, 'contributors-identified').reason).toContain('"Pat Pair <pat@elsewhere.example>"');
  });

  it('refuses a co-author named like the profile of a reviewer without write access (a decoy), not taking it as the decoy', () => {
    // bob paired on alice's change (her trailer names him as his git config does, an e-mail he keeps private), then
    // renamed his profile; mallory (read access, a second account of his or anyone's) took the trailer's name on her
    // profile and approved. The trailer was "identified" as mallory, and bob's approval counted as independent.
    const evidence = honestEvidence({ reviews: [review(bob, 'APPROVED'), review(mallory, 'APPROVED')] });
    evidence.commits[1] = {
      ...evidence.commits[1]!,
      coAuthors: [{ name: 'Bob Builder', email: 'bob@home.example' }],
    };
    evidence.profiles = [
      { account: alice, name: 'Alice Author' },
      { account: bob, name: 'Robert' },
      { account: mallory, name: 'Bob Builder' },
    ];
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['contributors-identified']);
    expect(check(result, 'contributors-identified').reason).toContain('"Bob Builder <bob@home.example>" of bbbbbbb');
    // The same with bob's address: he removed it from his account and verified it, public, on mallory's. GitHub
    // vouches that mallory's holder controls it, which is bob: it identifies nobody either.
    const byEmail = structuredClone(evidence);
    byEmail.profiles = [
      { account: bob, name: 'Robert' },
      { account: mallory, name: 'M', email: 'bob@home.example' },
    ];
    expect(failed(evaluateReview(byEmail, RULES))).toEqual(['contributors-identified']);
    // A reviewer with write access named so is that person as far as the rules can tell (a second account with write
    // access is the org's to prevent: docs/threat-model.md, row 99): then it is the co-author, never independent.
    const byWriter = structuredClone(evidence);
    byWriter.reviews = [review(bob, 'APPROVED'), review(carol, 'APPROVED')];
    byWriter.profiles = [
      { account: bob, name: 'Robert' },
      { account: carol, name: 'Bob Builder' },
    ];
    const judged = evaluateReview(byWriter, RULES);
    expect(judged.verdict).toBe('pass');
    expect(judged.approvals.find((a) => a.reviewer.login === 'carol')).toMatchObject({ counted: false });
  });

  it('lets a listed non-human co-author neither refuse nor count', () => {
    const evidence = honestEvidence();
    evidence.commits[1] = {
      ...evidence.commits[1]!,
      coAuthors: [{ name: 'Coding Assistant', email: 'Assistant@Tools.example' }],
    };
    expect(failed(evaluateReview(evidence, RULES))).toEqual(['contributors-identified']);
    expect(evaluateReview(evidence, { ...RULES, nonHumanCoAuthors: ['assistant@tools.example'] }).verdict).toBe('pass');
  });

  it('refuses an approver whose profile was never read (an attestation from before profiles were collected)', () => {
    const evidence = honestEvidence({ profiles: PROFILES.filter((p) => p.account.login !== 'bob') });
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['reviewer-not-contributor', 'min-independent-approvals']);
    expect(check(result, 'reviewer-not-contributor').reason).toContain("bob's GitHub profile");
  });
});

describe('evaluateReview judges the review as of the merge', () => {
  it('refuses an approval given after the merge', () => {
    const late = { ...review(bob, 'APPROVED'), submittedAt: '2026-11-20T14:00:00Z' };
    const result = evaluateReview(honestEvidence({ reviews: [late] }), RULES);
    expect(failed(result)).toEqual([
      'latest-review-per-reviewer',
      'approval-before-merge',
      'min-independent-approvals',
    ]);
    expect(check(result, 'approval-before-merge').reason).toBe(
      'bob approved at 2026-11-20T14:00:00Z, after the merge at 2026-11-20T13:00:00Z: an approval given after the merge never counts',
    );
    expect(result.approvals).toMatchObject([{ reviewer: bob, counted: false }]);
  });

  it('refuses a second required approval given after the merge (min-approvals: 2)', () => {
    const late = { ...review(carol, 'APPROVED'), submittedAt: '2026-11-20T13:00:01Z' };
    const result = evaluateReview(honestEvidence({ reviews: [review(bob, 'APPROVED'), late] }), {
      ...RULES,
      minApprovals: 2,
    });
    expect(failed(result)).toEqual(['min-independent-approvals']);
    expect(check(result, 'min-independent-approvals').reason).toContain(
      'carol approved at 2026-11-20T13:00:01Z, after the merge',
    );
  });

  it('refuses an approval given after the built commit reached the branch, even before the recorded merge time', () => {
    const evidence = honestEvidence({ reviews: [{ ...review(bob, 'APPROVED'), submittedAt: '2026-11-20T12:50:00Z' }] });
    const feed = honestActivity();
    feed.builtCommitArrivals = [activity('pr_merge', bob, { timestamp: '2026-11-20T12:40:00Z' })];
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(check(result, 'approval-before-merge').reason).toContain(
      'after aaaaaaa reached refs/heads/main at 2026-11-20T12:40:00Z',
    );
  });

  it('ignores a "changes requested" given after the merge (it cannot have been about what was merged)', () => {
    const later = { ...review(carol, 'CHANGES_REQUESTED'), submittedAt: '2026-11-21T09:00:00Z' };
    expect(evaluateReview(honestEvidence({ reviews: [review(bob, 'APPROVED'), later] }), RULES).verdict).toBe('pass');
  });
});

describe('evaluateReview knows how the commit reached the branch', () => {
  it('refuses a pull request into another branch than the one the build ran on, naming both', () => {
    const result = evaluateReview(withPr(honestEvidence(), { baseRef: 'alice-scratch' }), RULES);
    expect(check(result, 'base-is-protected-branch')).toMatchObject({
      verdict: 'fail',
      reason:
        'expected pull request #42 to be merged into main, the branch the build ran on; its base is alice-scratch',
    });
  });

  it('refuses a build on a branch the policy does not protect; accepts a protected glob', () => {
    const evidence = withPr(honestEvidence({ builtRef: 'refs/heads/release/1.2' }), { baseRef: 'release/1.2' });
    const feed = honestActivity();
    feed.builtCommitArrivals = [activity('pr_merge', bob, { ref: 'refs/heads/release/1.2' })];
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['base-is-protected-branch']);
    expect(check(result, 'base-is-protected-branch').reason).toContain("the repository's default branch (main)");
    const released = { ...RULES, protectedBranches: ['main', 'release/*'], allowNonDefaultBranches: true };
    expect(evaluateReview(evidence, released).verdict).toBe('pass');
  });

  it('refuses a build of a protected branch other than the default one unless the policy accepts them (a branch any writer creates)', () => {
    // alice pushes her commit F as a new branch release/9.9 (a name release/* matches: no pull request creates a
    // branch), opens a one-line pull request into it, bob approves what it shows, she merges: the built commit holds F.
    const evidence = withPr(honestEvidence({ builtRef: 'refs/heads/release/9.9' }), { baseRef: 'release/9.9' });
    const feed = honestActivity();
    feed.builtCommitArrivals = [activity('pr_merge', alice, { ref: 'refs/heads/release/9.9' })];
    evidence.activity = feed;
    const rules = { ...RULES, protectedBranches: ['main', 'release/*'] };
    const result = evaluateReview(evidence, rules);
    expect(failed(result)).toEqual(['base-is-protected-branch']);
    expect(check(result, 'base-is-protected-branch').reason).toContain(
      "pull request #42 was merged into release/9.9, which is not the repository's default branch (main)",
    );
    expect(check(result, 'base-is-protected-branch').reason).toContain('review.allow-non-default-branches: true');
    // A branch the policy names and the repository lacks (develop) is anyone's to create too.
    const develop = withPr(honestEvidence({ builtRef: 'refs/heads/develop' }), { baseRef: 'develop' });
    develop.activity = { ...feed, builtCommitArrivals: [activity('pr_merge', alice, { ref: 'refs/heads/develop' })] };
    expect(failed(evaluateReview(develop, { ...RULES, protectedBranches: ['main', 'develop'] }))).toEqual([
      'base-is-protected-branch',
    ]);
    // Evidence that does not say which branch is the default one: refused too.
    const unknown = { ...evidence, defaultBranch: undefined };
    expect(failed(evaluateReview(unknown, rules))).toEqual(['base-is-protected-branch']);
    // The organisation that restricts creating those branches accepts them; main's builds never needed it.
    expect(evaluateReview(evidence, { ...rules, allowNonDefaultBranches: true }).verdict).toBe('pass');
    expect(evaluateReview(honestEvidence(), rules).verdict).toBe('pass');
  });

  it('refuses evidence that does not record the branch the build ran on', () => {
    const result = evaluateReview(honestEvidence({ builtRef: undefined }), RULES);
    expect(failed(result)).toContain('base-is-protected-branch');
  });

  it("refuses the pull request's merge commit pushed to the branch directly", () => {
    const evidence = honestEvidence();
    const feed = honestActivity();
    feed.builtCommitArrivals = [activity('push', alice, { timestamp: '2026-11-20T13:05:00Z' })];
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['reached-branch-by-merge']);
    expect(check(result, 'reached-branch-by-merge').reason).toContain(
      'pushed to refs/heads/main directly: push by alice',
    );
  });

  it('refuses a force push of the built commit even when a merge also brought it', () => {
    const evidence = honestEvidence();
    const feed = honestActivity();
    feed.builtCommitArrivals.push(activity('force_push', mallory, { timestamp: '2026-11-20T15:00:00Z' }));
    evidence.activity = feed;
    expect(failed(evaluateReview(evidence, RULES))).toEqual(['reached-branch-by-merge']);
  });

  it('accepts a merge queue merge', () => {
    const evidence = honestEvidence();
    const feed = honestActivity();
    feed.builtCommitArrivals = [activity('merge_queue_merge', bob)];
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(result.verdict).toBe('pass');
    expect(check(result, 'reached-branch-by-merge').reason).toContain('merge_queue_merge by bob');
  });

  it('refuses when the activity feed could not answer, saying how to accept the fallback; accepts it when allowed', () => {
    const evidence = honestEvidence({
      activity: {
        available: false,
        reason: 'GET /repos/acme/app/activity: HTTP 403 (Resource not accessible by integration)',
      },
      lastPush: { accounts: [alice], people: [alicePerson], source: 'head-commit' },
    });
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual([
      'reached-branch-by-merge',
      'reviewer-not-last-pusher',
      'min-independent-approvals',
    ]);
    expect(check(result, 'reached-branch-by-merge').reason).toContain('review.allow-activity-fallback: true');
    expect(check(result, 'reached-branch-by-merge').reason).toContain('HTTP 403');
    expect(evaluateReview(evidence, { ...RULES, allowActivityFallback: true }).verdict).toBe('pass');
  });

  it('refuses evidence recorded without the activity feed (an attestation signed under the old rules)', () => {
    const evidence = honestEvidence({ activity: undefined });
    expect(failed(evaluateReview(evidence, RULES))).toEqual([
      'reached-branch-by-merge',
      'reviewer-not-last-pusher',
      'min-independent-approvals',
    ]);
  });
});

describe('evaluateReview: what was approved is what was merged', () => {
  it('refuses an approval of the merged head when the evidence does not say whether the base was changed (an attestation signed before it was recorded)', () => {
    const evidence = honestEvidence();
    delete evidence.pullRequest!.baseChanges;
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(result, 'approval-on-merged-head').reason).toContain(
      "whether the pull request's base was changed since is not in the evidence (a review attestation signed before twokey recorded it): sign the change again",
    );
  });

  it('refuses an approval given before the pull request was retargeted to the protected branch', () => {
    const evidence = withPr(created(honestEvidence()), {
      baseChanges: [{ at: '2026-11-20T12:30:00Z', actor: alice }],
    });
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(result, 'approval-on-merged-head').reason).toContain(
      "alice changed the pull request's base at 2026-11-20T12:30:00Z, and the merged head was first pushed before it: an approval names the head it approved, never the base",
    );
  });

  it('refuses an approval given after a retarget too, however long after, unless the head was pushed after it', () => {
    // alice retargeted the pull request from her unprotected branch to main while bob read the diff against it; bob
    // approved after the change (a second, or ten minutes: reading takes that long). Nothing tells which diff he saw.
    // The merged head was pushed at 11:30:30 (honestActivity), before each of these changes.
    for (const at of ['2026-11-20T12:09:59Z', '2026-11-20T12:00:00Z', '2026-11-20T11:31:00Z']) {
      const after = withPr(created(honestEvidence()), { baseChanges: [{ at, actor: alice }] });
      const result = evaluateReview(after, RULES);
      expect(failed(result), at).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
      expect(check(result, 'approval-on-merged-head').reason).toContain(
        `alice changed the pull request's base at ${at}, and the merged head was first pushed before it: an approval names the head it approved, never the base, so only an approval of a head first pushed at least 30 s after the change shows it was of the diff against main`,
      );
      expect(check(result, 'approval-on-merged-head').reason).toMatch(
        /push the head again and approve it, or open a new pull request against main$/,
      );
    }
  });

  it('counts an approval of a head pushed at least min-seconds-after-push after the retarget (the page shows the new diff)', () => {
    // A reviewer's page opened before that push shows, and its form approves, the head before it: an approval of the
    // merged head is of a page opened after the change.
    const pushedAfter = withPr(created(honestEvidence()), {
      baseChanges: [{ at: '2026-11-20T11:30:00Z', actor: alice }],
    });
    expect(evaluateReview(pushedAfter, RULES).verdict).toBe('pass');
    const stacked = withPr(created(honestEvidence()), {
      baseChanges: [{ at: '2026-11-20T11:29:00Z', actor: alice, automatic: true }],
    });
    expect(evaluateReview(stacked, RULES).verdict).toBe('pass');
    // 20 s: not long enough (review.min-seconds-after-push, 30 by default); in the change's own second, never.
    const soon = withPr(created(honestEvidence()), { baseChanges: [{ at: '2026-11-20T11:30:10Z', actor: alice }] });
    expect(check(evaluateReview(soon, RULES), 'approval-on-merged-head').reason).toContain(
      'the merged head was first pushed 20 s after it',
    );
    const sameSecond = withPr(created(honestEvidence()), {
      baseChanges: [{ at: '2026-11-20T11:30:30Z', actor: alice }],
    });
    const zero = { ...RULES, minSecondsAfterPush: 0 };
    expect(check(evaluateReview(sameSecond, zero), 'approval-on-merged-head').reason).toContain(
      'the merged head was first pushed 0 s after it',
    );
  });

  it('refuses an approval of a head pushed away and back after the retarget: the page opened before it shows that head', () => {
    // bob opened the pull request at 11:40 (head HEAD, base feature); alice retargeted it at 11:45, pushed another
    // commit at 11:46 and force-pushed HEAD back at 11:47; bob's page still shows HEAD, and his approval names it.
    const evidence = withPr(created(honestEvidence()), { baseChanges: [{ at: '2026-11-20T11:45:00Z', actor: alice }] });
    const feed = evidence.activity as Extract<ReviewEvidence['activity'], { available: true }>;
    feed.headPushes.push(
      activity('push', alice, { ref: 'refs/heads/widget', after: 'c'.repeat(40), timestamp: '2026-11-20T11:46:00Z' }),
      activity('force_push', alice, { ref: 'refs/heads/widget', after: HEAD, timestamp: '2026-11-20T11:47:00Z' }),
    );
    const result = evaluateReview(evidence, RULES);
    expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(result, 'approval-on-merged-head').reason).toContain(
      "alice changed the pull request's base at 2026-11-20T11:45:00Z, and the merged head was first pushed before it",
    );
  });

  it('without the activity feed, counts no approval after a retarget (no push can be shown after it)', () => {
    const evidence = withPr(honestEvidence({ activity: { available: false, reason: 'no feed' } }), {
      baseChanges: [{ at: '2026-11-20T11:00:00Z', actor: alice }],
    });
    const result = evaluateReview(evidence, { ...RULES, allowActivityFallback: true });
    expect(check(result, 'approval-on-merged-head').verdict).toBe('fail');
    expect(check(result, 'approval-on-merged-head').reason).toContain(
      'no push of the merged head is in the evidence (no activity feed)',
    );
  });

  it("refuses one after GitHub's own retarget of a stacked pull request, which follows a deletion the author times", () => {
    const stacked = withPr(created(honestEvidence()), {
      baseChanges: [{ at: '2026-11-20T11:45:00Z', actor: alice, automatic: true }],
    });
    const result = evaluateReview(stacked, RULES);
    expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(result, 'approval-on-merged-head').reason).toContain(
      "GitHub changed the pull request's base at 2026-11-20T11:45:00Z (moving a stacked pull request onto main when its base branch was deleted, by alice), and the merged head was first pushed before it",
    );
  });

  it("refuses after a retarget when the activity feed does not reach back to the head branch's creation", () => {
    // alice's fork copied `widget` at HEAD when it was made: its feed has no entry of it. She retargeted, pushed
    // another commit and force-pushed HEAD back: HEAD's first entry in the feed is after the change, though bob's
    // page, opened before it, showed HEAD.
    const evidence = withPr(honestEvidence(), { baseChanges: [{ at: '2026-11-20T11:10:00Z', actor: alice }] });
    const feed = evidence.activity as Extract<ReviewEvidence['activity'], { available: true }>;
    feed.headPushes = [
      activity('push', alice, { ref: 'refs/heads/widget', after: 'c'.repeat(40), timestamp: '2026-11-20T11:20:00Z' }),
      activity('force_push', alice, { ref: 'refs/heads/widget', after: HEAD, timestamp: '2026-11-20T11:30:30Z' }),
    ];
    const reason = check(evaluateReview(evidence, RULES), 'approval-on-merged-head').reason;
    expect(reason).toContain(
      "the activity feed does not reach back to the head branch's creation before the pull request was opened",
    );
    // A creation after the pull request was opened (the branch deleted and made again) does not reach back either.
    feed.headPushes.unshift(
      activity('branch_creation', alice, {
        ref: 'refs/heads/widget',
        after: 'd'.repeat(40),
        timestamp: '2026-11-20T11:05:00Z',
      }),
    );
    expect(check(evaluateReview(evidence, RULES), 'approval-on-merged-head').reason).toContain(
      "the activity feed does not reach back to the head branch's creation",
    );
    // From a creation before it was opened, HEAD's first push is after the change: counted.
    feed.headPushes[0] = activity('branch_creation', alice, {
      ref: 'refs/heads/widget',
      after: 'd'.repeat(40),
      timestamp: '2026-11-20T11:00:00Z',
    });
    expect(evaluateReview(evidence, RULES).verdict).toBe('pass');
  });

  it('counts approvals of a pull request whose base never changed (an empty list)', () => {
    expect(evaluateReview(withPr(honestEvidence(), { baseChanges: [] }), RULES).verdict).toBe('pass');
  });
});

describe('evaluateReview: a pull request reopened after its last push', () => {
  // alice closed her pull request, pushed HEAD to its branch at 11:30:30 (honestActivity) while it was closed, and
  // reopened it: its head moved to HEAD then, not at the push. bob had read the head before and ran
  // `gh pr review --approve`, which names no commit, just after the reopening: it was recorded on HEAD.
  const reopenedAt = (at: string) => withPr(honestEvidence(), { reopens: [{ at, actor: alice }] });

  it('refuses an approval within min-seconds-after-push of the reopening, however long after the push', () => {
    const result = evaluateReview(reopenedAt('2026-11-20T12:09:50Z'), RULES);
    expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(result, 'approval-on-merged-head').reason).toBe(
      "bob approved the merged head bbbbbbb at 2026-11-20T12:10:00.000Z, 10 s after alice reopened the pull request at 2026-11-20T12:09:50Z: reopened, a pull request's head moves to what was pushed while it was closed, and an approval that soon after may be of the head before it; approve again (review.min-seconds-after-push: 30)",
    );
    expect(
      check(evaluateReview(reopenedAt('2026-11-20T12:10:00Z'), RULES), 'approval-on-merged-head').reason,
    ).toContain('in the same second as alice reopened the pull request');
  });

  it('counts one long enough after it, one given before it, and ignores a reopening before the last push', () => {
    expect(evaluateReview(reopenedAt('2026-11-20T12:09:00Z'), RULES).verdict).toBe('pass');
    // Approved at 12:10 on HEAD, closed and reopened later without a push: the head was HEAD all along.
    expect(evaluateReview(reopenedAt('2026-11-20T12:20:00Z'), RULES).verdict).toBe('pass');
    // Reopened at 11:20, HEAD pushed at 11:30:30 while it was open: the push's own margin applies.
    expect(evaluateReview(reopenedAt('2026-11-20T11:20:00Z'), RULES).verdict).toBe('pass');
  });

  it('refuses an approval after a reopening at an unreadable time (found by the review of this rule)', () => {
    expect(check(evaluateReview(reopenedAt('not a time'), RULES), 'approval-on-merged-head').reason).toContain(
      'at an unreadable time after alice reopened the pull request',
    );
  });

  it('judges evidence without reopenings (signed before they were read) as before', () => {
    expect(evaluateReview(honestEvidence(), RULES).verdict).toBe('pass');
  });
});

describe('evaluateReview: an approval of the merged head right after a push may be of the head before it', () => {
  // alice's last push made HEAD at 11:30:30 (honestActivity). bob read the head before it and ran
  // `gh pr review --approve`, which names no commit: GitHub recorded his approval on the newest head, HEAD.
  const LAST_PUSH = '2026-11-20T11:30:30Z';
  const approvedAt = (submittedAt: string) =>
    honestEvidence({ reviews: [{ id: 901, reviewer: bob, state: 'APPROVED', commitId: HEAD, submittedAt }] });

  it('refuses an approval recorded on the merged head in the same second as the push that made it', () => {
    const result = evaluateReview(approvedAt(LAST_PUSH), RULES);
    expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(result, 'approval-on-merged-head').reason).toBe(
      `bob approved the merged head bbbbbbb at ${LAST_PUSH}, in the same second as alice pushed it at ${LAST_PUSH}: an approval that soon after a push may be of the head before it (a review submitted without naming its commit is recorded on the newest head); approve again (review.min-seconds-after-push: 30)`,
    );
    expect(result.approvals).toMatchObject([{ reviewer: bob, counted: false }]);
  });

  it('refuses one a few seconds after the push, and counts one 30 s after it (the default)', () => {
    const soon = evaluateReview(approvedAt('2026-11-20T11:30:33Z'), RULES);
    expect(failed(soon)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(soon, 'approval-on-merged-head').reason).toContain(
      `at 2026-11-20T11:30:33Z, 3 s after alice pushed it at ${LAST_PUSH}: an approval that soon after a push may be of the head before it`,
    );
    expect(evaluateReview(approvedAt('2026-11-20T11:30:59.999Z'), RULES).verdict).toBe('fail');
    const later = evaluateReview(approvedAt('2026-11-20T11:31:00Z'), RULES);
    expect(later.verdict).toBe('pass');
    expect(check(later, 'approval-on-merged-head').reason).toBe(
      `bob approved the merged head bbbbbbb, 30 s after alice pushed it at ${LAST_PUSH} (at least 30 s required)`,
    );
    // Rules recorded before the key existed are held to the default.
    const { minSecondsAfterPush: _, ...older } = RULES;
    expect(evaluateReview(approvedAt('2026-11-20T11:30:59Z'), older).verdict).toBe('fail');
    expect(evaluateReview(approvedAt('2026-11-20T11:31:00Z'), older).verdict).toBe('pass');
  });

  it('waits as long as the policy says (review.min-seconds-after-push: 300)', () => {
    const patient = { ...RULES, minSecondsAfterPush: 300 };
    const result = evaluateReview(approvedAt('2026-11-20T11:35:29Z'), patient);
    expect(check(result, 'approval-on-merged-head').reason).toContain(
      '299 s after alice pushed it at 2026-11-20T11:30:30Z',
    );
    expect(check(result, 'approval-on-merged-head').reason).toContain('(review.min-seconds-after-push: 300)');
    expect(evaluateReview(approvedAt('2026-11-20T11:35:30Z'), patient).verdict).toBe('pass');
  });

  it('still refuses the push’s own second at review.min-seconds-after-push: 0 (whole seconds: the push may have come first), and counts the next', () => {
    const none = { ...RULES, minSecondsAfterPush: 0 };
    for (const at of [LAST_PUSH, '2026-11-20T11:30:30.999Z']) {
      const result = evaluateReview(approvedAt(at), none);
      expect(failed(result)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
      expect(check(result, 'approval-on-merged-head').reason).toContain(
        `in the same second as alice pushed it at ${LAST_PUSH}`,
      );
      expect(check(result, 'approval-on-merged-head').reason).toContain('(review.min-seconds-after-push: 0)');
    }
    expect(evaluateReview(approvedAt('2026-11-20T11:30:31Z'), none).verdict).toBe('pass');
  });

  it('times the approval from the last push of any kind (a force push), up to the merge only', () => {
    const evidence = approvedAt('2026-11-20T12:10:10Z');
    const feed = honestActivity();
    feed.headPushes.push(
      activity('force_push', alice, { ref: 'refs/heads/widget', after: HEAD, timestamp: '2026-11-20T12:10:00Z' }),
    );
    evidence.activity = feed;
    const result = evaluateReview(evidence, RULES);
    expect(check(result, 'approval-on-merged-head').reason).toContain(
      '10 s after alice force-pushed it at 2026-11-20T12:10:00Z',
    );
    // A push after the merge (the branch reused) is not the push before the approval.
    const after = approvedAt('2026-11-20T12:10:00Z');
    const reused = honestActivity();
    reused.headPushes.push(
      activity('push', alice, { ref: 'refs/heads/widget', after: OLD_HEAD, timestamp: '2026-11-20T13:00:05Z' }),
    );
    after.activity = reused;
    expect(evaluateReview(after, RULES).verdict).toBe('pass');
  });

  it('refuses an approval recorded on the merged head before the push that made it, and a push whose time is unreadable', () => {
    const before = evaluateReview(approvedAt('2026-11-20T11:20:00Z'), RULES);
    expect(failed(before)).toEqual(['approval-on-merged-head', 'min-independent-approvals']);
    expect(check(before, 'approval-on-merged-head').reason).toContain(
      `before alice pushed it at ${LAST_PUSH}: an approval counts only after the head's last push`,
    );
    const evidence = honestEvidence();
    const feed = honestActivity();
    feed.headPushes[1]!.timestamp = 'soon';
    evidence.activity = feed;
    const unreadable = evaluateReview(evidence, RULES);
    expect(failed(unreadable)).toContain('approval-on-merged-head');
    expect(check(unreadable, 'approval-on-merged-head').reason).toContain('unreadable time');
  });

  it('judges by the commit alone without the activity feed, as before (the fallback has no push times)', () => {
    const evidence = approvedAt('2026-11-20T11:30:00Z');
    evidence.activity = { available: false, reason: 'GET /repos/acme/app/activity: HTTP 403' };
    expect(evaluateReview(evidence, { ...RULES, allowActivityFallback: true }).verdict).toBe('pass');
  });
});

describe('evaluateReview: an author nobody made accountable needs one more approval', () => {
  it('asks one more when the author has no write access, or when the evidence does not record their permission', () => {
    const reader = evaluateReview({ ...honestEvidence(), permissions: { alice: 'read', bob: 'write' } }, RULES);
    expect(failed(reader)).toEqual(['min-independent-approvals']);
    expect(check(reader, 'min-independent-approvals').reason).toBe(
      'expected at least 2 (1 + 1: the author alice has read permission on acme/app, so another person with write access must approve the change too), found 1 independent approval (bob)',
    );
    const unrecorded = evaluateReview({ ...honestEvidence(), permissions: { bob: 'write', carol: 'maintain' } }, RULES);
    expect(failed(unrecorded)).toEqual(['min-independent-approvals']);
    expect(check(unrecorded, 'min-independent-approvals').reason).toContain(
      "1 + 1: the author alice's permission on acme/app is not in the evidence",
    );
    // A second independent approver with write access makes it two people who can answer for the change.
    const two = evaluateReview(
      {
        ...honestEvidence({ reviews: [review(bob, 'APPROVED'), review(carol, 'APPROVED')] }),
        permissions: { alice: 'read', bob: 'write', carol: 'maintain' },
      },
      RULES,
    );
    expect(check(two, 'min-independent-approvals')).toMatchObject({ verdict: 'pass' });
    expect(check(two, 'min-independent-approvals').reason).toContain('at least 2 required (1 + 1: the author alice');
  });

  it('asks nothing more of an author with write access, maintain or admin', () => {
    for (const permission of ['write', 'maintain', 'admin'] as const) {
      const result = evaluateReview({ ...honestEvidence(), permissions: { alice: permission, bob: 'write' } }, RULES);
      expect(check(result, 'min-independent-approvals').reason).toBe(
        '1 independent approval (bob), at least 1 required',
      );
    }
  });

  it('asks one more of a bot author, even one review.bot-pushers lists (dependabot): nobody stands behind its change', () => {
    const byBot = withPr(honestEvidence(), { author: dependabot });
    const unlisted = evaluateReview(byBot, RULES);
    expect(check(unlisted, 'min-independent-approvals').reason).toContain(
      '1 + 1: the author dependabot[bot] is a bot review.bot-pushers does not list',
    );
    const listed = evaluateReview(byBot, { ...RULES, botPushers: ['dependabot[bot]'] });
    expect(check(listed, 'min-independent-approvals')).toMatchObject({ verdict: 'fail' });
    expect(check(listed, 'min-independent-approvals').reason).toContain(
      '1 + 1: the author dependabot[bot] is a bot: nobody stands behind its change as its author',
    );
  });
});
