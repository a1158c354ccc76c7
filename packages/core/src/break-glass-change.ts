// Who made the change a break-glass lets through, as the review rules would judge a change's people: the commit's
// author, committer (GitHub's web-flow aside) and co-authors; when it is the merge of a pull request, the pull
// request's author, every author, committer and co-author of its commits and every pusher of its head branch; and
// whoever put the commit on the default branch (a push or a merge, from the activity feed). None of them may release
// the exception: a merge commit's author is only whoever clicked Merge, and a commit's author is whatever its writer
// typed. The break-glass workflow records them in the predicate (`change.contributors`); the deploy gate re-checks the
// approvers against that record. Pure: the evidence is read by packages/github.
import type { ChangeContributor, ChangeRole } from './break-glass';
import type {
  AccountProfile,
  GitHubAccount,
  PullRequestCommit,
  RefActivity,
  ReviewEvidence,
  ReviewRules,
} from './model';
import { gitIdentities } from './review';

/** What the break-glass workflow read about the change it lets through. */
export interface BreakGlassChangeEvidence {
  /** The commit, as GitHub shows it: its author and committer (with the accounts GitHub linked) and co-authors. */
  commit: PullRequestCommit;
  /**
   * Its review evidence, read as the sign stage reads it for the default branch: the pull request merged as the
   * commit (absent when pushed directly), its commits and its head branch's pushes (the activity feed), and any gap.
   */
  review: ReviewEvidence;
  /** The entries of the default branch's activity feed whose `after` is the commit, or why they could not be read. */
  arrivals: { available: true; entries: RefActivity[] } | { available: false; reason: string };
  /** The default branch (`main`). */
  defaultBranch: string;
  /** The public profiles of the break-glass's approvers: a commit may name one by profile name or public e-mail. */
  profiles: AccountProfile[];
}

/** The people of the change, the pull request it was merged by (if any), and why they cannot be told (empty: they can). */
export interface BreakGlassChangePeople {
  contributors: ChangeContributor[];
  pullRequest?: { number: number; url: string; title: string };
  problems: string[];
}

/** The order roles are recorded in. */
export const CHANGE_ROLES: readonly ChangeRole[] = [
  'author',
  'committer',
  'co-author',
  'pull-request-author',
  'head-branch-pusher',
  'pusher',
];

/**
 * The review rules' way of telling people apart, with nothing waived: a co-author no account is known for, a push by
 * a bot (whoever had it push is unknown) are unidentified. The break-glass workflow reads no policy.
 */
const IDENTIFY: ReviewRules = {
  minApprovals: 1,
  allowBots: false,
  requireApprovalOnHead: true,
  changesRequestedBlocks: true,
  unidentifiedCoAuthors: 'refuse',
  nonHumanCoAuthors: [],
  allowActivityFallback: false,
  botPushers: [],
};

/** At most this many people are recorded: a change with more is refused (the predicate's schema allows no more). */
export const MAX_CHANGE_CONTRIBUTORS = 256;

/** The people of the change a break-glass lets through, from what the break-glass workflow read (see the header). */
export function breakGlassChangePeople(evidence: BreakGlassChangeEvidence): BreakGlassChangePeople {
  const { commit, review, arrivals, defaultBranch } = evidence;
  const problems: string[] = [];
  const sha = commit.sha;
  const branch = `refs/heads/${defaultBranch}`;
  // Which pull request was merged as the commit, and everything about it, must be known: a gap may hide its author.
  if (review.gaps.length > 0) {
    problems.push(
      `whether ${sha} is the merge of a pull request, and who wrote and pushed that pull request, cannot be told: ${review.gaps.join('; ')}`,
    );
  }
  const pr = review.pullRequest;
  const activity = review.activity;
  if (pr && !activity?.available) {
    problems.push(
      `who pushed to the head branch of pull request #${pr.number} cannot be told: ${activity ? activity.reason : 'the activity feed was not read'}`,
    );
  }
  const headPushes = pr && activity?.available ? activity.headPushes : [];
  if (!arrivals.available) {
    problems.push(`who put ${sha} on ${branch} cannot be told: ${arrivals.reason}`);
  } else if (arrivals.entries.length === 0) {
    problems.push(
      `the activity feed of ${branch} shows no push or merge that put ${sha} there, so who pushed it cannot be told (a break-glass is for a commit on the default branch)`,
    );
  }
  const pushes = arrivals.available ? arrivals.entries : [];
  const commits = [commit, ...(pr ? review.commits.filter((c) => c.sha.toLowerCase() !== sha.toLowerCase()) : [])];
  // The review rules' people of this change: its commits, the pull request, and every push that made it, the default
  // branch's too, with the approvers' profiles to recognise them by name or public e-mail.
  const identities = gitIdentities(
    {
      ...review,
      commits,
      mergeCommitCoAuthors: [],
      profiles: [...(review.profiles ?? []), ...evidence.profiles],
      activity: { available: true, headPushes: [...headPushes, ...pushes], builtCommitArrivals: [] },
      lastPush: { accounts: [], people: [], source: 'activity' },
    },
    IDENTIFY,
  );
  for (const who of [...identities.unidentified, ...identities.unidentifiedCoAuthors]) {
    problems.push(`${who}: nobody can tell whether an approver is that person`);
  }

  const people = new Map<number, ChangeContributor>();
  const add = (account: GitHubAccount, role: ChangeRole) => {
    const known = people.get(account.id);
    if (!known) people.set(account.id, { account: { ...account }, roles: [role] });
    else if (!known.roles.includes(role)) known.roles.push(role);
  };
  for (const c of commits) {
    const persons = [
      [c.author, 'author'],
      [c.committer, 'committer'],
      ...c.coAuthors.map((person) => [person, 'co-author'] as const),
    ] as const;
    for (const [person, role] of persons) {
      const accounts = identities.accountsOf(person);
      // GitHub's own service commits web edits and merges (web-flow): it is nobody, and never the one who wrote them.
      if (accounts.length === 0 && role !== 'committer' && person.email.toLowerCase() === 'noreply@github.com') {
        problems.push(
          `the ${role} of ${c.sha.slice(0, 7)} is GitHub's own service identity "${person.name} <${person.email}>": who wrote it is unknown`,
        );
      }
      for (const account of accounts) add(account, role);
    }
  }
  if (pr) add(pr.author, 'pull-request-author');
  for (const push of headPushes) if (push.actor) add(push.actor, 'head-branch-pusher');
  for (const push of pushes) if (push.actor) add(push.actor, 'pusher');
  const contributors = [...people.values()].map((c) => ({
    account: c.account,
    roles: CHANGE_ROLES.filter((r) => c.roles.includes(r)),
  }));
  if (contributors.length > MAX_CHANGE_CONTRIBUTORS) {
    problems.push(
      `the change has ${contributors.length} people, more than the ${MAX_CHANGE_CONTRIBUTORS} a break-glass records`,
    );
  }
  return {
    contributors: contributors.slice(0, MAX_CHANGE_CONTRIBUTORS),
    ...(pr && { pullRequest: { number: pr.number, url: pr.url, title: pr.title } }),
    problems,
  };
}

/** `alice (author, pusher)`: one person of the change as the report and the refusals name them. */
export function describeContributor(contributor: ChangeContributor): string {
  return `${contributor.account.login} (${contributor.roles.join(', ')})`;
}
