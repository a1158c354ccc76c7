// review.reviewed-history, read from the GitHub fake through both APIs (in process; the whole stage, the deploy gate
// and `twokey verify` are in laundered-ancestor.test.ts). The attack (red team "alone", threat model row 90): alice
// lands a change twokey's sign stage refuses (M1: a merge GitHub allows — bob's stale approval of H1 after she pushed
// H2, or an approval recorded on her newest head a second after her push) and has the next one-line pull request
// reviewed (M2): M2's own review passes, and M2's tree holds M1's change. With the rule, M2 is refused naming M1.
import {
  buildReviewStatement,
  DEFAULT_REVIEW_RULES,
  evaluateReview,
  evidenceFromPredicate,
  parseReviewPredicate,
  type ReviewEvidence,
  type ReviewRules,
} from '@twokey/core';
import { createGitHubClient, type GitHubApi, readReviewEvidence, reviewedHistoryOf } from '@twokey/github';
import {
  aCommit,
  aGitHubState,
  aPullRequest,
  aRepository,
  aReview,
  aUser,
  type FakeRepository,
  type GitHubFake,
  mergePullRequest,
  pushCommit,
  pushToPullRequest,
  startGitHubFake,
} from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

const SINCE = '2026-03-01T00:00:00.000Z';
const ON: ReviewRules = { ...DEFAULT_REVIEW_RULES, reviewedHistory: true, historySince: SINCE };
const APIS: GitHubApi[] = ['graphql', 'rest'];

type First = 'stale approval' | 'approval on the newest head' | 'honest' | 'direct push';

/**
 * main: a baseline push before history-since (`early` moves it: the arrival of PR #1's base), then PR #1 (`first`),
 * then PR #2's one reviewed line on top. Returns the commits M1 (PR #1's merge, or the pushed commit) and M2.
 */
function history(first: First, early: string | null = '2026-02-01T00:00:00Z') {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repo = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  if (early) pushCommit(repo, aCommit({ author: alice, message: 'Before twokey', date: early }), 'main', { by: alice });
  let m1: string;
  let pr1Number: number | undefined;
  if (first === 'direct push') {
    m1 = pushCommit(repo, aCommit({ author: alice, message: 'Backdoor', date: '2026-03-02T10:05:00Z' }), 'main', {
      by: alice,
    });
  } else {
    const typo = aCommit({ author: alice, message: 'Fix typo in README', date: '2026-03-02T09:00:00Z' });
    const pr1 = aPullRequest({ author: alice, commits: [typo], title: 'Fix typo' });
    if (first === 'stale approval') {
      pr1.reviews.push(aReview({ by: bob, on: typo.sha, state: 'APPROVED', at: '2026-03-02T09:30:00Z' }));
      pushToPullRequest(pr1, aCommit({ author: alice, message: 'Tidy (backdoor)', date: '2026-03-02T10:00:00Z' }), {
        by: alice,
        at: '2026-03-02T10:00:00Z',
      });
    } else if (first === 'approval on the newest head') {
      const head = pushToPullRequest(
        pr1,
        aCommit({ author: alice, message: 'Tidy (backdoor)', date: '2026-03-02T10:00:00Z' }),
        { by: alice, at: '2026-03-02T10:00:00Z' },
      );
      pr1.reviews.push(aReview({ by: bob, on: head, state: 'APPROVED', at: '2026-03-02T10:00:01Z' }));
    } else {
      pr1.reviews.push(aReview({ by: bob, on: typo.sha, state: 'APPROVED', at: '2026-03-02T09:30:00Z' }));
    }
    m1 = mergePullRequest(repo, pr1, { method: 'squash', by: alice, at: '2026-03-02T10:05:00Z' });
    pr1Number = pr1.number;
  }
  const harmless = aCommit({ author: alice, message: 'Bump the changelog date', date: '2026-03-02T11:00:00Z' });
  harmless.parents = [m1];
  const pr2 = aPullRequest({ author: alice, commits: [harmless], title: 'Changelog date' });
  pr2.base.sha = m1;
  pr2.reviews.push(aReview({ by: bob, on: harmless.sha, state: 'APPROVED', at: '2026-03-02T11:30:00Z' }));
  const m2 = mergePullRequest(repo, pr2, { method: 'merge', by: alice, at: '2026-03-02T11:35:00Z' });
  return { repo, m1, m2, pr1: pr1Number };
}

/** M2's evidence, read as the sign stage reads it, with the walk of its history under `rules`. */
async function signStageEvidence(repo: FakeRepository, commit: string, api: GitHubApi, rules = ON) {
  const fake = await startGitHubFake(aGitHubState(repo));
  fakes.push(fake);
  // Reads only, as the sign stage's client (sign-decide.ts): its GraphQL POSTs are not spaced a second apart.
  const client = createGitHubClient({
    token: 'ghs_test',
    baseUrl: fake.url,
    retryDelayMs: 5,
    timeoutMs: 5_000,
    readsOnly: true,
  });
  const read = await readReviewEvidence(client, { repository: 'acme/app', commit, ref: 'refs/heads/main' }, api);
  expect(read.api).toBe(api);
  const evidence = read.evidence;
  evidence.history = await reviewedHistoryOf(client, evidence, rules, read.api);
  return evidence;
}

function historyCheck(evidence: ReviewEvidence, rules = ON) {
  return evaluateReview(evidence, rules).checks.find((c) => c.id === 'reviewed-history');
}

describe.each(APIS)('review.reviewed-history (%s)', (api) => {
  it.each<First>(['stale approval', 'approval on the newest head'])(
    "refuses M2, whose base M1 (%s) the sign stage refused, naming M1's merge and its failing rule",
    async (first) => {
      const { repo, m1, m2, pr1 } = history(first);
      const evidence = await signStageEvidence(repo, m2, api);
      // M2's own review passes: only the history refuses it (without the rule, M2 signs — the attack).
      const off = evaluateReview(evidence, DEFAULT_REVIEW_RULES);
      expect(off.verdict).toBe('pass');
      const on = evaluateReview(evidence, ON);
      expect(on.verdict).toBe('fail');
      expect(on.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).toEqual(['reviewed-history']);
      const walk = evidence.history!;
      expect(walk.verdict).toBe('fail');
      expect(walk.arrivals).toEqual([
        expect.objectContaining({ commit: m1, type: 'pr_merge', pullRequest: pr1, verdict: 'fail' }),
      ]);
      expect(walk.arrivals[0]!.actor?.login).toBe('alice');
      expect(walk.reason).toContain(`the pr_merge of ${m1.slice(0, 12)} by alice`);
      expect(walk.reason).toContain(`(pull request #${pr1}) fails approval-on-merged-head`);
      expect(historyCheck(evidence)!.reason).toBe(walk.reason);
    },
  );

  it('signs an honest history: every arrival since history-since a reviewed pull request merge', async () => {
    const { repo, m1, m2, pr1 } = history('honest');
    const evidence = await signStageEvidence(repo, m2, api);
    expect(evidence.history).toMatchObject({
      since: SINCE,
      ref: 'refs/heads/main',
      base: m1,
      verdict: 'pass',
      arrivals: [{ commit: m1, type: 'pr_merge', pullRequest: pr1, verdict: 'pass' }],
      baseline: { at: '2026-02-01T00:00:00Z' },
    });
    const result = evaluateReview(evidence, ON);
    expect(result.verdict, JSON.stringify(result.checks.filter((c) => c.verdict !== 'pass'))).toBe('pass');
    expect(historyCheck(evidence)).toMatchObject({ verdict: 'pass' });
  });

  it('refuses a direct push to the protected branch after history-since, naming it', async () => {
    const { repo, m1, m2 } = history('direct push');
    const evidence = await signStageEvidence(repo, m2, api);
    expect(evaluateReview(evidence, DEFAULT_REVIEW_RULES).verdict).toBe('pass');
    expect(evaluateReview(evidence, ON).verdict).toBe('fail');
    expect(evidence.history!.arrivals).toEqual([
      expect.objectContaining({ commit: m1, type: 'push', verdict: 'fail' }),
    ]);
    expect(evidence.history!.reason).toContain(`the push of ${m1.slice(0, 12)} by alice at 2026-03-02T10:05:00Z fails`);
    expect(evidence.history!.reason).toContain('a push is no pull request merge');
  });

  it('does not judge arrivals before history-since: a push then is the trusted baseline', async () => {
    // alice's push of "Before twokey" on 2026-02-27, before history-since: the baseline, not judged.
    const { repo, m2 } = history('honest', '2026-02-27T12:00:00Z');
    const evidence = await signStageEvidence(repo, m2, api);
    expect(evidence.history).toMatchObject({ verdict: 'pass', baseline: { at: '2026-02-27T12:00:00Z' } });
    expect(evaluateReview(evidence, ON).verdict).toBe('pass');
    // The same push after an earlier history-since is judged, and refused.
    const earlier = { ...ON, historySince: '2026-02-15T00:00:00.000Z' };
    const judged = await signStageEvidence(repo, m2, api, earlier);
    expect(judged.history!.verdict).toBe('fail');
    expect(judged.history!.reason).toMatch(/the push of [0-9a-f]{12} by alice at 2026-02-27T12:00:00Z fails/);
  });

  it('refuses when the feed does not reach back to history-since', async () => {
    // No entry before history-since: what the branch held before PR #1 cannot be shown to predate it.
    const { repo, m2 } = history('honest', null);
    const evidence = await signStageEvidence(repo, m2, api);
    expect(evidence.history!.verdict).toBe('fail');
    expect(evidence.history!.reason).toMatch(
      /the activity feed of refs\/heads\/main ends at pr_merge of .*, after 2026-03-01/,
    );
  });
});

/**
 * A merge queue group (red team "history"): alice queues PR #1 (bob's stale approval kept after she pushed a backdoor:
 * a merge GitHub allows, twokey refuses) and PR #2 (a line bob approves). The queue builds Q1 = PR #1 on X, Q2 = PR #2
 * on Q1, and moves main once, X → Q2: one merge_queue_merge, whose pull request (merged as Q2) is PR #2. Then PR #3, a
 * reviewed line on Q2, merged as M3. With `solo`, PR #1 is not queued with PR #2 (Q2's queue group is PR #2 alone).
 */
function queueGroup(options: { solo?: boolean; rebase?: boolean } = {}) {
  const alice = aUser('alice');
  const bob = aUser('bob');
  const repo = aRepository('acme/app', { collaborators: { alice: 'write', bob: 'write' } });
  const x = pushCommit(
    repo,
    aCommit({ author: alice, message: 'Before twokey', date: '2026-02-01T00:00:00Z' }),
    'main',
    {
      by: alice,
    },
  );
  let q1: string | undefined;
  let pr1: number | undefined;
  let base = x;
  if (!options.solo) {
    const typo = aCommit({ author: alice, message: 'Fix typo', date: '2026-03-02T09:00:00Z' });
    const pr = aPullRequest({ author: alice, commits: [typo], title: 'Fix typo' });
    pr.reviews.push(aReview({ by: bob, on: typo.sha, state: 'APPROVED', at: '2026-03-02T09:30:00Z' }));
    pushToPullRequest(pr, aCommit({ author: alice, message: 'Tidy (backdoor)', date: '2026-03-02T10:00:00Z' }), {
      by: alice,
      at: '2026-03-02T10:00:00Z',
    });
    q1 = mergePullRequest(repo, pr, { method: 'squash', by: alice, mergeQueue: true, at: '2026-03-02T10:05:00Z' });
    pr1 = pr.number;
  }
  const line = aCommit({ author: alice, message: 'Changelog', date: '2026-03-02T09:10:00Z' });
  line.parents = [x];
  const more = aCommit({ author: alice, message: 'Changelog, again', date: '2026-03-02T09:11:00Z' });
  const pr2 = aPullRequest({ author: alice, commits: options.rebase ? [line, more] : [line], title: 'Changelog' });
  pr2.base.sha = x;
  const head = options.rebase ? more.sha : line.sha;
  pr2.reviews.push(aReview({ by: bob, on: head, state: 'APPROVED', at: '2026-03-02T09:40:00Z' }));
  const method = options.rebase ? 'rebase' : 'squash';
  const q2 = mergePullRequest(repo, pr2, { method, by: alice, mergeQueue: true, at: '2026-03-02T10:05:01Z' });
  if (q1 !== undefined) {
    // The group passes: main is fast-forwarded once, X → Q2 (one ref update, one feed entry).
    const mainRef = 'refs/heads/main';
    repo.activity.splice(
      repo.activity.findIndex((a) => a.ref === mainRef && a.after === q1),
      1,
    );
    repo.activity.find((a) => a.ref === mainRef && a.after === q2)!.before = x;
    base = x;
  }
  const harmless = aCommit({ author: alice, message: 'Bump date', date: '2026-03-02T11:00:00Z' });
  harmless.parents = [q2];
  const pr3 = aPullRequest({ author: alice, commits: [harmless], title: 'Bump date' });
  pr3.base.sha = q2;
  pr3.reviews.push(aReview({ by: bob, on: harmless.sha, state: 'APPROVED', at: '2026-03-02T11:30:00Z' }));
  const m3 = mergePullRequest(repo, pr3, { method: 'merge', by: alice, at: '2026-03-02T11:35:00Z' });
  return { repo, x: base, q1, q2, m3, pr1, pr2: pr2.number };
}

describe.each(APIS)('review.reviewed-history and merge queue groups (%s)', (api) => {
  it("refuses M3 whose base holds a merge queue group: Q2's arrival brings PR #1's Q1, which nobody judged", async () => {
    const { repo, q1, q2, m3, pr2 } = queueGroup();
    const evidence = await signStageEvidence(repo, m3, api);
    expect(evaluateReview(evidence, DEFAULT_REVIEW_RULES).verdict).toBe('pass');
    const on = evaluateReview(evidence, ON);
    expect(on.verdict).toBe('fail');
    expect(on.checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).toEqual(['reviewed-history']);
    const walk = evidence.history!;
    expect(walk.verdict).toBe('fail');
    // PR #2's own review passes; its arrival is refused for what it brings beyond PR #2.
    expect(walk.arrivals).toEqual([
      expect.objectContaining({ commit: q2, type: 'merge_queue_merge', pullRequest: pr2, verdict: 'fail' }),
    ]);
    expect(walk.reason).toContain(
      `the merge_queue_merge of ${q2.slice(0, 12)} brings more than 1 commit (following first parents, ${q1!.slice(0, 12)} is not its before`,
    );
    expect(walk.reason).toContain(
      `pull request #${pr2} (squash merge) accounts for 1: the others (a merge queue group`,
    );
  });

  it("refuses the group's tip Q2 itself: the built commit's own arrival brings Q1 too", async () => {
    const { repo, q1, q2 } = queueGroup();
    const evidence = await signStageEvidence(repo, q2, api);
    expect(evaluateReview(evidence, DEFAULT_REVIEW_RULES).verdict).toBe('pass');
    expect(evaluateReview(evidence, ON).verdict).toBe('fail');
    const walk = evidence.history!;
    expect(walk.verdict).toBe('fail');
    expect(walk.arrivals).toEqual([]);
    expect(walk.reason).toContain(`the built commit's own arrival, merge_queue_merge of ${q2.slice(0, 12)}`);
    expect(walk.reason).toContain(`${q1!.slice(0, 12)} is not its before`);
  });

  it.each([{ rebase: false }, { rebase: true }])(
    'signs a merge queue of one pull request (rebase: $rebase): its arrival brings only its commits',
    async ({ rebase }) => {
      const { repo, x, q2, m3, pr2 } = queueGroup({ solo: true, rebase });
      const evidence = await signStageEvidence(repo, m3, api);
      expect(evidence.history).toMatchObject({
        verdict: 'pass',
        base: q2,
        arrivals: [{ commit: q2, before: x, type: 'merge_queue_merge', pullRequest: pr2, verdict: 'pass' }],
      });
      expect(evaluateReview(evidence, ON).verdict).toBe('pass');
      // The tip itself, signed as the built commit: its own arrival brings only its pull request's commits.
      const own = await signStageEvidence(repo, q2, api);
      expect(own.history, own.history!.reason).toMatchObject({ verdict: 'pass', base: x });
    },
  );
});

describe('the deploy gate re-check (evaluateReview on the review attestation, under the deploy policy)', () => {
  it('refuses a review attestation lacking a passing history when the policy requires it', async () => {
    const { repo, m2 } = history('honest');
    const evidence = await signStageEvidence(repo, m2, 'graphql');
    const statement = (rules: ReviewRules, e: ReviewEvidence) =>
      buildReviewStatement({
        subjects: [{ name: 'app.tar.gz', digest: { sha256: 'a'.repeat(64) } }],
        evidence: e,
        rules,
        result: evaluateReview(e, rules),
      });
    // Signed with the rule: the history travels in the predicate and passes again at the gate.
    const signed = statement(ON, evidence);
    const read = evidenceFromPredicate(parseReviewPredicate(JSON.parse(JSON.stringify(signed.predicate))));
    // Read back, the walk says which rules its arrivals were judged under: the predicate's.
    expect(read.history).toEqual({ ...evidence.history, judgedUnder: JSON.parse(JSON.stringify(ON)) });
    expect(evaluateReview(read, ON).verdict).toBe('pass');
    // Signed without the rule (an older sign stage, or a policy without it): no history — refused under the rule.
    const { history: _, ...without } = evidence;
    const old = statement(DEFAULT_REVIEW_RULES, without);
    expect(old.predicate.history).toBeUndefined();
    const gate = evaluateReview(evidenceFromPredicate(parseReviewPredicate(old.predicate)), ON);
    expect(gate.verdict).toBe('fail');
    expect(gate.checks.find((c) => c.id === 'reviewed-history')?.reason).toMatch(/records no walk of the branch/);
    // A recorded history walked back to a later time than the deploy policy's is not enough.
    const later = evaluateReview(read, { ...ON, historySince: '2026-02-01T00:00:00.000Z' });
    expect(later.checks.find((c) => c.id === 'reviewed-history')?.reason).toMatch(/walked back to 2026-03-01/);
    // A walk whose arrivals were judged under looser rules than the deploy policy's (a sign workflow version still
    // listed, under its own looser org policy) is refused: its verdicts are not the policy's, though the built commit's
    // own review passes under it.
    const judgedLooser = evaluateReview(
      { ...read, history: { ...read.history!, judgedUnder: { ...ON, changesRequestedBlocks: false } } },
      ON,
    );
    expect(judgedLooser.verdict).toBe('fail');
    expect(judgedLooser.checks.find((c) => c.id === 'reviewed-history')?.reason).toMatch(
      /arrivals were judged under looser review rules than the policy's \(changes-requested-blocks off, where the policy's is on\)/,
    );
    // Judged under stricter rules than the deploy policy's (the sign stage merged a repository policy asking more,
    // which a deployment repository's gate, or `twokey verify` with the org policy alone, does not read): taken.
    const looserPolicy = { ...ON, requireApprovalOnHead: false };
    expect(evaluateReview(read, looserPolicy).checks.find((c) => c.id === 'reviewed-history')?.verdict).toBe('pass');
    const stricterRecord = { ...read, history: { ...read.history!, judgedUnder: { ...ON, minApprovals: 2 } } };
    expect(evaluateReview(stricterRecord, ON).checks.find((c) => c.id === 'reviewed-history')?.verdict).toBe('pass');
    // A recorded walk whose chain does not start at the built commit's base is refused.
    const tampered = { ...read, history: { ...read.history!, base: 'f'.repeat(40) } };
    expect(evaluateReview(tampered, ON).checks.find((c) => c.id === 'reviewed-history')?.verdict).toBe('fail');
  });
});
