// The review rules: was the commit that was built merged through a pull request that someone independent approved?
// Pure: evidence in (collected by packages/github, or read back from a review attestation), named checks out.
// The sign stage runs this on live evidence; the deploy gate runs it again on what the attestation recorded.

import type {
  Check,
  GitHubAccount,
  GitPerson,
  RepositoryPermission,
  Review,
  ReviewEvidence,
  ReviewRules,
  ReviewState,
  Verdict,
} from './model';

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
  'contributors-identified',
  'latest-review-per-reviewer',
  'changes-requested',
  'approval-on-merged-head',
  'reviewer-not-author',
  'reviewer-not-contributor',
  'reviewer-not-last-pusher',
  'reviewer-not-bot',
  'reviewer-has-write-access',
  'min-independent-approvals',
] as const;

/** A review check id. */
export type ReviewCheckId = (typeof REVIEW_CHECK_IDS)[number];

/** Permissions that let someone merge: only their approval is a review (anyone can approve on a public repository). */
const WRITE_PERMISSIONS: readonly RepositoryPermission[] = ['write', 'maintain', 'admin'];

/** Review states that set where a reviewer stands; a COMMENTED review leaves an approval standing, as on GitHub. */
const DECISIVE_STATES: readonly ReviewState[] = ['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'];

/** The per-approval criteria, each a check that passes when at least one standing approval meets it. */
const CRITERIA = [
  'approval-on-merged-head',
  'reviewer-not-author',
  'reviewer-not-contributor',
  'reviewer-not-last-pusher',
  'reviewer-not-bot',
  'reviewer-has-write-access',
] as const satisfies readonly ReviewCheckId[];

type Criterion = (typeof CRITERIA)[number];

/** Applies the review rules to the evidence. The verdict is pass only when every check passes. */
export function evaluateReview(evidence: ReviewEvidence, rules: ReviewRules): ReviewResult {
  const people = new Contributors(evidence);
  const ordered = chronological(evidence.reviews);
  const standing = latestDecisiveReviews(ordered);
  const standingApprovals = [...standing.values()].filter((r) => r.state === 'APPROVED');

  const judged = standingApprovals.map((review) => ({
    review,
    outcomes: judgeApproval(review, evidence, rules, people),
  }));
  const counted = judged.filter((j) => CRITERIA.every((c) => j.outcomes[c].ok));

  const checks: Check[] = [
    evidenceComplete(evidence),
    mergedByPullRequest(evidence),
    mergedCommitMatches(evidence),
    contributorsIdentified(people),
    latestReviewPerReviewer(ordered, standing),
    changesRequested(standing, rules),
    ...CRITERIA.map((criterion) => criterionCheck(criterion, judged)),
    minIndependentApprovals(judged, counted, rules),
  ];

  const approvals: ApprovalRecord[] = ordered
    .filter((r) => r.state === 'APPROVED' || r.state === 'DISMISSED')
    .map((review) => {
      const record = { reviewId: review.id, reviewer: review.reviewer, state: review.state };
      const at = { commitId: review.commitId, submittedAt: review.submittedAt };
      if (review.state === 'DISMISSED') {
        return { ...record, ...at, counted: false, reason: 'dismissed: a dismissed review never counts' };
      }
      const latest = standing.get(reviewerKey(review.reviewer));
      if (latest !== review) {
        const later = latest ? `${latest.state} review ${latest.id} at ${latest.submittedAt}` : 'a later review';
        return { ...record, ...at, counted: false, reason: `superseded by the reviewer's ${later}` };
      }
      const outcome = judged.find((j) => j.review === review)!.outcomes;
      const failed = CRITERIA.filter((c) => !outcome[c].ok).map((c) => outcome[c].reason);
      return failed.length === 0
        ? { ...record, ...at, counted: true, reason: 'independent approval on the merged head' }
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

// ── the checks ────────────────────────────────────────────────────────────────────────────────────────────

function evidenceComplete(evidence: ReviewEvidence): Check {
  const gaps = [...evidence.gaps];
  for (const review of evidence.reviews) {
    if (review.state !== 'PENDING' && Number.isNaN(Date.parse(review.submittedAt))) {
      gaps.push(`review ${review.id} by ${review.reviewer.login} has no valid submission time (${review.submittedAt})`);
    }
  }
  return gaps.length === 0
    ? pass('evidence-complete', 'the pull request, its commits, reviews, last push and permissions were all read')
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
  if (!pr) return fail('merged-commit-matches', 'not evaluated: no pull request');
  if (!sameSha(pr.mergeCommitSha, evidence.commit)) {
    return fail(
      'merged-commit-matches',
      `expected pull request #${pr.number} to be merged as the built commit ${evidence.commit}, found ${pr.mergeCommitSha}`,
    );
  }
  return pass('merged-commit-matches', `pull request #${pr.number} was merged as ${evidence.commit}, the built commit`);
}

function contributorsIdentified(people: Contributors): Check {
  if (people.unidentified.length === 0) {
    return pass('contributors-identified', 'every author, committer and the last pusher is a known GitHub account');
  }
  return fail(
    'contributors-identified',
    `expected every author and committer to be a GitHub account, found ${people.unidentified.join('; ')}: ` +
      'without an account nobody can tell whether a reviewer wrote that code',
  );
}

function latestReviewPerReviewer(ordered: Review[], standing: Map<string, Review>): Check {
  const latest = [...standing.values()].map((r) => `${r.reviewer.login} ${r.state} (review ${r.id})`);
  const superseded = ordered
    .filter((r) => r.state === 'APPROVED' && standing.get(reviewerKey(r.reviewer)) !== r)
    .map((r) => {
      const later = standing.get(reviewerKey(r.reviewer));
      return `${r.reviewer.login}'s approval (review ${r.id}) was superseded by ${later?.state ?? 'a later review'} (review ${later?.id})`;
    });
  const detail = [`latest review per reviewer: ${latest.join(', ') || 'none'}`, ...superseded].join('; ');
  return [...standing.values()].some((r) => r.state === 'APPROVED')
    ? pass('latest-review-per-reviewer', detail)
    : fail(
        'latest-review-per-reviewer',
        `expected an approval as some reviewer's latest review, found none; ${detail}`,
      );
}

function changesRequested(standing: Map<string, Review>, rules: ReviewRules): Check {
  const outstanding = [...standing.values()].filter((r) => r.state === 'CHANGES_REQUESTED');
  const who = outstanding.map((r) => `${r.reviewer.login} (review ${r.id} at ${r.submittedAt})`).join(', ');
  if (outstanding.length === 0) return pass('changes-requested', 'no reviewer has changes requested outstanding');
  if (!rules.changesRequestedBlocks) {
    return pass(
      'changes-requested',
      `not enforced by the policy (changes-requested-blocks: false); outstanding: ${who}`,
    );
  }
  return fail('changes-requested', `expected no outstanding "changes requested", found: ${who}`);
}

function criterionCheck(criterion: Criterion, judged: { review: Review; outcomes: Outcomes }[]): Check {
  if (judged.length === 0) return fail(criterion, 'no standing approval to judge');
  const met = judged.filter((j) => j.outcomes[criterion].ok);
  const unmet = judged.filter((j) => !j.outcomes[criterion].ok).map((j) => j.outcomes[criterion].reason);
  if (met.length === 0) return fail(criterion, unmet.join('; '));
  const reasons = met.map((j) => j.outcomes[criterion].reason);
  return pass(criterion, [...reasons, ...unmet.map((r) => `not counted: ${r}`)].join('; '));
}

function minIndependentApprovals(
  judged: { review: Review; outcomes: Outcomes }[],
  counted: { review: Review }[],
  rules: ReviewRules,
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
  return names.length >= rules.minApprovals
    ? pass('min-independent-approvals', `${found}, at least ${rules.minApprovals} required${detail}`)
    : fail('min-independent-approvals', `expected at least ${rules.minApprovals}, found ${found}${detail}`);
}

// ── one approval against each criterion ───────────────────────────────────────────────────────────────────

type Outcomes = Record<Criterion, { ok: boolean; reason: string }>;

function judgeApproval(review: Review, evidence: ReviewEvidence, rules: ReviewRules, people: Contributors): Outcomes {
  const who = review.reviewer.login;
  const pr = evidence.pullRequest;
  const outcomes = {} as Outcomes;

  if (!pr) {
    outcomes['approval-on-merged-head'] = { ok: false, reason: `${who}: no pull request to have approved` };
  } else if (!rules.requireApprovalOnHead) {
    outcomes['approval-on-merged-head'] = {
      ok: true,
      reason: `${who} approved ${short(review.commitId)} (approval on the merged head not required by the policy)`,
    };
  } else if (sameSha(review.commitId, pr.headSha)) {
    outcomes['approval-on-merged-head'] = { ok: true, reason: `${who} approved the merged head ${short(pr.headSha)}` };
  } else {
    outcomes['approval-on-merged-head'] = {
      ok: false,
      reason: `${who} approved ${short(review.commitId)}, not the merged head ${short(pr.headSha)} (given before the last push)`,
    };
  }

  const isAuthor = pr !== undefined && sameAccount(review.reviewer, pr.author);
  outcomes['reviewer-not-author'] = isAuthor
    ? { ok: false, reason: `${who} is the author of pull request #${pr.number}` }
    : { ok: true, reason: `${who} is not the pull request's author${pr ? ` (${pr.author.login})` : ''}` };

  const contributions = people.contributionsOf(review.reviewer);
  outcomes['reviewer-not-contributor'] =
    contributions.length > 0
      ? { ok: false, reason: `${who} ${contributions.join(', ')}` }
      : { ok: true, reason: `${who} authored, committed and co-authored none of the pull request's commits` };

  outcomes['reviewer-not-last-pusher'] = lastPusherOutcome(review.reviewer, evidence, people);

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

function lastPusherOutcome(
  reviewer: GitHubAccount,
  evidence: ReviewEvidence,
  people: Contributors,
): { ok: boolean; reason: string } {
  const who = reviewer.login;
  const { accounts, people: persons, source } = evidence.lastPush;
  if (accounts.length === 0 && persons.length === 0) {
    return {
      ok: false,
      reason: `${who}: who pushed last is unknown, so ${who} cannot be shown not to be the last pusher`,
    };
  }
  const how =
    source === 'head_ref_force_pushed' ? 'force-pushed the head branch last' : 'authored or committed the head commit';
  if (accounts.some((a) => sameAccount(a, reviewer)) || persons.some((p) => people.personIs(p, reviewer))) {
    return { ok: false, reason: `${who} is the last pusher (${how})` };
  }
  const names = [...accounts.map((a) => a.login), ...persons.map((p) => p.account?.login ?? p.email)];
  return { ok: true, reason: `${who} is not the last pusher (${[...new Set(names)].join(', ')} ${how})` };
}

// ── who contributed: accounts and emails of every author, committer and co-author ──────────────────────────

/** Matches GitHub's noreply addresses: `123+login@users.noreply.github.com` and `login@users.noreply.github.com`. */
const NOREPLY = /^(?:(\d+)\+)?([^@\s]+)@users\.noreply\.[^@\s]+$/i;

/** GitHub's own committer for web edits and merges: a service, never a reviewer. */
const GITHUB_SERVICE_EMAIL = 'noreply@github.com';

class Contributors {
  /** Email (lowercase) → the account GitHub linked to it somewhere in this pull request. */
  private readonly linked = new Map<string, GitHubAccount>();
  private readonly entries: { person: GitPerson; role: string }[] = [];
  readonly unidentified: string[] = [];

  constructor(evidence: ReviewEvidence) {
    const persons = [...evidence.commits.flatMap((c) => [c.author, c.committer]), ...evidence.lastPush.people];
    for (const person of persons) {
      if (person.account && person.email) this.linked.set(person.email.toLowerCase(), person.account);
    }
    for (const commit of evidence.commits) {
      this.entries.push({ person: commit.author, role: `authored commit ${short(commit.sha)}` });
      this.entries.push({ person: commit.committer, role: `committed ${short(commit.sha)}` });
      for (const coAuthor of commit.coAuthors) {
        this.entries.push({ person: coAuthor, role: `co-authored commit ${short(commit.sha)}` });
      }
      for (const [person, role] of [
        [commit.author, 'author'],
        [commit.committer, 'committer'],
      ] as const) {
        if (!this.identified(person)) {
          this.unidentified.push(
            `${role} of ${short(commit.sha)} "${person.name} <${person.email}>" has no GitHub account`,
          );
        }
      }
    }
    for (const person of evidence.lastPush.people) {
      if (!this.identified(person)) {
        this.unidentified.push(`the last pusher "${person.name} <${person.email}>" has no GitHub account`);
      }
    }
  }

  /** What the account did in the pull request's commits, in words (empty: nothing). */
  contributionsOf(account: GitHubAccount): string[] {
    return [...new Set(this.entries.filter((e) => this.personIs(e.person, account)).map((e) => e.role))];
  }

  /** Whether a git identity is this account: by its linked account, its noreply address or an email linked elsewhere. */
  personIs(person: { email: string; account?: GitHubAccount }, account: GitHubAccount): boolean {
    if (person.account && sameAccount(person.account, account)) return true;
    const email = person.email.toLowerCase();
    const linked = this.linked.get(email);
    if (linked && sameAccount(linked, account)) return true;
    const noreply = NOREPLY.exec(email);
    if (noreply) {
      if (noreply[1] !== undefined && Number(noreply[1]) === account.id) return true;
      if (noreply[2]!.toLowerCase() === account.login.toLowerCase()) return true;
    }
    return false;
  }

  private identified(person: GitPerson): boolean {
    const email = person.email.toLowerCase();
    return (
      person.account !== undefined || this.linked.has(email) || NOREPLY.test(email) || email === GITHUB_SERVICE_EMAIL
    );
  }
}

// ── small domain helpers ───────────────────────────────────────────────────────────────────────────────────

/** Reviews oldest first: by submission time, then by id (GitHub's ids increase). */
function chronological(reviews: Review[]): Review[] {
  return [...reviews].sort((a, b) => time(a.submittedAt) - time(b.submittedAt) || a.id - b.id);
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
