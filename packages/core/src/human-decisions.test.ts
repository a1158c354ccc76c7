// The rules of issue 16 on their own: whose deploy approval counts (judgeDeployApproval), when a break-glass may be
// used (breakGlassProblems), and the policy keys behind them — a fourth identity that must differ from the others, a
// repository policy that may only tighten the deploy approvals and never touch break-glass.
import { describe, expect, it } from 'vitest';
import {
  type BreakGlassPredicate,
  breakGlassProblems,
  breakGlassRefProblem,
  parseBreakGlassPredicate,
  WAIVABLE_CHECKS,
} from './break-glass';
import {
  type ChangePeople,
  type DeployApprovalPredicate,
  judgeDeployApproval,
  namesEnvironment,
  parseDeployApprovalPredicate,
} from './deploy-approval';
import { InTotoError } from './intoto';
import type { GitHubAccount } from './model';
import { type DeployApprovalRules, PolicyError, parsePolicy, parseRepositoryPolicy } from './policy';

const user = (login: string, type = 'User'): GitHubAccount => ({
  login,
  id: login.length * 1000 + login.charCodeAt(0),
  type,
});

function approvals(
  ...entries: [string, 'approved' | 'rejected' | 'pending', string?][]
): DeployApprovalPredicate['approvals'] {
  return entries.map(([login, state, environment]) => ({
    user: user(login, login.endsWith('[bot]') ? 'Bot' : 'User'),
    state,
    comment: '',
    environments: [environment ?? 'production'],
  }));
}

function predicate(overrides: Partial<DeployApprovalPredicate> = {}): DeployApprovalPredicate {
  return {
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    run: { id: 1, attempt: 1, uri: 'https://github.com/acme/app/actions/runs/1/attempts/1' },
    requesters: [user('erin')],
    approvals: approvals(['carol', 'approved']),
    protection: { requiredReviewers: [{ type: 'User', name: 'carol' }], preventSelfReview: true },
    readAt: '2026-12-06T00:00:00.000Z',
    evidence: [],
    ...overrides,
  };
}

const CHANGE: ChangePeople = {
  author: 'alice',
  contributors: ['alice', 'dan'],
  pushers: ['dan'],
  codeApprovers: ['bob'],
};
const RULES: DeployApprovalRules = {
  min: 1,
  distinctFrom: ['author', 'contributors', 'pusher'],
  requirePreventSelfReview: false,
};

describe('whose deploy approval counts (deploy.approvals)', () => {
  it('counts an independent person', () => {
    expect(judgeDeployApproval(predicate(), RULES, CHANGE)).toMatchObject({ verdict: 'pass', approvers: ['carol'] });
  });

  it.each([
    ['the change’s author', 'alice', "alice (the change's author)"],
    ['a contributor', 'dan', 'dan (a contributor to the change)'],
    ['a bot', 'deployer[bot]', 'deployer[bot] (a bot)'],
  ])('never %s', (_what, login, said) => {
    const judged = judgeDeployApproval(predicate({ approvals: approvals([login, 'approved']) }), RULES, CHANGE);
    expect(judged.verdict).toBe('fail');
    expect(judged.reason).toContain(`not counted: ${said}`);
  });

  it('never the change’s author renamed since (alice → alice-ops): people of the change are compared by id too', () => {
    const alice = user('alice');
    const renamed = { ...alice, login: 'alice-ops' };
    const change: ChangePeople = { ...CHANGE, author: alice, contributors: [alice, 'dan'] };
    const judged = judgeDeployApproval(
      predicate({ approvals: [{ user: renamed, state: 'approved', comment: '', environments: ['production'] }] }),
      RULES,
      change,
    );
    expect(judged).toMatchObject({ verdict: 'fail', approvers: [] });
    expect(judged.reason).toContain("not counted: alice-ops (the change's author)");
    // An account that took the freed login "alice" is refused too: its login still matches (doubt refuses).
    const other = { login: 'alice', id: 424_242, type: 'User' };
    const byLogin = judgeDeployApproval(
      predicate({ approvals: [{ user: other, state: 'approved', comment: '', environments: ['production'] }] }),
      RULES,
      change,
    );
    expect(byLogin.verdict).toBe('fail');
  });

  it('refuses when someone the policy excludes approved too: any one approval releases the job (a re-run’s history)', () => {
    const judged = judgeDeployApproval(
      predicate({ approvals: approvals(['carol', 'approved'], ['alice', 'approved']) }),
      RULES,
      CHANGE,
    );
    expect(judged.verdict).toBe('fail');
    expect(judged.reason).toBe(
      "approved for production by someone the policy excludes: alice (the change's author); GitHub releases the job on any one approval of the run, so it may have been theirs",
    );
  });

  it('never the code approver or the requester when the policy says so', () => {
    const strict = {
      ...RULES,
      distinctFrom: [...RULES.distinctFrom, 'code-approvers', 'requester'],
    } as DeployApprovalRules;
    const byApprover = judgeDeployApproval(predicate({ approvals: approvals(['bob', 'approved']) }), strict, CHANGE);
    expect(byApprover.reason).toContain('bob (approved the code)');
    const byRequester = judgeDeployApproval(predicate({ approvals: approvals(['erin', 'approved']) }), strict, CHANGE);
    expect(byRequester.reason).toContain('erin (started the deploy)');
    // The defaults let the code approver approve the deploy too.
    expect(judgeDeployApproval(predicate({ approvals: approvals(['bob', 'approved']) }), RULES, CHANGE).verdict).toBe(
      'pass',
    );
  });

  it('takes a pending review (a comment without a decision) as neither an approval nor a rejection', () => {
    // GitHub lists a reviewer's comment on the deployment review as `pending`: it is no approval toward min ...
    const alone = judgeDeployApproval(predicate({ approvals: approvals(['frank', 'pending']) }), RULES, CHANGE);
    expect(alone.verdict).toBe('fail');
    expect(alone.reason).not.toContain('rejected');
    expect(alone.reason).toContain('production');
    // ... and no refusal either: another reviewer's approval stands.
    const beside = predicate({ approvals: approvals(['frank', 'pending'], ['carol', 'approved']) });
    expect(judgeDeployApproval(beside, RULES, CHANGE).verdict).toBe('pass');
  });

  it('refuses a rejection, an approval of another environment, and an unknown change (fail closed)', () => {
    const rejected = predicate({ approvals: approvals(['carol', 'approved'], ['frank', 'rejected']) });
    expect(judgeDeployApproval(rejected, RULES, CHANGE).reason).toContain('rejected by frank');
    const elsewhere = predicate({ approvals: approvals(['carol', 'approved', 'staging']) });
    expect(judgeDeployApproval(elsewhere, RULES, CHANGE).verdict).toBe('fail');
    const unknown = judgeDeployApproval(predicate(), RULES, undefined);
    expect(unknown.verdict).toBe('fail');
    expect(unknown.reason).toContain(
      "carol (the change's author, the change's contributors, the change's pusher unknown)",
    );
  });

  it('requires prevent self-review when the policy does, and says when it could not be read', () => {
    const strict = { ...RULES, requirePreventSelfReview: true };
    const off = predicate({ protection: { requiredReviewers: [], preventSelfReview: false } });
    expect(judgeDeployApproval(off, strict, CHANGE).reason).toContain('to prevent self-review, found it does not');
    expect(judgeDeployApproval(predicate({ protection: null }), strict, CHANGE).reason).toContain('could not be read');
  });

  it('refuses a deploy a bot started when the requester may not approve: who started it is unknown', () => {
    // erin's own workflow dispatched the deploy with its GITHUB_TOKEN: GitHub names github-actions[bot] as its
    // actor and triggering actor, and erin approves her own deploy.
    const botStarted = predicate({
      requesters: [user('github-actions[bot]', 'Bot')],
      approvals: approvals(['erin', 'approved']),
    });
    const reason =
      "the deploy was started by github-actions[bot], a bot: who started it is unknown, so the policy's rule that the requester never approves cannot be held";
    for (const rules of [
      { ...RULES, requirePreventSelfReview: true },
      { ...RULES, distinctFrom: [...RULES.distinctFrom, 'requester'] } as DeployApprovalRules,
    ]) {
      const judged = judgeDeployApproval(botStarted, rules, CHANGE);
      expect(judged.verdict).toBe('fail');
      expect(judged.reason).toContain(reason);
    }
    // Without a requester rule the policy asks nothing of who started it.
    expect(judgeDeployApproval(botStarted, RULES, CHANGE).verdict).toBe('pass');
  });

  it('holds prevent self-review itself when the policy requires it: an admin who turned it off around her own approval', () => {
    // erin started the deploy, turned prevent_self_review off, approved, and turned it on again before the deploy job
    // read the environment: the protection read says it is on, and the policy names no `requester` in distinct-from.
    const strict = { ...RULES, requirePreventSelfReview: true };
    const selfApproved = predicate({ approvals: approvals(['erin', 'approved']) });
    const alone = judgeDeployApproval(selfApproved, strict, CHANGE);
    expect(alone.verdict).toBe('fail');
    expect(alone.reason).toBe(
      'expected 1 approval of the environment production by someone distinct from author, contributors, pusher, requester and not a bot, found 0; not counted: erin (started the deploy)',
    );
    // With someone else's approval beside hers, any one of the two may have released the job: refused too.
    const beside = predicate({ approvals: approvals(['carol', 'approved'], ['erin', 'approved']) });
    expect(judgeDeployApproval(beside, strict, CHANGE).reason).toContain(
      'approved for production by someone the policy excludes: erin (started the deploy)',
    );
    // Without the requirement, the policy decides (distinct-from without requester lets her count), as documented.
    expect(judgeDeployApproval(selfApproved, RULES, CHANGE).verdict).toBe('pass');
    // An independent approver still passes, and the reason names the rule the gate held.
    expect(judgeDeployApproval(predicate(), strict, CHANGE).reason).toBe(
      'approved for production by carol, each distinct from author, contributors, pusher, requester',
    );
  });

  it('asks nothing when min is 0', () => {
    const judged = judgeDeployApproval(predicate({ approvals: [] }), { ...RULES, min: 0 }, CHANGE);
    expect(judged).toMatchObject({ verdict: 'pass' });
  });

  it('counts one account under two logins once (carol → carol-ops between two approvals): never two toward min', () => {
    // The run's approvals name carol's account twice, under the login it had at each approval (a rename between two
    // attempts' approvals): one person, who alone would meet min 2 if approvers were told apart by login.
    const carol = user('carol');
    const twoLogins = predicate({
      approvals: [carol, { ...carol, login: 'carol-ops' }].map((account) => ({
        user: account,
        state: 'approved' as const,
        comment: '',
        environments: ['production'],
      })),
    });
    const judged = judgeDeployApproval(twoLogins, { ...RULES, min: 2 }, CHANGE);
    expect(judged).toEqual({
      verdict: 'fail',
      reason: `expected 2 approvals of the environment production by someone distinct from author, contributors, pusher and not a bot, found 1 (carol); counted once: carol-ops (account ${carol.id}, as carol)`,
      approvers: ['carol'],
    });
    // Under min 1 she is one approver, and nobody is refused for having approved twice.
    expect(judgeDeployApproval(twoLogins, RULES, CHANGE)).toMatchObject({ verdict: 'pass', approvers: ['carol'] });
    // Two people still count as two.
    const two = predicate({ approvals: approvals(['carol', 'approved'], ['frank', 'approved']) });
    expect(judgeDeployApproval(two, { ...RULES, min: 2 }, CHANGE)).toMatchObject({
      verdict: 'pass',
      approvers: ['carol', 'frank'],
    });
  });

  it('does not count an approval without an account id: it cannot be told from the others (fail closed)', () => {
    const noId = { login: 'carol', type: 'User' } as unknown as GitHubAccount;
    const judged = judgeDeployApproval(
      predicate({ approvals: [{ user: noId, state: 'approved', comment: '', environments: ['production'] }] }),
      RULES,
      CHANGE,
    );
    expect(judged.verdict).toBe('fail');
    expect(judged.reason).toContain('found 0; not counted: carol (no account id)');
  });
});

/** The field a predicate is refused for, or undefined when it is accepted. */
function refusedField(json: unknown): string | undefined {
  try {
    parseDeployApprovalPredicate(JSON.parse(JSON.stringify(json)));
    return undefined;
  } catch (error) {
    if (error instanceof InTotoError && error.code === 'PREDICATE_INVALID') return error.field;
    throw error;
  }
}

describe('which environment a review names (namesEnvironment)', () => {
  it('compares ASCII letters without case, as GitHub names environments, and nothing else folded', () => {
    expect(namesEnvironment(['Production'], 'production')).toBe(true);
    expect(namesEnvironment(['kube-prod'], 'KUBE-PROD')).toBe(true);
    // KELVIN SIGN lowercases to k: folded, an approval of a second environment GitHub keeps apart would count here.
    expect(namesEnvironment(['\u212Aube-prod'], 'kube-prod')).toBe(false);
    expect(namesEnvironment(['ſtaging'], 'staging')).toBe(false);
    expect(namesEnvironment(['İnt'], 'i\u0307nt')).toBe(false);
  });
});

describe('when the deploy was requested (requestedAt)', () => {
  it('is accepted before readAt, at readAt, and absent (attestations signed before it was recorded)', () => {
    expect(refusedField(predicate({ requestedAt: '2026-12-05T23:48:00Z' }))).toBeUndefined();
    expect(refusedField(predicate({ requestedAt: '2026-12-06T00:00:00.000Z' }))).toBeUndefined();
    const { requestedAt: _, ...old } = predicate({ requestedAt: '2026-12-05T23:48:00Z' });
    expect(refusedField(old)).toBeUndefined();
  });

  it('refuses a request after the approvals were read (a latency made to look shorter), naming the field', () => {
    expect(() => parseDeployApprovalPredicate(predicate({ requestedAt: '2026-12-06T00:00:01Z' }))).toThrow(
      'requestedAt: expected at or before readAt (2026-12-06T00:00:00.000Z), found 2026-12-06T00:00:01Z',
    );
  });

  it.each([
    ['a local time', '2026-12-05T23:48:00+01:00'],
    ['a date alone', '2026-12-05'],
    ['a number', 1_733_442_480],
    ['an impossible month', '2026-13-05T23:48:00Z'],
  ])('refuses %s, naming the field', (_what, requestedAt) => {
    expect(refusedField({ ...predicate(), requestedAt })).toBe('requestedAt');
  });
});

const NOW = new Date('2026-12-06T12:00:00.000Z');
function breakGlass(overrides: Partial<BreakGlassPredicate> = {}): BreakGlassPredicate {
  return {
    reason: 'checkout is down',
    incident: 'https://status.acme.example/incidents/42',
    environment: 'production',
    repository: { name: 'acme/app', uri: 'https://github.com/acme/app' },
    change: {
      commit: 'c'.repeat(40),
      author: user('alice'),
      contributors: [{ account: user('alice'), roles: ['author'] }],
    },
    requester: user('erin'),
    approvers: [user('dave')],
    notBefore: '2026-12-06T11:00:00.000Z',
    expires: '2026-12-06T13:00:00.000Z',
    waives: [...WAIVABLE_CHECKS],
    run: { id: 9, attempt: 1, uri: 'https://github.com/acme/app/actions/runs/9/attempts/1' },
    ...overrides,
  };
}
const BG_RULES = { maxDurationSeconds: 24 * 3600, minApprovers: 1 };
/** A run started by hand: its certificate's Build Trigger. */
const BY_HAND = 'workflow_dispatch';

describe('when a break-glass may be used', () => {
  it('within its window, for its environment, approved by someone else', () => {
    expect(
      breakGlassProblems(breakGlass(), BG_RULES, { now: NOW, environment: 'production', trigger: BY_HAND }),
    ).toEqual([]);
  });

  it.each([
    ['before its window', { notBefore: '2026-12-06T12:30:00.000Z' }, 'not valid before'],
    ['after it', { expires: '2026-12-06T11:30:00.000Z' }, 'it expired at'],
    [
      'a window longer than the policy allows',
      { notBefore: '2026-12-01T12:00:00.000Z', expires: '2026-12-06T13:00:00.000Z' },
      'longer than deploy.break-glass.max-duration',
    ],
    [
      'an empty window',
      { notBefore: '2026-12-06T13:00:00.000Z', expires: '2026-12-06T13:00:00.000Z' },
      'its window is empty',
    ],
    ['another environment', { environment: 'staging' }, 'it is for the environment staging, not production'],
    [
      'waiving a signature or provenance check',
      { waives: ['review-rules', 'build-provenance', 'artifact-signature'] },
      'it claims to waive build-provenance, artifact-signature',
    ],
    ['approved by its requester alone', { approvers: [user('erin')] }, 'erin (its requester)'],
    ['approved by the change’s author alone', { approvers: [user('alice')] }, "alice (the change's author)"],
    ['approved by a bot', { approvers: [user('ops[bot]', 'Bot')] }, 'ops[bot] (a bot)'],
    [
      'requested by a bot (a run dispatched with a workflow’s GITHUB_TOKEN)',
      { requester: user('github-actions[bot]', 'Bot') },
      'its requester github-actions[bot] is a bot: whoever had it start the run is unknown',
    ],
    [
      'for a change a bot wrote',
      { change: { commit: 'c'.repeat(40), author: user('github-actions[bot]', 'Bot') } },
      "the change's author github-actions[bot] is a bot: whoever had it write the commit is unknown",
    ],
  ] as const)('refuses %s', (_what, change, said) => {
    const problems = breakGlassProblems(breakGlass(change as Partial<BreakGlassPredicate>), BG_RULES, {
      now: NOW,
      environment: 'production',
      trigger: BY_HAND,
    });
    expect(problems.join('; ')).toContain(said);
  });

  it('does not count whoever else started the run, when the break-glass workflow names them', () => {
    const problems = breakGlassProblems(breakGlass({ approvers: [user('dave')] }), BG_RULES, {
      now: NOW,
      alsoRequesters: ['Dave'],
      trigger: BY_HAND,
    });
    expect(problems.join('; ')).toContain('found 0; not counted: dave (it started the run)');
  });

  it('refuses a re-run its requester approved herself: the run’s approvals still show the first attempt’s approver', () => {
    // erin re-ran the break-glass job (attempt 2) and, prevent self-review being off, approved it herself; GitHub's
    // approvals of the run list dave's (attempt 1) and hers. Signing again would make a second single-use break-glass.
    const rerun = breakGlass({
      approvers: [user('dave'), user('erin')],
      run: { id: 9, attempt: 2, uri: 'https://github.com/acme/app/actions/runs/9/attempts/2' },
    });
    // Refused twice over: signed in a re-run at all (whose approvals cannot be told from attempt 1's), and approved by
    // its requester (the gate's word on a break-glass an older workflow signed in a first attempt so).
    expect(breakGlassProblems(rerun, BG_RULES, { now: NOW, environment: 'production', trigger: BY_HAND })).toEqual([
      "its run is attempt 2 of run 9 (a re-run), not the first: a re-run's approvals cannot be told from the first attempt's (GitHub lists every attempt's approvals of the run, with no attempt); ask for a new break-glass with a new dispatch",
      "approved by someone who may not release it: erin (its requester); GitHub releases the job on any one approval of the run, and the run's approvals hold every attempt's (a re-run's), so it may have been theirs",
    ]);
    // The change's author beside an independent approver, likewise.
    const byAuthor = breakGlass({ approvers: [user('dave'), user('alice')] });
    expect(breakGlassProblems(byAuthor, BG_RULES, { now: NOW, trigger: BY_HAND }).join()).toContain(
      'alice (the change',
    );
  });

  it('refuses one signed in a re-run nobody approved: the run’s approvals still show the first attempt’s approver', () => {
    // erin (requester, repository admin) re-ran her genuine break-glass run and released attempt 2 without a new
    // approval (the admin's bypass, or the environment's reviewers removed and put back): GitHub's approvals of the
    // run still list dave's, given to attempt 1, and nothing else. Signed, it is a second break-glass (a new window,
    // a new id), so a second single use of the exception dave approved once.
    const rerun = breakGlass({
      approvers: [user('dave')],
      run: { id: 9, attempt: 2, uri: 'https://github.com/acme/app/actions/runs/9/attempts/2' },
    });
    expect(breakGlassProblems(rerun, BG_RULES, { now: NOW, environment: 'production', trigger: BY_HAND })).toEqual([
      "its run is attempt 2 of run 9 (a re-run), not the first: a re-run's approvals cannot be told from the first attempt's (GitHub lists every attempt's approvals of the run, with no attempt); ask for a new break-glass with a new dispatch",
    ]);
  });

  it.each([
    [
      'its run URI names attempt 2 (the certificate’s Run Invocation URI, which the gate binds it to)',
      'https://github.com/acme/app/actions/runs/9/attempts/2',
      'it says attempt 1 of run 9, but its run https://github.com/acme/app/actions/runs/9/attempts/2 is attempt 2 (a re-run)',
    ],
    [
      'its run URI names no attempt',
      'https://github.com/acme/app/actions/runs/9',
      "its run https://github.com/acme/app/actions/runs/9 names no attempt, so it cannot be told that the run's first attempt signed it",
    ],
  ])('refuses one that says attempt 1 when %s', (_what, uri, said) => {
    const problems = breakGlassProblems(breakGlass({ run: { id: 9, attempt: 1, uri } }), BG_RULES, {
      now: NOW,
      environment: 'production',
      trigger: BY_HAND,
    });
    expect(problems).toEqual([expect.stringContaining(said)]);
    expect(problems[0]).toContain('ask for a new break-glass with a new dispatch');
  });

  it.each([
    ['push', 'the run that signed it was started by a push event, not by hand (workflow_dispatch)'],
    ['pull_request_review', 'the run that signed it was started by a pull_request_review event, not by hand'],
    ['issue_comment', 'the run that signed it was started by a issue_comment event, not by hand'],
    [undefined, 'the event that started the run that signed it is unknown'],
  ])('refuses one signed in a run not started by hand (%s): whoever started it did not ask for it', (trigger, said) => {
    // alice's caller workflow runs the break-glass on a push to her branch; bob clicks "Update branch" on her pull
    // request: the run's requester is bob, the commit GitHub made is his, and alice releases the break-glass herself.
    const problems = breakGlassProblems(
      breakGlass({
        requester: user('bob'),
        change: {
          commit: 'c'.repeat(40),
          author: user('bob'),
          contributors: [{ account: user('bob'), roles: ['author'] }],
        },
        approvers: [user('alice')],
      }),
      BG_RULES,
      { now: NOW, environment: 'production', trigger },
    );
    expect(problems).toEqual([expect.stringContaining(said)]);
  });

  it('does not count its requester or the change’s author renamed since (the same account, another login)', () => {
    const erin = breakGlass().requester;
    const renamed = breakGlass({ approvers: [{ ...erin, login: 'erin-ops' }] });
    expect(breakGlassProblems(renamed, BG_RULES, { now: NOW, trigger: BY_HAND }).join()).toContain(
      'found 0; not counted: erin-ops (its requester)',
    );
    const author = breakGlass().change.author;
    const renamedAuthor = breakGlass({ approvers: [{ ...author, login: `${author.login}-2` }] });
    expect(breakGlassProblems(renamedAuthor, BG_RULES, { now: NOW, trigger: BY_HAND }).join()).toContain(
      "(the change's author)",
    );
  });

  it('counts an approver once, and needs as many as the policy says', () => {
    const twice = breakGlass({ approvers: [user('dave'), user('dave')] });
    expect(
      breakGlassProblems(twice, { ...BG_RULES, minApprovers: 2 }, { now: NOW, trigger: BY_HAND }).join(),
    ).toContain('found 1');
  });

  it('counts one account under two logins once (dave → dave-ops between two approvals): never two approvers', () => {
    // The run's approvals name dave's account twice, under the login it had at each approval: one person, who alone
    // would meet min-approvers 2 if approvers were told apart by login.
    const dave = user('dave');
    const twoLogins = breakGlass({ approvers: [dave, { ...dave, login: 'dave-ops' }] });
    expect(breakGlassProblems(twoLogins, { ...BG_RULES, minApprovers: 2 }, { now: NOW, trigger: BY_HAND })).toEqual([
      `expected 2 approvers distinct from its requester (erin) and the change's people (alice), found 1; counted once: dave-ops (account ${dave.id}, as dave)`,
    ]);
    // Two people still count as two.
    const two = breakGlass({ approvers: [dave, user('carol')] });
    expect(breakGlassProblems(two, { ...BG_RULES, minApprovers: 2 }, { now: NOW, trigger: BY_HAND })).toEqual([]);
  });

  it('does not count an approver without an account id: it cannot be told from the others (fail closed)', () => {
    const noId = { login: 'carol', type: 'User' } as unknown as GitHubAccount;
    const problems = breakGlassProblems(breakGlass({ approvers: [noId] }), BG_RULES, { now: NOW, trigger: BY_HAND });
    expect(problems.join('; ')).toContain('found 0; not counted: carol (no account id)');
  });
});

// alice's branch carries a caller of the break-glass workflow; bob dispatches it there ("run the preview on my
// branch"), so bob is its requester, and alice, a reviewer of the break-glass environment, releases it herself.
describe('which ref a break-glass may be asked for on', () => {
  const CERT = "its certificate's Source Repository Ref";
  const onRef = (ref: string | undefined, predicate = breakGlass({ defaultBranch: 'main' })) =>
    breakGlassRefProblem(predicate, { ref, refFrom: CERT });

  it('the repository’s default branch, as GitHub told the break-glass run and the break-glass records', () => {
    expect(onRef('refs/heads/main')).toBeUndefined();
    expect(onRef('refs/heads/alice/preview')).toBe(
      `its run ran from refs/heads/alice/preview (${CERT}), not from the repository's default branch (main, as GitHub told the break-glass run): what a dispatch runs is the workflow file on its ref, and that of any other branch is anyone's with write access: whoever had someone else dispatch it there ("run the preview on my branch") is not its requester, and may release it herself`,
    );
  });

  it('never a branch whose name only starts as the default branch’s, a tag or a pull request’s ref of that name', () => {
    for (const ref of ['refs/heads/main-evil', 'refs/heads/mainline', 'refs/tags/main', 'refs/pull/7/merge', 'main']) {
      expect(onRef(ref), ref).toContain(`its run ran from ${ref} (${CERT}), not from the repository's default branch`);
    }
  });

  it('never another branch, whatever an org policy names: `develop`, which this repository lacks, is anyone’s to create', () => {
    // One org policy's review.protected-branches names branches for every repository; the break-glass names its own
    // repository's default branch, and only that one counts.
    for (const ref of ['refs/heads/develop', 'refs/heads/release/alice', 'refs/heads/trunk']) {
      expect(onRef(ref), ref).toContain(
        "not from the repository's default branch (main, as GitHub told the break-glass run)",
      );
    }
    expect(onRef('refs/heads/trunk', breakGlass({ defaultBranch: 'trunk' }))).toBeUndefined();
  });

  it('refuses one that names no default branch (signed before it was recorded): fail closed', () => {
    expect(onRef('refs/heads/main', breakGlass())).toBe(
      `its run ran from refs/heads/main (${CERT}), and the break-glass names no default branch of its repository (signed before the break-glass workflow recorded it, or GitHub named none), so whether that is the default branch cannot be told; ask for a new break-glass`,
    );
  });

  it('refuses one whose run names no ref (fail closed)', () => {
    expect(onRef(undefined)).toContain(`the run that signed it names no ref (${CERT})`);
  });

  it('reads defaultBranch as an optional field of the predicate: a string of 1 to 255 characters', () => {
    expect(parseBreakGlassPredicate(breakGlass({ defaultBranch: 'main' })).defaultBranch).toBe('main');
    expect(parseBreakGlassPredicate(breakGlass()).defaultBranch).toBeUndefined();
    for (const defaultBranch of ['', 'b'.repeat(256), 7]) {
      expect(() => parseBreakGlassPredicate({ ...breakGlass(), defaultBranch })).toThrow(InTotoError);
    }
  });
});

const ISSUER = 'https://token.actions.githubusercontent.com';
const identities = (extra = '') => `version: 1
identities:
  build: { issuer: ${ISSUER}, san: https://github.com/acme/platform/.github/workflows/build.yml@refs/tags/v1.0.0 }
  sign: { issuer: ${ISSUER}, san: https://github.com/acme/platform/.github/workflows/sign.yml@refs/tags/v1.0.0 }
${extra}`;

describe('the policy keys of issue 16', () => {
  it('refuses a deploy or break-glass identity that is the build or sign one', () => {
    for (const [key, workflow] of [
      ['deploy', 'sign'],
      ['break-glass', 'build'],
    ] as const) {
      const text = identities(
        `  ${key}: { issuer: ${ISSUER}, san: https://github.com/acme/platform/.github/workflows/${workflow}.yml@refs/tags/v1.0.0 }\n`,
      );
      expect(() => parsePolicy(text, 'org.yml')).toThrow(PolicyError);
      expect(() => parsePolicy(text, 'org.yml')).toThrow(`must be different identities`);
    }
  });

  it('lets a repository policy only tighten deploy.approvals, and never set break-glass', () => {
    const org = parsePolicy(
      `${identities()}deploy:\n  approvals: { min: 1, distinct-from: [author, pusher], require-prevent-self-review: true }\n`,
      'org.yml',
    );
    const tighter = parseRepositoryPolicy(
      'version: 1\ndeploy:\n  approvals: { min: 2, distinct-from: [author, pusher, requester] }\n',
      'repo.yml',
      org,
    );
    expect(tighter.deploy.approvals).toEqual({
      min: 2,
      distinctFrom: ['author', 'pusher', 'requester'],
      requirePreventSelfReview: true,
    });
    for (const [looser, said] of [
      ['approvals: { min: 0 }', 'deploy.approvals.min'],
      ['approvals: { require-prevent-self-review: false }', 'deploy.approvals.require-prevent-self-review'],
      ['approvals: { distinct-from: [author] }', 'leaves out pusher'],
      ['break-glass: { max-duration: 1h }', 'a repository policy may not set how break-glass works'],
    ]) {
      expect(() => parseRepositoryPolicy(`version: 1\ndeploy:\n  ${looser}\n`, 'repo.yml', org)).toThrow(said);
    }
  });
});
