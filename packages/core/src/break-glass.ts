// The break-glass attestation: a time-boxed exception to the review rules, signed over the artifacts by the
// platform's break-glass workflow (a fourth identity, in its own protected environment) once its approvers released
// it. The deploy gate accepts one only in place of the review's checks — never a signature, provenance or identity
// check — only within its window, only for the environment it names, and in one deploy run of that environment
// (whichever of its subjects it ships), and says so loudly. Documented in docs/break-glass-predicate.md.
import { createHash } from 'node:crypto';
import type { ErrorObject } from 'ajv/dist/2020.js';
import breakGlassSchema from './break-glass-predicate.schema.json' with { type: 'json' };
import { isBotAccount, namesEnvironment } from './deploy-approval';
import { IN_TOTO_STATEMENT_TYPE, InTotoError, type Statement, type Subject } from './intoto';
import type { GitHubAccount } from './model';
import validateBreakGlass from './validators/break-glass-predicate.validate.js';

export const BREAK_GLASS_PREDICATE_TYPE = 'https://twokey.dev/attestations/break-glass/v1';
export const BREAK_GLASS_PREDICATE_SCHEMA = breakGlassSchema;

/** The deploy checks a break-glass may stand in for: the review's, and nothing else. */
export const WAIVABLE_CHECKS = ['review-attestation', 'review-rules'] as const;

/**
 * What someone did in the change a break-glass lets through: wrote (`author`), committed or co-authored (a trailer) the
 * commit or a commit of the pull request merged as it, opened that pull request, pushed to its head branch, or put the
 * commit on the default branch (`pusher`: a push, or the merge).
 */
export type ChangeRole = 'author' | 'committer' | 'co-author' | 'pull-request-author' | 'head-branch-pusher' | 'pusher';

/** One person of the change, by account, with everything they did in it. */
export interface ChangeContributor {
  account: GitHubAccount;
  roles: ChangeRole[];
}

export type BreakGlassPredicate = {
  reason: string;
  /** A link to the incident. */
  incident: string;
  /** The deploy environment it may be used for. */
  environment: string;
  repository: { name: string; uri: string };
  /**
   * The change it lets through: its commit and its author (as GitHub reported them to the break-glass run); the pull
   * request merged as the commit, if any; and every person of the change (breakGlassChangePeople), none of whom may
   * release it. `contributors` is absent in break-glasses signed before it was recorded, which are refused.
   */
  change: {
    commit: string;
    author: GitHubAccount;
    pullRequest?: { number: number; url: string; title: string };
    contributors?: ChangeContributor[];
  };
  /** Who started the break-glass run. */
  requester: GitHubAccount;
  /** Who approved it through the break-glass environment. */
  approvers: GitHubAccount[];
  notBefore: string;
  expires: string;
  waives: string[];
  run: { id: number; attempt: number; uri: string };
  /**
   * The repository's default branch as GitHub named it to the break-glass run (`GET /repos/{owner}/{repo}`): the
   * protected branch its run must have run from when the policy names no review.protected-branches. Absent in
   * attestations signed before it was recorded.
   */
  defaultBranch?: string;
};

/** Validates a break-glass predicate; throws InTotoError('PREDICATE_INVALID') naming the field. */
export function parseBreakGlassPredicate(json: unknown): BreakGlassPredicate {
  if (!validateBreakGlass(json)) {
    const error = (validateBreakGlass.errors ?? [])[0] as ErrorObject | undefined;
    const field = error?.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(predicate)';
    throw new InTotoError('PREDICATE_INVALID', field, error?.message ?? 'invalid');
  }
  return json as BreakGlassPredicate;
}

/**
 * The statement the break-glass workflow signs: its artifacts, and one more subject, the run that signs it
 * (breakGlassRunSubject), so that the attestation store, which indexes bundles by subject digest, holds every
 * break-glass of one run under one digest. No artifact may take that subject's name.
 */
export function buildBreakGlassStatement(
  subjects: Subject[],
  predicate: BreakGlassPredicate,
): Statement<BreakGlassPredicate> {
  parseBreakGlassPredicate(JSON.parse(JSON.stringify(predicate)));
  const reserved = subjects.find((s) => s.name === BREAK_GLASS_RUN_SUBJECT);
  if (reserved) {
    throw new InTotoError(
      'PREDICATE_INVALID',
      'subject',
      `an artifact may not be named ${BREAK_GLASS_RUN_SUBJECT}: the break-glass's subject of that name is the run that signed it`,
    );
  }
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [...subjects, breakGlassRunSubject(predicate.run.uri)],
    predicateType: BREAK_GLASS_PREDICATE_TYPE,
    predicate,
  };
}

/**
 * The name of the subject every break-glass carries besides its artifacts: the run that signed it. It is no artifact:
 * never judged, reported, recorded or listed as one (breakGlassArtifactSubjects).
 */
export const BREAK_GLASS_RUN_SUBJECT = 'twokey-break-glass-run';

/**
 * The digest of a break-glass run, as its run subject carries it: sha256 of `twokey-break-glass-run`, a NUL, and the
 * run's key (breakGlassRunKey: the GitHub instance and the run id) of its Run Invocation URI. Every job of one run
 * signs the same, so the attestation store lists all of the run's break-glasses under it: the deploy gate finds the
 * other break-glasses of the run of one it judges, and the records of their uses under their subjects.
 */
export function breakGlassRunDigest(runUri: string): string {
  return createHash('sha256')
    .update(`${BREAK_GLASS_RUN_SUBJECT}\0${breakGlassRunKey(runUri)}`, 'utf8')
    .digest('hex');
}

/** The run subject of a break-glass signed in the run of this Run Invocation URI. */
export function breakGlassRunSubject(runUri: string): Subject {
  return { name: BREAK_GLASS_RUN_SUBJECT, digest: { sha256: breakGlassRunDigest(runUri) } };
}

/** A break-glass's subjects that are artifacts: all but its run subject (any subject of that name). */
export function breakGlassArtifactSubjects<S extends { name?: unknown }>(subjects: readonly S[]): S[] {
  return subjects.filter((s) => s?.name !== BREAK_GLASS_RUN_SUBJECT);
}

/**
 * Why a break-glass's statement does not carry the run subject of the run its certificate names (Run Invocation URI,
 * Fulcio's 1.3.6.1.4.1.57264.1.21), or undefined when it does. Without it, the other break-glasses its run signed,
 * and so their uses, cannot be found in the attestation store: it is refused.
 */
export function breakGlassRunSubjectProblem(
  statement: { subject?: unknown },
  runInvocationURI: string | undefined,
): string | undefined {
  if (runInvocationURI === undefined) {
    return 'its certificate names no run (Run Invocation URI), so the other break-glasses its run signed, and their uses, cannot be found; ask for a new break-glass';
  }
  const expected = breakGlassRunDigest(runInvocationURI);
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  const found = subjects.some((s) => {
    const subject = s as { name?: unknown; digest?: { sha256?: unknown } } | null;
    return subject?.name === BREAK_GLASS_RUN_SUBJECT && subject.digest?.sha256 === expected;
  });
  return found
    ? undefined
    : `it carries no subject ${BREAK_GLASS_RUN_SUBJECT} sha256:${expected} for the run that signed it (${runInvocationURI}), so the other break-glasses its run signed, and their uses, cannot be found in the attestation store (signed before break-glasses carried it); ask for a new break-glass`;
}

/**
 * A break-glass's identity: the sha256 of its statement as signed. A decision record names the break-glass it used by
 * this, so that a second use is found whatever bytes carried the bundle.
 */
export function breakGlassId(statement: unknown): string {
  return createHash('sha256').update(JSON.stringify(statement), 'utf8').digest('hex');
}

/**
 * The run that signed a break-glass, as its single use is counted: every job of one run is released by one approval of
 * the run's environment (a matrix of jobs calling the break-glass workflow signs one break-glass each), so a use of
 * any break-glass of a run is a use of them all, for that artifact and environment. A run id is unique on its GitHub
 * instance, whatever the repository is called: the instance and the id, never the repository's name (renamed between
 * two jobs of one run, it would make two keys of one run).
 */
export function breakGlassRunOf(predicate: Pick<BreakGlassPredicate, 'repository' | 'run'>): string {
  // From the run's URI, which the break-glass's certificate binds (its Run Invocation URI): the instance and the id.
  return breakGlassRunKey(predicate.run.uri);
}

/** A run as breakGlassRunOf counts it, from its Run Invocation URI: `INSTANCE/actions/runs/ID`, any attempt. */
export function breakGlassRunKey(runUri: string): string {
  const named = /^(https?:\/\/[^/]+)\/.+\/actions\/runs\/([0-9]+)\/attempts\/[0-9]+$/i.exec(runUri);
  if (!named) return runUri.toLowerCase();
  return `${named[1]!.toLowerCase()}/actions/runs/${named[2]}`;
}

export interface BreakGlassRules {
  maxDurationSeconds: number;
  minApprovers: number;
}

/**
 * What is wrong with a break-glass for one deploy (empty: it may be used): the run that signed it (started by hand, in
 * its first attempt), its window (now within it, and no longer than the policy allows), its environment, what it
 * waives, and its approvers (enough of them, people, each counted once by account and distinct from the requester and
 * from every person of the change it records: `change.contributors`, without which it is refused). Its signer, subjects and earlier uses are the caller's to check.
 */
export function breakGlassProblems(
  predicate: BreakGlassPredicate,
  rules: BreakGlassRules,
  context: {
    now: Date;
    environment?: string;
    /** Who else started the run (the break-glass workflow knows GITHUB_ACTOR; the predicate names one requester). */
    alsoRequesters?: string[];
    /** Their account ids too (the job token's `actor_id`: whoever started the run first, renamed or not). */
    alsoRequesterIds?: number[];
    /**
     * The event that started the run that signed it: its signing certificate's Build Trigger (Fulcio's
     * 1.3.6.1.4.1.57264.1.20, the token's `event_name`) for the gate, GITHUB_EVENT_NAME for the workflow itself.
     */
    trigger: string | undefined;
  },
): string[] {
  const problems: string[] = [];
  // Its requester is whoever started the run. Only a run started by hand (workflow_dispatch, which needs write
  // access) was started by someone asking for the exception: a caller workflow of the author's that runs on a push,
  // a review or a comment starts it for whoever pushed to her branch ("Update branch"), reviewed or commented — then
  // the requester, and the author of the commit GitHub made, are that person, and she may approve it herself.
  if (context.trigger !== 'workflow_dispatch') {
    problems.push(
      context.trigger === undefined
        ? 'the event that started the run that signed it is unknown: a break-glass is asked for by hand (workflow_dispatch)'
        : `the run that signed it was started by a ${context.trigger} event, not by hand (workflow_dispatch): whoever started it did not ask for the exception`,
    );
  }
  // Only the run's first attempt may sign. GitHub's approvals of a run (`…/actions/runs/{run_id}/approvals`) hold every
  // attempt's, with no attempt number: erin (requester, repository admin) re-runs her genuine break-glass run and
  // releases attempt 2 without a new approval (the admin's bypass of the environment's protection, or its required
  // reviewers removed and put back), and the run still shows dave's attempt-1 approval — a second break-glass, with a
  // window and an id of its own, so a second single use that nobody approved. The run URI is bound to the signing
  // certificate's Run Invocation URI by the gate, so the attempt the certificate was issued to must be the first too.
  const attemptProblem = firstAttemptProblem(predicate.run);
  if (attemptProblem) problems.push(attemptProblem);
  const notBefore = Date.parse(predicate.notBefore);
  const expires = Date.parse(predicate.expires);
  const now = context.now.getTime();
  if (!(expires > notBefore)) problems.push(`its window is empty (${predicate.notBefore} to ${predicate.expires})`);
  else if ((expires - notBefore) / 1000 > rules.maxDurationSeconds) {
    problems.push(
      `its window (${predicate.notBefore} to ${predicate.expires}) is longer than deploy.break-glass.max-duration (${rules.maxDurationSeconds} s)`,
    );
  }
  if (now < notBefore) problems.push(`it is not valid before ${predicate.notBefore}`);
  if (now > expires) problems.push(`it expired at ${predicate.expires}`);
  // One GitHub environment whatever the case it is spelt in (`Production`, `production`), as its uses are counted.
  if (context.environment !== undefined && !namesEnvironment([predicate.environment], context.environment)) {
    problems.push(`it is for the environment ${predicate.environment}, not ${context.environment}`);
  }
  const overreach = predicate.waives.filter((id) => !(WAIVABLE_CHECKS as readonly string[]).includes(id));
  if (overreach.length > 0) {
    problems.push(
      `it claims to waive ${overreach.join(', ')}: a break-glass waives only ${WAIVABLE_CHECKS.join(', ')}`,
    );
  }
  // A bot names the app, not the person who had it start the run or write the commit: nobody could tell whether an
  // approver is that person (a workflow of the author's, dispatched with its GITHUB_TOKEN, makes github-actions[bot]
  // the requester, and GitHub's prevent self-review then stops nobody).
  if (isBotAccount(predicate.requester)) {
    problems.push(`its requester ${predicate.requester.login} is a bot: whoever had it start the run is unknown`);
  }
  if (isBotAccount(predicate.change.author)) {
    problems.push(
      `the change's author ${predicate.change.author.login} is a bot: whoever had it write the commit is unknown`,
    );
  }
  // The head commit's author alone is whoever clicked Merge (a merge commit) or whatever its writer typed: everyone who
  // wrote, committed, opened or pushed the change is recorded, and one that records nobody cannot keep them out.
  const contributors = predicate.change.contributors;
  if (contributors === undefined) {
    problems.push(
      "it records none of the change's people (change.contributors: signed before the break-glass workflow recorded who wrote, committed, co-authored, opened and pushed the change), so they cannot be kept from releasing it; ask for a new break-glass",
    );
  }
  // Each person with everything that keeps them out, by login and by account id: the requester or the author renamed
  // since (alice → alice-ops) is still that person.
  const excluded = new Map<string, string[]>();
  const excludedIds = new Map<number, string[]>();
  const exclude = (who: { login?: string; id?: number }, why: string) => {
    for (const [map, key] of [
      [excluded, who.login?.toLowerCase()],
      [excludedIds, who.id],
    ] as [Map<string | number, string[]>, string | number | undefined][]) {
      if (key === undefined) continue;
      const reasons = map.get(key) ?? [];
      if (!reasons.includes(why)) reasons.push(why);
      map.set(key, reasons);
    }
  };
  for (const login of context.alsoRequesters ?? []) exclude({ login }, 'it started the run');
  for (const id of context.alsoRequesterIds ?? []) exclude({ id }, 'it started the run');
  exclude(predicate.requester, 'its requester');
  // The author with every role the break-glass records for them, or alone when it records none.
  const author = predicate.change.author;
  if (!contributors?.some((c) => c.account.id === author.id && c.roles.includes('author'))) {
    exclude(author, "the change's author");
  }
  for (const person of contributors ?? []) {
    exclude(person.account, `the change's ${person.roles.join(', ')}`);
  }
  // Each person once, by account: one account the run's approvals list under two logins (renamed between two
  // attempts' approvals, carol → carol-ops) is one approver, never two toward min-approvers. An approver GitHub
  // named without an account id cannot be told from the others, and does not count (fail closed).
  const counted: GitHubAccount[] = [];
  const notCounted: string[] = [];
  const countedOnce: string[] = [];
  for (const approver of predicate.approvers) {
    const all = new Set([
      ...(excludedIds.get(approver.id) ?? []),
      ...(excluded.get(approver.login.toLowerCase()) ?? []),
    ]);
    // The requester started the run (this attempt): saying both says one thing twice.
    if (all.has('its requester')) all.delete('it started the run');
    const reasons = [...all];
    const why = !Number.isSafeInteger(approver.id)
      ? 'no account id'
      : isBotAccount(approver)
        ? 'a bot'
        : reasons.length > 0
          ? reasons.join('; ')
          : undefined;
    if (why) {
      notCounted.push(`${approver.login} (${why})`);
      continue;
    }
    const same = counted.find((c) => c.id === approver.id || c.login.toLowerCase() === approver.login.toLowerCase());
    if (!same) counted.push(approver);
    else if (same.login.toLowerCase() !== approver.login.toLowerCase()) {
      countedOnce.push(`${approver.login} (account ${approver.id}, as ${same.login})`);
    }
  }
  // Not `counted.length < min`: a minimum that is no number (NaN) would then never be short of anything.
  if (!(counted.length >= rules.minApprovers)) {
    problems.push(
      `expected ${rules.minApprovers} approver${rules.minApprovers === 1 ? '' : 's'} distinct from its requester (${predicate.requester.login}) and the change's people (${changePeopleNamed(predicate)}), found ${counted.length}${countedOnce.length ? `; counted once: ${countedOnce.join(', ')}` : ''}${notCounted.length ? `; not counted: ${notCounted.join(', ')}` : ''}`,
    );
  } else if (notCounted.length > 0) {
    // GitHub releases the job on any one approval, and a run's approvals hold every attempt's: a re-run its requester
    // approved alone still shows the first attempt's approver, and would sign another break-glass (another single use).
    problems.push(
      `approved by someone who may not release it: ${notCounted.join(', ')}; GitHub releases the job on any one approval of the run, and the run's approvals hold every attempt's (a re-run's), so it may have been theirs`,
    );
  }
  return problems;
}

/** The change's people by login (its author alone when it records none). */
function changePeopleNamed(predicate: BreakGlassPredicate): string {
  const logins = [predicate.change.author, ...(predicate.change.contributors ?? []).map((c) => c.account)].map(
    (a) => a.login,
  );
  return [...new Set(logins)].join(', ');
}

/**
 * Why a break-glass was not asked for on the repository's default branch (undefined when it was): the ref its run ran
 * from — the signing certificate's Source Repository Ref (Fulcio's 1.3.6.1.4.1.57264.1.14) for the gate, the job
 * token's `ref` for the workflow itself — must be `refs/heads/<defaultBranch>`, the default branch GitHub told the
 * break-glass run, which it records. Not the policy's review.protected-branches: one org policy names branches for
 * every repository, and a branch it names that a repository does not have (`develop`) is anyone's with write access
 * to create, as is one a glob (`release/*`) matches. No default branch recorded (signed before the workflow recorded
 * it): refused. Not seen: a workflow file pushed to that branch unreviewed, or a default branch an admin changed.
 *
 * Whoever starts a run is its requester, and what a dispatch on a ref runs is the workflow file on that ref: on any
 * other branch that file is anyone's with write access. alice rewrites a workflow file on her own branch to call the
 * platform's break-glass workflow and asks bob to "run the preview on my branch": bob dispatches it (workflow_dispatch,
 * its first attempt), so bob is the requester, and alice, a reviewer of the break-glass environment, releases the
 * break-glass herself. On the default branch the caller workflow was itself reviewed.
 */
export function breakGlassRefProblem(
  predicate: BreakGlassPredicate,
  context: {
    /** The ref the run that signed it ran from (its certificate's Source Repository Ref, or its token's `ref`). */
    ref: string | undefined;
    /** Where the ref was read, in words: "its certificate's Source Repository Ref", "its token's ref". */
    refFrom: string;
  },
): string | undefined {
  const { ref, refFrom } = context;
  const defaultBranch = predicate.defaultBranch;
  const why =
    'what a dispatch runs is the workflow file on its ref, and that of any other branch is anyone\'s with write access: whoever had someone else dispatch it there ("run the preview on my branch") is not its requester, and may release it herself';
  if (ref === undefined) return `the run that signed it names no ref (${refFrom}): ${why}`;
  if (defaultBranch === undefined) {
    return `its run ran from ${ref} (${refFrom}), and the break-glass names no default branch of its repository (signed before the break-glass workflow recorded it, or GitHub named none), so whether that is the default branch cannot be told; ask for a new break-glass`;
  }
  if (ref === `refs/heads/${defaultBranch}`) return undefined;
  return `its run ran from ${ref} (${refFrom}), not from the repository's default branch (${defaultBranch}, as GitHub told the break-glass run): ${why}`;
}

/**
 * Why a break-glass's run is not a first attempt (undefined when it is): its `attempt`, and the attempt its URI
 * names (`…/actions/runs/{id}/attempts/{n}`, the form of the certificate's Run Invocation URI), must both be 1.
 */
function firstAttemptProblem(run: BreakGlassPredicate['run']): string | undefined {
  const why =
    "a re-run's approvals cannot be told from the first attempt's (GitHub lists every attempt's approvals of the run, with no attempt); ask for a new break-glass with a new dispatch";
  if (run.attempt !== 1) {
    return `its run is attempt ${run.attempt} of run ${run.id} (a re-run), not the first: ${why}`;
  }
  const named = /\/actions\/runs\/[0-9]+\/attempts\/([0-9]+)$/.exec(run.uri)?.[1];
  if (named === undefined) {
    return `its run ${run.uri} names no attempt, so it cannot be told that the run's first attempt signed it: ${why}`;
  }
  if (named !== '1') {
    return `it says attempt 1 of run ${run.id}, but its run ${run.uri} is attempt ${named} (a re-run): ${why}`;
  }
  return undefined;
}
