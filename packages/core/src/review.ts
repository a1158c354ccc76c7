// The review rules: was the commit that was built merged through a pull request that someone independent approved?
// Pure: evidence in (collected by packages/github, or read back from a review attestation), named checks out.
// The sign stage runs this on live evidence; the deploy gate runs it again on what the attestation recorded.

import type {
  AccountProfile,
  Check,
  GitHubAccount,
  GitPerson,
  RefActivity,
  RepositoryPermission,
  Review,
  ReviewEvidence,
  ReviewRules,
  ReviewState,
  Verdict,
} from './model';
import { coveredBy, matchesAnyGlob } from './name-glob';

/** One approval (or dismissed review) and whether it counted toward `min-approvals`, with the reason. */
export interface ApprovalRecord {
  reviewId: number;
  reviewer: GitHubAccount;
  state: ReviewState;
  commitId: string;
  submittedAt: string;
  counted: boolean;
  reason: string;
}

/** The outcome of the review rules: every check, every approval with why it did or did not count. */
export interface ReviewResult {
  verdict: Verdict;
  checks: Check[];
  approvals: ApprovalRecord[];
  independentApprovers: GitHubAccount[];
}

/** The ids of the review checks, in the order they are reported. */
export const REVIEW_CHECK_IDS = [
  'evidence-complete',
  'merged-by-pull-request',
  'merged-commit-matches',
  'base-is-protected-branch',
  'reached-branch-by-merge',
  'contributors-identified',
  'latest-review-per-reviewer',
  'changes-requested',
  'approval-before-merge',
  'approval-on-merged-head',
  'reviewer-not-author',
  'reviewer-not-contributor',
  'reviewer-not-last-pusher',
  'reviewer-not-bot',
  'reviewer-has-write-access',
  'min-independent-approvals',
] as const;

/**
 * The check of review.reviewed-history: reported after the others, and only when the policy turns the rule on (so
 * evidence judged without it keeps the checks it always had).
 */
export const REVIEWED_HISTORY_CHECK_ID = 'reviewed-history';

/** A review check id. */
export type ReviewCheckId = (typeof REVIEW_CHECK_IDS)[number] | typeof REVIEWED_HISTORY_CHECK_ID;

/**
 * Default `review.min-seconds-after-push`: an approval of the merged head counts from 30 s after the head's last push;
 * a push in the seconds before may have come between the reviewer's reading of the head and their approval.
 */
export const DEFAULT_MIN_SECONDS_AFTER_PUSH = 30;

/** Permissions that let someone merge: only their approval is a review (anyone can approve on a public repository). */
const WRITE_PERMISSIONS: readonly RepositoryPermission[] = ['write', 'maintain', 'admin'];

/** Review states that set where a reviewer stands; a COMMENTED review leaves an approval standing, as on GitHub. */
const DECISIVE_STATES: readonly ReviewState[] = ['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'];

/** How a commit reaches a branch through a pull request, in the activity feed's words. */
const MERGE_ACTIVITIES: readonly string[] = ['pr_merge', 'merge_queue_merge'];

/** The per-approval criteria, each a check that passes when at least one standing approval meets it. */
const CRITERIA = [
  'approval-before-merge',
  'approval-on-merged-head',
  'reviewer-not-author',
  'reviewer-not-contributor',
  'reviewer-not-last-pusher',
  'reviewer-not-bot',
  'reviewer-has-write-access',
] as const satisfies readonly ReviewCheckId[];

type Criterion = (typeof CRITERIA)[number];

/** One approval being judged: standing before the merge, or given after it (which never counts). */
interface Candidate {
  review: Review;
  late: boolean;
}

/**
 * What an account did in the change, in words (empty: nothing), as the review rules tell people apart: the account
 * GitHub linked to a commit's author or committer, its noreply addresses, the e-mails and names the evidence ties to
 * it (a co-author's trailer included), and every push to the head branch or merge into it; and, while a co-author is
 * known to no account (review.unidentified-co-authors: allow), any account whose profile is neither in the evidence
 * nor given (`profile`, read by the deploy job). The deploy gate asks it of a deploy's approvers
 * (deploy.approvals.distinct-from: contributors). The evidence is read on the first question.
 */
export function changeContributions(
  evidence: ReviewEvidence,
  rules: ReviewRules,
): (account: GitHubAccount, profile?: AccountProfile) => string[] {
  let people: People | undefined;
  return (account, profile) => {
    // The account's own profile, read elsewhere (the deploy job's, of its approvers): learnt as the sign stage's
    // profiles of code approvers are — it may identify a co-author by name or public e-mail.
    const withProfile =
      profile && profile.account.id === account.id && !evidence.profiles?.some((p) => p.account.id === account.id)
        ? new People({ ...evidence, profiles: [...(evidence.profiles ?? []), profile] }, rules)
        : undefined;
    people ??= new People(evidence, rules);
    const known = withProfile ?? people;
    const contributions = known.contributionsOf(account);
    if (contributions.length > 0 || known.unidentifiedCoAuthors.length === 0 || known.hasProfile(account)) {
      return contributions;
    }
    // A co-author no account is known for (review.unidentified-co-authors: allow) may be anyone whose profile name or
    // public e-mail it is: without the account's profile, as for a code approver, it cannot be shown not to be theirs.
    return [
      `may be a co-author no account is known for (${known.unidentifiedCoAuthors.join('; ')}): no profile of ${account.login}'s was read to tell`,
    ];
  };
}

/**
 * Who the git identities of the evidence are, as the review rules tell people apart: for a commit's author, committer
 * or co-author, every account it may be — the account GitHub linked to it, the account a noreply address names, and
 * every account the evidence knows (a commit's, a profile's, the pull request author's, a reviewer's) whose e-mails
 * or names it carries; GitHub's own service identity (web-flow, `noreply@github.com`) is nobody. And who cannot be
 * identified at all (contributors-identified: an author or committer no account is known for, a push that names no
 * account or a bot's, a co-author matching no account). The break-glass records the people of the change it lets
 * through by it.
 */
export function gitIdentities(
  evidence: ReviewEvidence,
  rules: ReviewRules,
): {
  accountsOf: (person: { name: string; email: string; account?: GitHubAccount }) => GitHubAccount[];
  unidentified: string[];
  unidentifiedCoAuthors: string[];
} {
  const people = new People(evidence, rules);
  return {
    accountsOf: (person) => people.accountsOf(person),
    unidentified: [...people.unidentified],
    unidentifiedCoAuthors: [...people.unidentifiedCoAuthors],
  };
}

/** Applies the review rules to the evidence. The verdict is pass only when every check passes. */
export function evaluateReview(evidence: ReviewEvidence, rules: ReviewRules): ReviewResult {
  const people = new People(evidence, rules);
  const cut = reviewCutOff(evidence);
  const ordered = chronological(evidence.reviews);
  // Only what reviewers said before the merge (and before the commit reached the branch) is the review of it.
  const inTime = ordered.filter((r) => !isLate(r, cut));
  const late = ordered.filter((r) => isLate(r, cut));
  const standing = latestDecisiveReviews(inTime);
  const candidates: Candidate[] = [...standing.values()]
    .filter((r) => r.state === 'APPROVED')
    .map((review) => ({ review, late: false }));
  // A late approval is judged too, so the refusal names it; it fails approval-before-merge and never counts.
  for (const review of latestDecisiveReviews(late).values()) {
    if (review.state === 'APPROVED' && standing.get(reviewerKey(review.reviewer))?.state !== 'APPROVED') {
      candidates.push({ review, late: true });
    }
  }

  const judged = candidates.map((candidate) => ({
    ...candidate,
    outcomes: judgeApproval(candidate, evidence, rules, people, cut),
  }));
  const counted = judged.filter((j) => CRITERIA.every((c) => j.outcomes[c].ok));

  const checks: Check[] = [
    evidenceComplete(evidence),
    mergedByPullRequest(evidence),
    mergedCommitMatches(evidence),
    baseIsProtectedBranch(evidence, rules),
    reachedBranchByMerge(evidence, rules),
    contributorsIdentified(people, rules),
    latestReviewPerReviewer(inTime, standing, late),
    changesRequested(standing, rules),
    ...CRITERIA.map((criterion) => criterionCheck(criterion, judged)),
    minIndependentApprovals(judged, counted, rules, outsideAuthor(evidence, rules)),
    ...(rules.reviewedHistory === true ? [reviewedHistory(evidence, rules)] : []),
  ];

  const approvals: ApprovalRecord[] = ordered
    .filter((r) => r.state === 'APPROVED' || r.state === 'DISMISSED')
    .map((review) => {
      const record = { reviewId: review.id, reviewer: review.reviewer, state: review.state };
      const at = { commitId: review.commitId, submittedAt: review.submittedAt };
      if (review.state === 'DISMISSED') {
        return { ...record, ...at, counted: false, reason: 'dismissed: a dismissed review never counts' };
      }
      const candidate = judged.find((j) => j.review === review);
      if (!candidate) {
        if (isLate(review, cut)) {
          return { ...record, ...at, counted: false, reason: `submitted after ${describeCut(cut)}: never counts` };
        }
        const latest = standing.get(reviewerKey(review.reviewer));
        const later = latest ? `${latest.state} review ${latest.id} at ${latest.submittedAt}` : 'a later review';
        return { ...record, ...at, counted: false, reason: `superseded by the reviewer's ${later}` };
      }
      const failed = CRITERIA.filter((c) => !candidate.outcomes[c].ok).map((c) => candidate.outcomes[c].reason);
      return failed.length === 0
        ? { ...record, ...at, counted: true, reason: 'independent approval on the merged head, before the merge' }
        : { ...record, ...at, counted: false, reason: failed.join('; ') };
    });

  return {
    verdict: checks.every((c) => c.verdict === 'pass') ? 'pass' : 'fail',
    checks,
    approvals,
    independentApprovers: counted.map((j) => j.review.reviewer),
  };
}

/** Whether an account is a bot: GitHub's `Bot` type, or a login ending in `[bot]` (GitHub Apps). */
export function isBot(account: GitHubAccount): boolean {
  return account.type === 'Bot' || account.login.toLowerCase().endsWith('[bot]');
}

// ── when the review ended ─────────────────────────────────────────────────────────────────────────────────

/** The moment after which nothing a reviewer says is a review of the change: the merge, or an earlier arrival. */
interface CutOff {
  at: number;
  what: string;
}

function reviewCutOff(evidence: ReviewEvidence): CutOff | undefined {
  const pr = evidence.pullRequest;
  if (!pr) return undefined;
  let cut: CutOff = { at: Date.parse(pr.mergedAt), what: `the merge at ${pr.mergedAt}` };
  const activity = evidence.activity;
  if (activity?.available) {
    for (const arrival of activity.builtCommitArrivals) {
      const at = Date.parse(arrival.timestamp);
      if (at < cut.at) {
        cut = { at, what: `${short(evidence.commit)} reached ${arrival.ref} at ${arrival.timestamp}` };
      }
    }
  }
  return Number.isNaN(cut.at) ? undefined : cut;
}

/**
 * The last entry of the pull request's head branch in the activity feed up to the cut (the merge): who pushed last,
 * and when. Undefined without the feed (the fallback has no push times) or when it shows none.
 */
function lastHeadPush(evidence: ReviewEvidence, cut: CutOff | undefined): RefActivity | undefined {
  const activity = evidence.activity;
  if (!activity?.available) return undefined;
  const pushes = activity.headPushes.filter((p) => cut === undefined || time(p.timestamp) <= cut.at);
  const last = pushes.at(-1);
  const head = evidence.pullRequest?.headSha;
  if (!last || head === undefined) return last;
  // GitHub's times are whole seconds, and how it orders entries of one second is not documented: of the last
  // second's entries, the one that made the merged head is the last push (headPushMissing).
  const second = time(last.timestamp);
  return pushes.find((p) => time(p.timestamp) === second && sameSha(p.after, head)) ?? last;
}

function isLate(review: Review, cut: CutOff | undefined): boolean {
  if (review.state === 'PENDING') return false;
  // Without a valid merge time nothing can be shown to be before it (evidence-complete fails): all are late.
  if (!cut) return true;
  return time(review.submittedAt) > cut.at;
}

function describeCut(cut: CutOff | undefined): string {
  return cut ? cut.what : 'the merge (whose time is unknown)';
}

// ── the checks ────────────────────────────────────────────────────────────────────────────────────────────

function evidenceComplete(evidence: ReviewEvidence): Check {
  const gaps = [...evidence.gaps];
  for (const review of evidence.reviews) {
    if (review.state !== 'PENDING' && Number.isNaN(Date.parse(review.submittedAt))) {
      gaps.push(`review ${review.id} by ${review.reviewer.login} has no valid submission time (${review.submittedAt})`);
    }
  }
  const pr = evidence.pullRequest;
  if (pr && Number.isNaN(Date.parse(pr.mergedAt))) {
    gaps.push(`pull request #${pr.number} has no valid merge time (${pr.mergedAt})`);
  }
  return gaps.length === 0
    ? pass('evidence-complete', 'the pull request, its commits, reviews, pushes and permissions were all read')
    : fail('evidence-complete', `the review evidence is incomplete: ${gaps.join('; ')}`);
}

function mergedByPullRequest(evidence: ReviewEvidence): Check {
  const pr = evidence.pullRequest;
  if (!pr) {
    // With gaps, "none" may only mean the API could not show it (an unknown merge method, a failed read): say so,
    // rather than suggest a direct push.
    return fail(
      'merged-by-pull-request',
      evidence.gaps.length > 0
        ? `expected commit ${evidence.commit} to be merged through a pull request; the evidence does not establish one because it is incomplete: ${evidence.gaps.join('; ')}`
        : `expected commit ${evidence.commit} to be merged through a pull request, found none (pushed directly?)`,
    );
  }
  return pass(
    'merged-by-pull-request',
    `pull request #${pr.number} (${pr.url}) was merged into ${pr.baseRef} at ${pr.mergedAt} (merge method: ${pr.mergeMethod})`,
  );
}

function mergedCommitMatches(evidence: ReviewEvidence): Check {
  const pr = evidence.pullRequest;
  if (!pr) return notEvaluated('merged-commit-matches', 'no pull request');
  if (!sameSha(pr.mergeCommitSha, evidence.commit)) {
    return fail(
      'merged-commit-matches',
      `expected pull request #${pr.number} to be merged as the built commit ${evidence.commit}, found ${pr.mergeCommitSha}`,
    );
  }
  return pass('merged-commit-matches', `pull request #${pr.number} was merged as ${evidence.commit}, the built commit`);
}

/** The pull request went into the branch the build ran on, and that branch is one the policy protects. */
function baseIsProtectedBranch(evidence: ReviewEvidence, rules: ReviewRules): Check {
  const pr = evidence.pullRequest;
  if (!pr) return notEvaluated('base-is-protected-branch', 'no pull request');
  const built = builtBranch(evidence);
  if (built === undefined) {
    return fail(
      'base-is-protected-branch',
      evidence.builtRef === undefined
        ? `the evidence does not record the branch the build ran on, so pull request #${pr.number}'s base ${pr.baseRef} cannot be shown to be it`
        : `the build ran on ${evidence.builtRef}, not on a branch: expected refs/heads/${pr.baseRef}, the base of pull request #${pr.number}`,
    );
  }
  if (built !== pr.baseRef) {
    return fail(
      'base-is-protected-branch',
      `expected pull request #${pr.number} to be merged into ${built}, the branch the build ran on; its base is ${pr.baseRef}`,
    );
  }
  const protectedBranches = rules.protectedBranches ?? (evidence.defaultBranch ? [evidence.defaultBranch] : []);
  const source = rules.protectedBranches
    ? `the policy's review.protected-branches (${rules.protectedBranches.join(', ')})`
    : `the repository's default branch (${evidence.defaultBranch ?? 'unknown'}), as the policy names no review.protected-branches`;
  if (protectedBranches.length === 0) {
    return fail(
      'base-is-protected-branch',
      `expected ${built} to be a protected branch, but the policy names no review.protected-branches and the repository's default branch is unknown`,
    );
  }
  const hit = protectedBranches.find((b) => b === built) ?? matchesAnyGlob(built, protectedBranches);
  // The review shows what the pull request changed in its base, not how the base came to hold the rest: the default
  // branch's history is the repository's trust anchor, but any writer can create a branch a pattern (or a name the
  // repository lacks) matches, at a commit nobody reviewed, and have a harmless pull request into it approved.
  if (hit && built !== evidence.defaultBranch && rules.allowNonDefaultBranches !== true) {
    return fail(
      'base-is-protected-branch',
      `pull request #${pr.number} was merged into ${built}, which is not the repository's default branch (${evidence.defaultBranch ?? 'unknown'}): what that branch held before the merge is nobody's review — any writer can create a branch ${source} matches, at a commit nobody reviewed. Accept builds of other protected branches in the org policy (review.allow-non-default-branches: true) only where rulesets restrict creating and pushing to them`,
    );
  }
  return hit
    ? pass(
        'base-is-protected-branch',
        `pull request #${pr.number} was merged into ${built}, the branch the build ran on and a protected branch: ${source}`,
      )
    : fail(
        'base-is-protected-branch',
        `expected the build's branch ${built} to be a protected branch, found it is not among ${source}`,
      );
}

/**
 * review.reviewed-history: the evidence's walk of the built branch (recorded by the sign stage) shows every arrival
 * since the policy's history-since to be a reviewed pull request merge, chained from the built commit's base back to
 * a baseline before history-since. The walk's own verdicts (each arrival's pull request judged by these rules when it
 * was signed) are taken as recorded; its shape is checked again here: what it covers, the types, the chain.
 */
function reviewedHistory(evidence: ReviewEvidence, rules: ReviewRules): Check {
  const id = REVIEWED_HISTORY_CHECK_ID;
  const since = rules.historySince;
  if (since === undefined || Number.isNaN(Date.parse(since))) {
    return fail(id, 'the policy turns review.reviewed-history on without a valid review.history-since');
  }
  const history = evidence.history;
  if (!history) {
    return fail(
      id,
      `the policy requires every arrival on the protected branch since ${since} to be a reviewed pull request merge (review.reviewed-history), and the evidence records no walk of the branch's history (a review attestation signed without the rule)`,
    );
  }
  const walked = Date.parse(history.since);
  if (!(walked <= Date.parse(since))) {
    return fail(id, `the history was walked back to ${history.since}, not to the policy's ${since}`);
  }
  if (history.verdict !== 'pass') return fail(id, history.reason);
  // Each arrival's verdict is taken as recorded: only when it was reached under rules no looser than these. A sign
  // workflow version the org policy still lists, under its own older (looser) org policy, judged the merges below the
  // built commit by rules that let through what these refuse; stricter ones (the app's repository policy, which a
  // deployment repository's gate does not read) are taken.
  const looser = history.judgedUnder && reviewRulesLoosening(history.judgedUnder, rules);
  if (looser) {
    return fail(
      id,
      `the history's arrivals were judged under looser review rules than the policy's (${looser}): each merge walked must be judged under rules at least as strict as the ones judging the built commit (sign the release again under this policy, its repository policy included)`,
    );
  }
  const ref = `refs/heads/${builtBranch(evidence) ?? evidence.pullRequest?.baseRef}`;
  if (history.ref !== ref) return fail(id, `the history walked is ${history.ref}'s, not ${ref}'s`);
  const activity = evidence.activity;
  const arrival = activity?.available
    ? activity.builtCommitArrivals.filter((a) => a.ref === ref && MERGE_ACTIVITIES.includes(a.activityType))
    : [];
  if (arrival.length !== 1 || !sameSha(arrival[0]!.before, history.base)) {
    return fail(
      id,
      `the history starts at ${short(history.base)}, which is not the base of ${short(evidence.commit)}'s one merge into ${ref} (${arrival.map(describeActivity).join('; ') || 'none recorded'})`,
    );
  }
  let expected = history.base;
  for (const a of history.arrivals) {
    const what = `${a.type} of ${short(a.commit)} by ${a.actor?.login ?? 'an unknown actor'} at ${a.at}${a.pullRequest !== undefined ? ` (pull request #${a.pullRequest})` : ''}`;
    if (!sameSha(a.commit, expected)) {
      return fail(id, `the history's chain is broken: expected an arrival of ${short(expected)}, found the ${what}`);
    }
    if (!MERGE_ACTIVITIES.includes(a.type) || a.pullRequest === undefined || a.verdict !== 'pass') {
      return fail(id, `the ${what} is not a reviewed pull request merge: ${a.reason}`);
    }
    // At or after the walk's own since (no later than the policy's: checked above): a walk back to an earlier time (a
    // repository policy's earlier history-since) judged more arrivals than this policy asks, each passing.
    if (!(Date.parse(a.at) >= walked)) {
      return fail(id, `the ${what} is before ${history.since}: it is no arrival to judge`);
    }
    expected = a.before;
  }
  // The baseline: the newest arrival before history-since, or (the moving baseline) an arrival of a commit whose own
  // review attestation, by the sign identity with a passing walk, the sign stage found in the attestation store —
  // taken as recorded, as each arrival's verdict is (the store is not read again here).
  const baseline = history.baseline;
  const attested = typeof baseline?.attestation === 'string' && baseline.attestation !== '';
  if (
    !baseline ||
    !sameSha(baseline.commit, expected) ||
    !(attested ? !Number.isNaN(Date.parse(baseline.at)) : Date.parse(baseline.at) < Date.parse(since))
  ) {
    return fail(
      id,
      `the history does not reach a baseline before ${since} or an attested one: ${short(expected)} ${baseline ? `is not the baseline ${short(baseline.commit)} (${baseline.at})` : 'has no recorded arrival before it'}`,
    );
  }
  const count = history.arrivals.length;
  const end = attested
    ? `${short(baseline.commit)} (${baseline.at}), whose own review attestation with a passing walk the sign stage found (${baseline.attestation})`
    : `${short(baseline.commit)} (${baseline.at})`;
  return pass(
    id,
    `every arrival on ${ref} since ${since} is a reviewed pull request merge (${count === 0 ? 'none' : history.arrivals.map((a) => `#${a.pullRequest} as ${short(a.commit)}`).join(', ')}), from ${short(evidence.commit)}'s base back to ${end}`,
  );
}

/**
 * How `recorded` review rules are looser than `policy`'s, or undefined when they ask at least as much: the first rule
 * that lets through what the policy's would refuse, named. As a repository policy may only tighten the org policy:
 * more approvals, fewer bots, pushers, co-authors or branches accepted, no check turned off. history-since is compared
 * on its own (a walk back to no later than the policy's). A rule this function does not know must be equal.
 */
export function reviewRulesLoosening(recorded: ReviewRules, policy: ReviewRules): string | undefined {
  const on = (value: boolean | undefined) => value === true;
  const notIn = (list: readonly string[] | undefined, allowed: readonly string[]) =>
    (list ?? []).find((entry) => !allowed.includes(entry.toLowerCase()));
  if (recorded.minApprovals < policy.minApprovals) {
    return `min-approvals ${recorded.minApprovals}, fewer than the policy's ${policy.minApprovals}`;
  }
  if (on(recorded.allowBots) && !on(policy.allowBots)) return "allow-bots, where the policy's does not";
  if (!on(recorded.requireApprovalOnHead) && on(policy.requireApprovalOnHead)) {
    return "require-approval-on-head off, where the policy's is on";
  }
  if (!on(recorded.changesRequestedBlocks) && on(policy.changesRequestedBlocks)) {
    return "changes-requested-blocks off, where the policy's is on";
  }
  if (on(recorded.allowActivityFallback) && !on(policy.allowActivityFallback)) {
    return "allow-activity-fallback, where the policy's does not";
  }
  if (on(recorded.allowNonDefaultBranches) && !on(policy.allowNonDefaultBranches)) {
    return "allow-non-default-branches, where the policy's does not";
  }
  if (!on(recorded.reviewedHistory) && on(policy.reviewedHistory))
    return "reviewed-history off, where the policy's is on";
  if (recorded.unidentifiedCoAuthors !== 'refuse' && policy.unidentifiedCoAuthors === 'refuse') {
    return "unidentified co-authors allowed, where the policy's refuses them";
  }
  const seconds = (rules: ReviewRules) => rules.minSecondsAfterPush ?? DEFAULT_MIN_SECONDS_AFTER_PUSH;
  if (seconds(recorded) < seconds(policy)) {
    return `min-seconds-after-push ${seconds(recorded)}, fewer than the policy's ${seconds(policy)}`;
  }
  const human = notIn(
    recorded.nonHumanCoAuthors,
    policy.nonHumanCoAuthors.map((e) => e.toLowerCase()),
  );
  if (human !== undefined) return `non-human co-author ${human}, which the policy's does not name`;
  const bot = notIn(
    recorded.botPushers,
    policy.botPushers.map((l) => l.toLowerCase()),
  );
  if (bot !== undefined) return `bot pusher ${bot}, which the policy's does not name`;
  if (recorded.protectedBranches !== undefined) {
    if (policy.protectedBranches === undefined) {
      return "protected branches named, where the policy's protects only the default branch";
    }
    const branch = recorded.protectedBranches.find((b) => !coveredBy(b, policy.protectedBranches!));
    if (branch !== undefined) return `protected branch ${branch}, which the policy's does not protect`;
  }
  const known = new Set([
    'minApprovals',
    'allowBots',
    'requireApprovalOnHead',
    'changesRequestedBlocks',
    'allowActivityFallback',
    'allowNonDefaultBranches',
    'reviewedHistory',
    'historySince',
    'unidentifiedCoAuthors',
    'minSecondsAfterPush',
    'nonHumanCoAuthors',
    'botPushers',
    'protectedBranches',
  ]);
  for (const key of new Set([...Object.keys(recorded), ...Object.keys(policy)])) {
    if (known.has(key)) continue;
    const value = (rules: ReviewRules) => JSON.stringify((rules as unknown as Record<string, unknown>)[key] ?? null);
    if (value(recorded) !== value(policy)) return `${key} ${value(recorded)}, where the policy's is ${value(policy)}`;
  }
  return undefined;
}

/** The activity feed shows the built commit reaching its branch by a merge of the pull request, never by a push. */
function reachedBranchByMerge(evidence: ReviewEvidence, rules: ReviewRules): Check {
  const pr = evidence.pullRequest;
  if (!pr) return notEvaluated('reached-branch-by-merge', 'no pull request');
  const ref = `refs/heads/${builtBranch(evidence) ?? pr.baseRef}`;
  const commit = short(evidence.commit);
  const activity = evidence.activity;
  if (!activity?.available) {
    const why = activity
      ? `the activity feed could not answer: ${activity.reason}`
      : 'the evidence was recorded without the activity feed';
    return rules.allowActivityFallback
      ? pass(
          'reached-branch-by-merge',
          `not established (${why}); accepted by the policy (review.allow-activity-fallback: true): pull request #${pr.number}'s merge as ${commit} is taken as how it reached ${ref}`,
        )
      : fail(
          'reached-branch-by-merge',
          `expected GitHub's repository activity feed to show how ${commit} reached ${ref}; ${why}. Grant the sign job read access to the repository, or accept the fallback in the org policy (review.allow-activity-fallback: true)`,
        );
  }
  const arrivals = activity.builtCommitArrivals.filter((a) => a.ref === ref && sameSha(a.after, evidence.commit));
  const pushes = arrivals.filter((a) => !MERGE_ACTIVITIES.includes(a.activityType));
  if (pushes.length > 0) {
    return fail(
      'reached-branch-by-merge',
      `${commit} was pushed to ${ref} directly: ${pushes.map(describeActivity).join('; ')}; a push is not a merge of pull request #${pr.number}, even of its merge commit`,
    );
  }
  const merges = arrivals.filter((a) => MERGE_ACTIVITIES.includes(a.activityType));
  if (merges.length === 0) {
    return fail(
      'reached-branch-by-merge',
      `expected the activity feed to show ${commit} reaching ${ref} by pr_merge or merge_queue_merge, found ${activity.builtCommitArrivals.length ? activity.builtCommitArrivals.map(describeActivity).join('; ') : 'no entry'}`,
    );
  }
  return pass('reached-branch-by-merge', `${commit} reached ${ref} by ${merges.map(describeActivity).join('; ')}`);
}

function contributorsIdentified(people: People, rules: ReviewRules): Check {
  const problems = [...people.unidentified];
  const coAuthors = people.unidentifiedCoAuthors;
  if (coAuthors.length > 0 && rules.unidentifiedCoAuthors === 'refuse') {
    problems.push(
      `co-author${coAuthors.length === 1 ? '' : 's'} ${coAuthors.join('; ')} match${coAuthors.length === 1 ? 'es' : ''} no GitHub account ` +
        '(to accept unidentified co-authors, set review.unidentified-co-authors: allow in the org policy; to ignore a bot or coding assistant, list its e-mail in review.non-human-co-authors)',
    );
  }
  if (problems.length === 0) {
    const allowed =
      coAuthors.length > 0
        ? `; co-authors matching no account, allowed by the policy (review.unidentified-co-authors: allow): ${coAuthors.join('; ')}`
        : '';
    return pass(
      'contributors-identified',
      `every author, committer, co-author and pusher is a known GitHub account${allowed}`,
    );
  }
  return fail(
    'contributors-identified',
    `expected every author, committer and co-author to be a GitHub account, found ${problems.join('; ')}: ` +
      'without an account nobody can tell whether a reviewer wrote that code',
  );
}

function latestReviewPerReviewer(inTime: Review[], standing: Map<string, Review>, late: Review[]): Check {
  const latest = [...standing.values()].map((r) => `${r.reviewer.login} ${r.state} (review ${r.id})`);
  const superseded = inTime
    .filter((r) => r.state === 'APPROVED' && standing.get(reviewerKey(r.reviewer)) !== r)
    .map((r) => {
      const later = standing.get(reviewerKey(r.reviewer));
      return `${r.reviewer.login}'s approval (review ${r.id}) was superseded by ${later?.state ?? 'a later review'} (review ${later?.id})`;
    });
  const after = late
    .filter((r) => r.state !== 'COMMENTED')
    .map((r) => `${r.reviewer.login} ${r.state} (review ${r.id}) at ${r.submittedAt}, after the merge: not counted`);
  const detail = [
    `latest review per reviewer before the merge: ${latest.join(', ') || 'none'}`,
    ...superseded,
    ...after,
  ].join('; ');
  return [...standing.values()].some((r) => r.state === 'APPROVED')
    ? pass('latest-review-per-reviewer', detail)
    : fail(
        'latest-review-per-reviewer',
        `expected an approval as some reviewer's latest review before the merge, found none; ${detail}`,
      );
}

function changesRequested(standing: Map<string, Review>, rules: ReviewRules): Check {
  const outstanding = [...standing.values()].filter((r) => r.state === 'CHANGES_REQUESTED');
  const who = outstanding.map((r) => `${r.reviewer.login} (review ${r.id} at ${r.submittedAt})`).join(', ');
  if (outstanding.length === 0)
    return pass('changes-requested', 'no reviewer had changes requested outstanding at the merge');
  if (!rules.changesRequestedBlocks) {
    return pass(
      'changes-requested',
      `not enforced by the policy (changes-requested-blocks: false); outstanding: ${who}`,
    );
  }
  return fail('changes-requested', `expected no outstanding "changes requested" at the merge, found: ${who}`);
}

type Judged = Candidate & { outcomes: Outcomes };

function criterionCheck(criterion: Criterion, judged: Judged[]): Check {
  if (judged.length === 0) return fail(criterion, 'no standing approval to judge');
  const met = judged.filter((j) => j.outcomes[criterion].ok);
  const unmet = judged.filter((j) => !j.outcomes[criterion].ok).map((j) => j.outcomes[criterion].reason);
  if (met.length === 0) return fail(criterion, unmet.join('; '));
  const reasons = met.map((j) => j.outcomes[criterion].reason);
  return pass(criterion, [...reasons, ...unmet.map((r) => `not counted: ${r}`)].join('; '));
}

/**
 * Why the pull request's author is not someone accountable for the change, if so: a person without write access to
 * the repository — anyone can open a pull request on a public repository, from a fork, under an account made for the
 * purpose — or whose permission the evidence does not record, or a bot. Their change then needs one more independent
 * approval: two people with write access must stand behind it, as when a writer opens it.
 */
function outsideAuthor(evidence: ReviewEvidence, rules: ReviewRules): string | undefined {
  const author = evidence.pullRequest?.author;
  if (!author) return undefined;
  if (isBot(author)) {
    // A bot opens whatever whoever directs it asks (a workflow's GITHUB_TOKEN opening a sock puppet's fork), and even
    // one the policy trusts as a pusher (`review.bot-pushers`, e.g. dependabot[bot]) stands for nobody: its bump pins
    // whatever what it watches holds — an internal package, a submodule, an action tag a writer may push unreviewed —
    // so alone, her approval of the bump would ship her own code (found by the review of bots and agents).
    const listed = rules.botPushers.some((login) => login.toLowerCase() === author.login.toLowerCase());
    return listed
      ? `the author ${author.login} is a bot: nobody stands behind its change as its author`
      : `the author ${author.login} is a bot review.bot-pushers does not list`;
  }
  const permission = permissionOf(evidence.permissions, author.login);
  if (permission !== undefined && WRITE_PERMISSIONS.includes(permission)) return undefined;
  return permission === undefined
    ? `the author ${author.login}'s permission on ${evidence.repository} is not in the evidence`
    : `the author ${author.login} has ${permission} permission on ${evidence.repository}`;
}

function minIndependentApprovals(
  judged: Judged[],
  counted: Judged[],
  rules: ReviewRules,
  outsider: string | undefined,
): Check {
  const names = counted.map((j) => j.review.reviewer.login);
  const notCounted = judged
    .filter((j) => !counted.includes(j))
    .map((j) => {
      const why = CRITERIA.filter((c) => !j.outcomes[c].ok).map((c) => j.outcomes[c].reason);
      return why.join('; ');
    });
  const found = `${names.length} independent approval${names.length === 1 ? '' : 's'}${names.length ? ` (${names.join(', ')})` : ''}`;
  const detail = notCounted.length ? `; not counted: ${notCounted.join('; ')}` : '';
  // An author nobody made accountable (no write access) is not one of the two people: one more approval stands in.
  const required = outsider ? rules.minApprovals + 1 : rules.minApprovals;
  const why = outsider
    ? ` (${rules.minApprovals} + 1: ${outsider}, so another person with write access must approve the change too)`
    : '';
  return names.length >= required
    ? pass('min-independent-approvals', `${found}, at least ${required} required${why}${detail}`)
    : fail('min-independent-approvals', `expected at least ${required}${why}, found ${found}${detail}`);
}

// ── one approval against each criterion ───────────────────────────────────────────────────────────────────

type Outcomes = Record<Criterion, { ok: boolean; reason: string }>;

function judgeApproval(
  candidate: Candidate,
  evidence: ReviewEvidence,
  rules: ReviewRules,
  people: People,
  cut: CutOff | undefined,
): Outcomes {
  const { review } = candidate;
  const who = review.reviewer.login;
  const pr = evidence.pullRequest;
  const outcomes = {} as Outcomes;

  outcomes['approval-before-merge'] = candidate.late
    ? {
        ok: false,
        reason: `${who} approved at ${review.submittedAt}, after ${describeCut(cut)}: an approval given after the merge never counts`,
      }
    : { ok: true, reason: `${who} approved at ${review.submittedAt}, before ${describeCut(cut)}` };

  outcomes['approval-on-merged-head'] = mergedHeadOutcome(review, evidence, rules, cut);

  const isAuthor = pr !== undefined && sameAccount(review.reviewer, pr.author);
  outcomes['reviewer-not-author'] = isAuthor
    ? { ok: false, reason: `${who} is the author of pull request #${pr.number}` }
    : { ok: true, reason: `${who} is not the pull request's author${pr ? ` (${pr.author.login})` : ''}` };

  outcomes['reviewer-not-contributor'] = contributorOutcome(review.reviewer, people);
  outcomes['reviewer-not-last-pusher'] = lastPusherOutcome(review.reviewer, evidence, rules, people, cut);

  outcomes['reviewer-not-bot'] = !isBot(review.reviewer)
    ? { ok: true, reason: `${who} is not a bot` }
    : rules.allowBots
      ? { ok: true, reason: `${who} is a bot, allowed by the policy (allow-bots: true)` }
      : { ok: false, reason: `${who} is a bot, and the policy does not count bots (allow-bots: false)` };

  const permission = permissionOf(evidence.permissions, review.reviewer.login);
  outcomes['reviewer-has-write-access'] =
    permission === undefined
      ? {
          ok: false,
          reason: `${who}'s permission on ${evidence.repository} is unknown (expected write, maintain or admin)`,
        }
      : WRITE_PERMISSIONS.includes(permission)
        ? { ok: true, reason: `${who} has ${permission} permission on ${evidence.repository}` }
        : {
            ok: false,
            reason: `${who} has ${permission} permission on ${evidence.repository}, expected write, maintain or admin`,
          };
  return outcomes;
}

/**
 * Whether the approval is of what was merged: given on the merged head, after the base last changed, and long enough
 * after the head's last push that it cannot be of the head before it.
 */
function mergedHeadOutcome(
  review: Review,
  evidence: ReviewEvidence,
  rules: ReviewRules,
  cut: CutOff | undefined,
): { ok: boolean; reason: string } {
  const who = review.reviewer.login;
  const pr = evidence.pullRequest;
  if (!pr) return { ok: false, reason: `${who}: no pull request to have approved` };
  if (!rules.requireApprovalOnHead) {
    return {
      ok: true,
      reason: `${who} approved ${short(review.commitId)} (approval on the merged head not required by the policy)`,
    };
  }
  const head = short(pr.headSha);
  if (!sameSha(review.commitId, pr.headSha)) {
    return {
      ok: false,
      reason: `${who} approved ${short(review.commitId)}, not the merged head ${head} (given before the last push)`,
    };
  }
  if (pr.baseChanges === undefined) {
    // Recorded by every sign stage since retargeting was judged (an empty list when there was none): evidence without
    // it (a review attestation signed before) cannot show the base stayed what was approved.
    return {
      ok: false,
      reason: `${who} approved the merged head ${head}, but whether the pull request's base was changed since is not in the evidence (a review attestation signed before twokey recorded it): sign the change again`,
    };
  }
  const required = rules.minSecondsAfterPush ?? DEFAULT_MIN_SECONDS_AFTER_PUSH;
  const pushed = lastHeadPush(evidence, cut);
  // An approval names the head it approved, never the base: a reviewer who opened the diff against one base approves
  // after the author moved the pull request onto another (from an unprotected branch holding commits nobody
  // reviewed, onto the protected one), and nothing tells that approval from one of the new diff, however long after.
  // GitHub's own retarget of a stacked pull request is no different: it happens when its base branch is deleted,
  // which the author times, and that branch may hold commits pushed after its own pull request was merged. So after a
  // base change an approval counts only of a head pushed after it (long enough after it, in the activity feed): a
  // reviewer's page, opened before that push, shows and approves the head before it (the web form names the commit
  // shown), so an approval of the merged head is of a page opened after the change — the diff against the new base.
  // (An approval submitted without naming its commit is recorded on the newest head: min-seconds-after-push, below.)
  const changed = pr.baseChanges.at(-1);
  if (changed) {
    // The merged head's first push, not its last: pushed away and back to the same commit after the change, the head
    // a page opened before the change showed is the merged head again, and that page's approval names it. And only
    // from a feed that reaches back to the head branch's creation before the pull request was opened: a branch whose
    // start is not in it (a fork's branch copied when the fork was made, an entry older than the feed keeps) may
    // have been at the merged head before the change with nothing to show it.
    const feed = evidence.activity?.available ? evidence.activity.headPushes : [];
    const earliest = (entries: RefActivity[]) =>
      entries.reduce<RefActivity | undefined>(
        (a, b) => (a && time(a.timestamp) <= time(b.timestamp) ? a : b),
        undefined,
      );
    const start = earliest(feed);
    const fromCreation =
      start?.activityType === 'branch_creation' &&
      pr.createdAt !== undefined &&
      time(start.timestamp) <= time(pr.createdAt);
    const first =
      pushed && headPushMissing(pushed, pr.headSha) === undefined && fromCreation
        ? earliest(feed.filter((p) => sameSha(p.after, pr.headSha)))
        : undefined;
    const pushedAfter = first ? secondsBetween(changed.at, first.timestamp) : undefined;
    if (pushedAfter === undefined || pushedAfter < Math.max(required, 1)) {
      const by = changed.automatic
        ? `GitHub changed the pull request's base at ${changed.at} (moving a stacked pull request onto ${pr.baseRef} when its base branch was deleted${changed.actor ? `, by ${changed.actor.login}` : ''})`
        : `${changed.actor?.login ?? '(no account)'} changed the pull request's base at ${changed.at}`;
      const head = !pushed
        ? 'no push of the merged head is in the evidence (no activity feed)'
        : !fromCreation
          ? "the activity feed does not reach back to the head branch's creation before the pull request was opened, so it cannot show the merged head was not the head before the change"
          : `the merged head was ${pushedAfter === undefined ? 'not shown pushed after it' : pushedAfter < 0 ? 'first pushed before it' : `first pushed ${pushedAfter} s after it`}`;
      return {
        ok: false,
        reason: `${who} approved the merged head ${short(pr.headSha)}, but ${by}, and ${head}: an approval names the head it approved, never the base, so only an approval of a head first pushed at least ${Math.max(required, 1)} s after the change shows it was of the diff against ${pr.baseRef} (a reviewer who opened the diff against the base before approves after the change); push the head again and approve it, or open a new pull request against ${pr.baseRef}`,
      };
    }
  }
  // Without the activity feed (the fallback) no push has a time: the approval is judged by its commit alone.
  if (!pushed) return { ok: true, reason: `${who} approved the merged head ${head}` };
  const missing = headPushMissing(pushed, pr.headSha);
  if (missing) return { ok: false, reason: `${who} approved the merged head ${head}, but ${missing}` };
  const elapsed = secondsBetween(pushed.timestamp, review.submittedAt);
  // A review submitted without naming its commit (`gh pr review --approve`, REST without commit_id, GraphQL without
  // commitOID) is recorded on the newest head: a push just before it lands under an approval of the head before.
  // GitHub's times have whole seconds, so a push in the approval's own second may have come just before it.
  if (elapsed === undefined || elapsed < Math.max(required, 1)) {
    return {
      ok: false,
      reason: `${who} approved the merged head ${head} at ${review.submittedAt}, ${tooSoon(pushed, pr.headSha, elapsed)}; approve again (review.min-seconds-after-push: ${required})`,
    };
  }
  // A closed pull request does not follow its branch: pushed while it was closed, the head moves when it is reopened,
  // and an approval submitted without naming its commit just after the reopening is recorded on the head it brought,
  // however long after its push. So the same margin after a reopening (one before that push is further from the
  // approval than the push, whose margin held; an approval before it was given while the head was already the merged
  // head, before the pull request was closed; one at an unreadable time, refused).
  const sinceReopen = (pr.reopens ?? [])
    .map((r) => ({ reopen: r, elapsed: secondsBetween(r.at, review.submittedAt) }))
    .find(({ elapsed }) => elapsed === undefined || (elapsed >= 0 && elapsed < Math.max(required, 1)));
  if (sinceReopen) {
    const { reopen: reopened, elapsed: since } = sinceReopen;
    const when =
      since === undefined ? 'at an unreadable time after' : since === 0 ? 'in the same second as' : `${since} s after`;
    return {
      ok: false,
      reason: `${who} approved the merged head ${head} at ${review.submittedAt}, ${when} ${reopened.actor?.login ?? '(no account)'} reopened the pull request at ${reopened.at}: reopened, a pull request's head moves to what was pushed while it was closed, and an approval that soon after may be of the head before it; approve again (review.min-seconds-after-push: ${required})`,
    };
  }
  return {
    ok: true,
    reason: `${who} approved the merged head ${head}, ${elapsed} s after ${describePush(pushed, pr.headSha)} (at least ${required} s required)`,
  };
}

/**
 * Why the head branch's last push before the merge cannot be the push that made the merged head (undefined when it
 * made it): the activity feed then lacks that push (late, or incomplete), and with it who pushed last and when.
 */
function headPushMissing(pushed: RefActivity, headSha: string): string | undefined {
  if (sameSha(pushed.after, headSha)) return undefined;
  return `the activity feed's last push to ${pushed.ref} before the merge (${describeActivity(pushed)}) did not make the merged head ${short(headSha)}: the push that did is not in the feed`;
}

/** Why an approval of the merged head does not stand after its last push, in words (`3 s after alice pushed it…`). */
function tooSoon(pushed: RefActivity, headSha: string, elapsed: number | undefined): string {
  const push = describePush(pushed, headSha);
  if (elapsed === undefined) return `but ${push} or the approval has an unreadable time: it cannot be shown to follow`;
  if (elapsed < 0) return `before ${push}: an approval counts only after the head's last push`;
  const when = elapsed === 0 ? `in the same second as ${push}` : `${elapsed} s after ${push}`;
  return `${when}: an approval that soon after a push may be of the head before it (a review submitted without naming its commit is recorded on the newest head)`;
}

/** The head branch's last push, as its reasons name it: `alice pushed it at T` when it made the merged head. */
function describePush(pushed: RefActivity, headSha: string): string {
  if (!sameSha(pushed.after, headSha)) return `the head branch's last push (${describeActivity(pushed)})`;
  const by = pushed.actor?.login ?? '(no account)';
  const how =
    pushed.activityType === 'push'
      ? 'pushed it'
      : pushed.activityType === 'force_push'
        ? 'force-pushed it'
        : `made it the head (${pushed.activityType})`;
  return `${by} ${how} at ${pushed.timestamp}`;
}

function contributorOutcome(reviewer: GitHubAccount, people: People): { ok: boolean; reason: string } {
  const who = reviewer.login;
  const contributions = people.contributionsOf(reviewer);
  if (contributions.length > 0) return { ok: false, reason: `${who} ${contributions.join(', ')}` };
  // Without the profile, a commit signed with the reviewer's name or public e-mail could not be matched to them.
  if (!people.hasProfile(reviewer)) {
    return {
      ok: false,
      reason: `${who}'s GitHub profile (name, public e-mail) is not in the evidence, so the commits cannot be shown not to be ${who}'s`,
    };
  }
  return {
    ok: true,
    reason: `${who} authored, committed, co-authored and pushed none of the pull request's commits (matched by account, e-mail and name)`,
  };
}

function lastPusherOutcome(
  reviewer: GitHubAccount,
  evidence: ReviewEvidence,
  rules: ReviewRules,
  people: People,
  cut: CutOff | undefined,
): { ok: boolean; reason: string } {
  const who = reviewer.login;
  const activity = evidence.activity;
  const last = lastHeadPush(evidence, cut);
  if (last) {
    if (!last.actor) {
      return { ok: false, reason: `${who}: the last push to ${last.ref} (${last.timestamp}) names no account` };
    }
    const missing = evidence.pullRequest && headPushMissing(last, evidence.pullRequest.headSha);
    if (missing) return { ok: false, reason: `${who}: ${missing}, so who pushed last is unknown` };
    return sameAccount(last.actor, reviewer)
      ? { ok: false, reason: `${who} is the last pusher (${describeActivity(last)}, from the activity feed)` }
      : { ok: true, reason: `${who} is not the last pusher (${describeActivity(last)}, from the activity feed)` };
  }
  // The fallback: a guess from force-push events and the head commit's author and committer.
  const why = !activity
    ? 'the evidence was recorded without the activity feed'
    : activity.available
      ? 'the activity feed shows no push to the head branch before the merge'
      : `the activity feed could not answer: ${activity.reason}`;
  if (!rules.allowActivityFallback) {
    return {
      ok: false,
      reason: `${who}: who pushed last is not established (${why}); the policy does not accept a guess (review.allow-activity-fallback: false)`,
    };
  }
  const { accounts, people: persons, source } = evidence.lastPush;
  if (accounts.length === 0 && persons.length === 0) {
    return {
      ok: false,
      reason: `${who}: who pushed last is unknown, so ${who} cannot be shown not to be the last pusher`,
    };
  }
  const how =
    source === 'head_ref_force_pushed' ? 'force-pushed the head branch last' : 'authored or committed the head commit';
  const fallback = `fallback, as ${why}`;
  if (accounts.some((a) => sameAccount(a, reviewer)) || persons.some((p) => people.personIs(p, reviewer))) {
    return { ok: false, reason: `${who} is the last pusher (${how}; ${fallback})` };
  }
  const names = [...accounts.map((a) => a.login), ...persons.map((p) => p.account?.login ?? p.email)];
  return { ok: true, reason: `${who} is not the last pusher (${[...new Set(names)].join(', ')} ${how}; ${fallback})` };
}

// ── who the people are, and what each did ─────────────────────────────────────────────────────────────────

/** Matches GitHub's noreply addresses: `123+login@users.noreply.github.com` and `login@users.noreply.github.com`. */
const NOREPLY = /^(?:(\d+)\+)?([^@\s]+)@users\.noreply\.[^@\s]+$/i;

/** GitHub's own committer for web edits and merges: a service, never a reviewer. */
const GITHUB_SERVICE_EMAIL = 'noreply@github.com';

/**
 * Everything known to tell one account: the e-mails and names (normalised) the evidence ties to it. A person matching
 * any of them may be the account (personIs: then a contributor, never independent). Whom they identify a person as
 * (identified) is narrower: a profile's name is whatever its holder typed, and its public e-mail whatever address its
 * holder verified (bob's, moved to a second account of his), so they identify only for an account GitHub linked to
 * the change (`linked`: a commit's author or committer, the pull request's author) or one not known to lack
 * write access (a code reviewer's permission is in the evidence; an environment reviewer's is not); a decoy account
 * without access, named after a co-author on its profile and reviewing (after the merge will do),
 * would otherwise make that co-author "identified" as itself, and the real co-author's approval independent.
 */
interface KnownIdentity {
  account: GitHubAccount;
  emails: Set<string>;
  names: Set<string>;
  linked: boolean;
}

/**
 * The people of a pull request: every git identity in its commits (authors, committers, co-authors, the merge
 * commit's co-authors), the pushers of its head branch, and every account GitHub told us about, with the e-mails
 * and names that identify each (profile name and public e-mail, noreply forms, e-mails linked in the commits).
 */
class People {
  private readonly known = new Map<number, KnownIdentity>();
  private readonly profiled = new Set<number>();
  private readonly entries: { person: GitPerson; role: string }[] = [];
  private readonly pushers: { account: GitHubAccount; role: string }[] = [];
  private readonly permissions: Record<string, RepositoryPermission>;
  readonly unidentified: string[] = [];
  readonly unidentifiedCoAuthors: string[] = [];

  constructor(evidence: ReviewEvidence, rules: ReviewRules) {
    this.permissions = evidence.permissions;
    const nonHuman = new Set(rules.nonHumanCoAuthors.map((e) => e.toLowerCase()));
    const persons = [...evidence.commits.flatMap((c) => [c.author, c.committer]), ...evidence.lastPush.people];
    for (const person of persons) {
      if (person.account) this.learn(person.account, { email: person.email, name: person.name }, true);
    }
    for (const profile of evidence.profiles ?? []) this.learnProfile(profile);
    if (evidence.pullRequest) this.learn(evidence.pullRequest.author, {}, true);
    for (const review of evidence.reviews) this.learn(review.reviewer, {});

    const coAuthorsOf = (sha: string, coAuthors: { name: string; email: string }[], where: string) => {
      for (const coAuthor of coAuthors) {
        if (nonHuman.has(coAuthor.email.toLowerCase())) continue;
        this.entries.push({ person: coAuthor, role: `co-authored ${where}` });
        if (!this.identified(coAuthor, false)) {
          this.unidentifiedCoAuthors.push(`"${coAuthor.name} <${coAuthor.email}>" of ${short(sha)}`);
        }
      }
    };
    for (const commit of evidence.commits) {
      this.entries.push({ person: commit.author, role: `authored commit ${short(commit.sha)}` });
      this.entries.push({ person: commit.committer, role: `committed ${short(commit.sha)}` });
      coAuthorsOf(commit.sha, commit.coAuthors, `commit ${short(commit.sha)}`);
      for (const [person, role] of [
        [commit.author, 'author'],
        [commit.committer, 'committer'],
      ] as const) {
        if (!this.identified(person, true)) {
          this.unidentified.push(
            `${role} of ${short(commit.sha)} "${person.name} <${person.email}>" has no GitHub account`,
          );
        }
      }
    }
    coAuthorsOf(evidence.commit, evidence.mergeCommitCoAuthors ?? [], `the merge commit ${short(evidence.commit)}`);
    // A bot's push names the app, not the person who had it push: github-actions[bot] pushes whatever any writer's
    // workflow commits with its GITHUB_TOKEN, a coding agent whatever its requester asks. Only the bots the policy
    // lists (review.bot-pushers: none a member can direct, such as dependabot[bot]) are pushers like any account.
    const botPushers = new Set(rules.botPushers.map((login) => login.toLowerCase()));
    const unlistedBot = (account: GitHubAccount) => isBot(account) && !botPushers.has(account.login.toLowerCase());
    const botPush = (account: GitHubAccount, what: string) =>
      `${what} was made by ${account.login}, a bot, so whoever had it push (any writer, through a workflow's GITHUB_TOKEN, for github-actions[bot]) is unknown; list a bot no member can direct in review.bot-pushers`;
    if (evidence.activity?.available) {
      for (const push of evidence.activity.headPushes) {
        const what = `the ${push.activityType === 'push' ? 'push' : push.activityType} to ${push.ref} at ${push.timestamp}`;
        if (!push.actor) {
          this.unidentified.push(`${what} names no account`);
          continue;
        }
        const role =
          push.activityType === 'pr_merge'
            ? `merged a pull request into ${push.ref} at ${push.timestamp}`
            : push.activityType === 'merge_queue_merge'
              ? `merged into ${push.ref} through a merge queue at ${push.timestamp}`
              : `pushed to ${push.ref} at ${push.timestamp}`;
        this.pushers.push({ account: push.actor, role });
        if (unlistedBot(push.actor)) this.unidentified.push(botPush(push.actor, what));
      }
    }
    if (evidence.lastPush.source === 'head_ref_force_pushed') {
      for (const account of evidence.lastPush.accounts.filter(unlistedBot)) {
        this.unidentified.push(botPush(account, 'the last force push to the head branch (fallback)'));
      }
    }
    for (const person of evidence.lastPush.people) {
      if (!this.identified(person, true)) {
        this.unidentified.push(`the last pusher "${person.name} <${person.email}>" has no GitHub account`);
      }
    }
  }

  /** What the account did in the pull request, in words (empty: nothing). */
  contributionsOf(account: GitHubAccount): string[] {
    const roles = [
      ...this.entries.filter((e) => this.personIs(e.person, account)).map((e) => e.role),
      ...this.pushers.filter((p) => sameAccount(p.account, account)).map((p) => p.role),
    ];
    return [...new Set(roles)];
  }

  /** Every account a git identity may be (personIs, over every account known), none for GitHub's own service. */
  accountsOf(person: { name: string; email: string; account?: GitHubAccount }): GitHubAccount[] {
    if (person.email.toLowerCase() === GITHUB_SERVICE_EMAIL) return [];
    const found = new Map<number, GitHubAccount>();
    if (person.account) found.set(person.account.id, person.account);
    const noreply = NOREPLY.exec(person.email);
    if (noreply?.[1] !== undefined && Number.isSafeInteger(Number(noreply[1])) && !found.has(Number(noreply[1]))) {
      const id = Number(noreply[1]);
      found.set(id, this.known.get(id)?.account ?? { login: noreply[2]!, id, type: 'User' });
    }
    for (const { account } of this.known.values()) {
      if (!found.has(account.id) && this.personIs(person, account)) found.set(account.id, account);
    }
    return [...found.values()];
  }

  /** Whether the evidence holds the account's public profile (its name and public e-mail, when it shows them). */
  hasProfile(account: GitHubAccount): boolean {
    return this.profiled.has(account.id);
  }

  /**
   * Whether a git identity is this account: the account GitHub linked to it, one of its noreply addresses, an
   * e-mail GitHub links to it (in the commits, or public on its profile), or its name (profile name, login, a name
   * it committed under), compared after normalisation.
   */
  personIs(person: { name: string; email: string; account?: GitHubAccount }, account: GitHubAccount): boolean {
    if (person.account && sameAccount(person.account, account)) return true;
    const email = person.email.toLowerCase();
    const noreply = NOREPLY.exec(email);
    if (noreply) {
      if (noreply[1] !== undefined && Number(noreply[1]) === account.id) return true;
      if (noreply[2]!.toLowerCase() === account.login.toLowerCase()) return true;
    }
    const known = this.identityOf(account);
    if (email !== '' && email !== GITHUB_SERVICE_EMAIL && known.emails.has(email)) return true;
    const name = normaliseName(person.name);
    return name !== '' && known.names.has(name);
  }

  private identityOf(account: GitHubAccount): KnownIdentity {
    const byId = this.known.get(account.id);
    if (byId) return byId;
    const byLogin = [...this.known.values()].find((k) => k.account.login.toLowerCase() === account.login.toLowerCase());
    return byLogin ?? { account, emails: new Set(), names: new Set([normaliseName(account.login)]), linked: false };
  }

  /** What the evidence says of an account; `linked`: GitHub linked it to the change (KnownIdentity). */
  private learn(account: GitHubAccount, seen: { email?: string; name?: string }, linked = false): void {
    let known = this.known.get(account.id);
    if (!known) {
      known = { account, emails: new Set(), names: new Set([normaliseName(account.login)]), linked };
      this.known.set(account.id, known);
    }
    if (linked) known.linked = true;
    const email = seen.email?.toLowerCase();
    if (email && email !== GITHUB_SERVICE_EMAIL) known.emails.add(email);
    const name = seen.name === undefined ? '' : normaliseName(seen.name);
    // GitHub's own web-flow identity names the service, not a person.
    if (name !== '' && email !== GITHUB_SERVICE_EMAIL) known.names.add(name);
  }

  private learnProfile(profile: AccountProfile): void {
    this.learn(profile.account, { email: profile.email, name: profile.name });
    this.profiled.add(profile.account.id);
  }

  /**
   * A git identity is identified when it is some account GitHub knows of, or GitHub's own service: an account GitHub
   * linked to it; a noreply address of the `ID+login` form (compared by id: in a co-author's trailer, which GitHub
   * links to nobody, any id; for a commit's author or committer, which GitHub links, only an account of the evidence's
   * — an id GitHub did not link is no account's: anyone may write `999+nobody@users.noreply.github.com`); or an e-mail or
   * a name of an account whose e-mails and names identify (KnownIdentity: not a profile's of a reviewer without write
   * access — GitHub verifies a public e-mail, but only as its holder's, and bob may verify his on a second account). A
   * `login@users.noreply…` address GitHub linked to no account identifies nobody: its login may be someone's from
   * before a rename (freed and taken by an account that only has to appear in the evidence, a comment will do).
   */
  private identified(person: GitPerson | { name: string; email: string }, linkable: boolean): boolean {
    const email = person.email.toLowerCase();
    if ('account' in person && person.account !== undefined) return true;
    if (email === GITHUB_SERVICE_EMAIL) return true;
    const id = NOREPLY.exec(email)?.[1];
    if (id !== undefined) return !linkable || this.known.has(Number(id));
    const name = normaliseName(person.name);
    return [...this.known.values()].some(
      (k) =>
        (k.linked || !this.withoutWriteAccess(k.account)) &&
        ((email !== '' && k.emails.has(email)) || (name !== '' && k.names.has(name))),
    );
  }

  /**
   * Whether the evidence records the account's permission, and it is less than write (a code reviewer's is always
   * recorded; an environment's reviewers', whom the admins named, are not: a break-glass's or a deploy's approvers).
   */
  private withoutWriteAccess(account: GitHubAccount): boolean {
    const permission = permissionOf(this.permissions, account.login);
    return permission !== undefined && !WRITE_PERMISSIONS.includes(permission);
  }
}

/**
 * A name as people are compared by it: compatibility-decomposed, accents and case dropped, whitespace collapsed
 * (`  Bøb  BUILDER ` and `bob builder` differ only by ø; `José` and `jose` are one).
 */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[\s\p{Z}]+/gu, ' ')
    .trim();
}

/** The branch the build ran on (`refs/heads/B` → `B`), or undefined when unknown or not a branch. */
function builtBranch(evidence: ReviewEvidence): string | undefined {
  const ref = evidence.builtRef;
  return ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

function describeActivity(a: RefActivity): string {
  return `${a.activityType} by ${a.actor?.login ?? '(no account)'} at ${a.timestamp}`;
}

// ── small domain helpers ───────────────────────────────────────────────────────────────────────────────────

/** Reviews oldest first: by submission time, then by id (GitHub's ids increase). */
function chronological(reviews: Review[]): Review[] {
  return [...reviews].sort((a, b) => time(a.submittedAt) - time(b.submittedAt) || a.id - b.id);
}

/**
 * Whole seconds from one GitHub time to a later one, by their seconds (GitHub's times have whole seconds: two in one
 * second are 0 apart, whichever came first); undefined when either is unreadable.
 */
function secondsBetween(from: string, to: string): number | undefined {
  const [start, end] = [Date.parse(from), Date.parse(to)];
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return Math.floor(end / 1000) - Math.floor(start / 1000);
}

function time(iso: string): number {
  const t = Date.parse(iso);
  // An unreadable time sorts first, so it never overrides a dated review (and evidence-complete fails).
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** Each reviewer's latest approval, "changes requested" or dismissal: where that reviewer stands. */
function latestDecisiveReviews(ordered: Review[]): Map<string, Review> {
  const standing = new Map<string, Review>();
  for (const review of ordered) {
    if (DECISIVE_STATES.includes(review.state)) standing.set(reviewerKey(review.reviewer), review);
  }
  return standing;
}

function reviewerKey(account: GitHubAccount): string {
  return `${account.id}`;
}

/** Same GitHub account: the same numeric id, or the same login (logins are case-insensitive). */
function sameAccount(a: GitHubAccount, b: GitHubAccount): boolean {
  return a.id === b.id || a.login.toLowerCase() === b.login.toLowerCase();
}

function permissionOf(
  permissions: Record<string, RepositoryPermission>,
  login: string,
): RepositoryPermission | undefined {
  if (Object.hasOwn(permissions, login)) return permissions[login];
  const key = Object.keys(permissions).find((k) => k.toLowerCase() === login.toLowerCase());
  return key === undefined ? undefined : permissions[key];
}

function sameSha(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

function pass(id: ReviewCheckId, reason: string): Check {
  return { id, verdict: 'pass', reason };
}

function fail(id: ReviewCheckId, reason: string): Check {
  return { id, verdict: 'fail', reason };
}

/** A check that could not be evaluated for want of what it reads: never a pass (the decision fails closed). */
function notEvaluated(id: ReviewCheckId, reason: string): Check {
  return { id, verdict: 'not-evaluated', reason };
}
