// The deploy-approval attestation: who approved a deploy through the GitHub environment its job ran in, as the deploy
// job read it from GitHub (the run's environment approvals, the environment's protection rules, who started the run)
// and signed it over the artifacts. The deploy gate judges the same facts live; `twokey verify` judges them again
// from the signed attestation, under the policy's deploy.approvals. Documented in docs/deploy-approval-predicate.md.
import type { ErrorObject } from 'ajv/dist/2020.js';
import deployApprovalSchema from './deploy-approval-predicate.schema.json' with { type: 'json' };
import { IN_TOTO_STATEMENT_TYPE, InTotoError, type Statement, type Subject } from './intoto';
import type { AccountProfile, GitHubAccount } from './model';
import type { DeployApprovalRules, DeployApproverExclusion } from './policy';
import { isBot } from './review';
import validateDeployApproval from './validators/deploy-approval-predicate.validate.js';

export const DEPLOY_APPROVAL_PREDICATE_TYPE = 'https://twokey.dev/attestations/deploy-approval/v1';
export const DEPLOY_APPROVAL_PREDICATE_SCHEMA = deployApprovalSchema;

export interface DeployApproval {
  user: GitHubAccount;
  /**
   * GitHub's word for the review: `pending` is a comment left without approving or rejecting (it neither counts
   * toward `min` nor refuses). Anything GitHub may add later is read as `rejected`.
   */
  state: 'approved' | 'rejected' | 'pending';
  comment: string;
  /** The environments the review was given for. */
  environments: string[];
}

export type DeployApprovalPredicate = {
  environment: string;
  repository: { name: string; uri: string };
  run: { id: number; attempt: number; uri: string };
  /** Who started the run: its actor and its triggering actor (once each). */
  requesters: GitHubAccount[];
  approvals: DeployApproval[];
  /**
   * The public profile (name, public e-mail) of each account that approved, as GitHub showed it to the deploy job:
   * a deploy approver is matched against the change's people by it, as the review rules match a code approver by
   * theirs. Absent in attestations signed before it was recorded.
   */
  profiles?: AccountProfile[];
  /** The environment's protection rules; null when GitHub would not say (the token cannot read the environment). */
  protection: { requiredReviewers: { type: string; name: string }[]; preventSelfReview: boolean } | null;
  /**
   * When the deploy was requested: GitHub created this run's deployment for the environment (the job waiting for its
   * reviewers). Absent when GitHub did not say, and in attestations signed before it was recorded. Never after readAt.
   */
  requestedAt?: string;
  /**
   * The repository's default branch, as GitHub named it when the job read these facts: a protected branch the deploy
   * may run from, when the policy names none and no review attestation says (a break-glass deploy). Absent in
   * attestations signed before it was recorded.
   */
  defaultBranch?: string;
  /** When the deploy job read these facts from GitHub. */
  readAt: string;
  /** The bundles the deploy decision rested on. */
  evidence: { uri: string; digest: { sha256: string } }[];
};

/** The people of the change a deploy approver is judged against (from its review attestation). */
/**
 * Someone of the change: an account (compared by id, which a rename keeps, and by login), or a login alone (compared
 * by login).
 */
export type ChangePerson = string | GitHubAccount;

export interface ChangePeople {
  author?: ChangePerson;
  /**
   * More authors: when several reviewed changes built the same artifact (two commits, one reproducible build), the
   * authors of the others — whoever wrote what ships is excluded, whichever change's evidence is reported.
   */
  otherAuthors?: ChangePerson[];
  contributors: ChangePerson[];
  pushers: ChangePerson[];
  codeApprovers: ChangePerson[];
  /** Who released a break-glass the deploy rests on: they stood in for the code review (`code-approvers`). */
  breakGlassApprovers?: ChangePerson[];
  /**
   * What an account did in the change, as the review rules match people (review.ts, changeContributions): a
   * contributor is excluded by `contributors` however the change's evidence names them (an account GitHub linked, a
   * noreply address, an e-mail or name the evidence ties to the account, a push to the head branch).
   */
  contributionsOf?: (account: GitHubAccount, profile?: AccountProfile) => string[];
}

export interface DeployApprovalJudgement {
  verdict: 'pass' | 'fail';
  reason: string;
  /** Logins of the approvals that counted. */
  approvers: string[];
}

/** Validates a deploy-approval predicate; throws InTotoError('PREDICATE_INVALID') naming the field. */
export function parseDeployApprovalPredicate(json: unknown): DeployApprovalPredicate {
  if (!validateDeployApproval(json)) {
    const error = (validateDeployApproval.errors ?? [])[0] as ErrorObject | undefined;
    const field = error?.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(predicate)';
    throw new InTotoError('PREDICATE_INVALID', field, error?.message ?? 'invalid');
  }
  const predicate = json as DeployApprovalPredicate;
  checkTimes(predicate);
  return predicate;
}

/** The times a schema cannot compare: each a real instant, and the request never after the reading of approvals. */
function checkTimes(predicate: DeployApprovalPredicate): void {
  const readAt = Date.parse(predicate.readAt);
  if (Number.isNaN(readAt)) throw new InTotoError('PREDICATE_INVALID', 'readAt', `not a time: ${predicate.readAt}`);
  if (predicate.requestedAt === undefined) return;
  const requestedAt = Date.parse(predicate.requestedAt);
  if (Number.isNaN(requestedAt)) {
    throw new InTotoError('PREDICATE_INVALID', 'requestedAt', `not a time: ${predicate.requestedAt}`);
  }
  if (requestedAt > readAt) {
    throw new InTotoError(
      'PREDICATE_INVALID',
      'requestedAt',
      `expected at or before readAt (${predicate.readAt}), found ${predicate.requestedAt}: a deploy is requested before its approvals are read`,
    );
  }
}

export function buildDeployApprovalStatement(
  subjects: Subject[],
  predicate: DeployApprovalPredicate,
): Statement<DeployApprovalPredicate> {
  parseDeployApprovalPredicate(JSON.parse(JSON.stringify(predicate)));
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: subjects, predicateType: DEPLOY_APPROVAL_PREDICATE_TYPE, predicate };
}

/** A bot never counts: GitHub's account type, or a `[bot]` login (the review rules' own test, review.ts). */
export const isBotAccount: (account: GitHubAccount) => boolean = isBot;

/**
 * Whether a deploy's environment approvals meet deploy.approvals: at least `min` approvals for this environment by
 * people who are not bots and not excluded by `distinct-from`, no rejection, and prevent_self_review on when required
 * (and then held here too: whoever started the deploy never counts, whatever the setting was when they approved).
 * The people of the change come from its review attestation; when they are unknown, an exclusion that needs them
 * cannot be judged and nobody counts (fail closed).
 */
export function judgeDeployApproval(
  predicate: DeployApprovalPredicate,
  rules: DeployApprovalRules,
  change: ChangePeople | undefined,
): DeployApprovalJudgement {
  const problems: string[] = [];
  if (rules.requirePreventSelfReview && predicate.protection?.preventSelfReview !== true) {
    problems.push(
      predicate.protection === null
        ? `the environment ${predicate.environment}'s protection rules could not be read, and the policy requires prevent_self_review`
        : `expected the environment ${predicate.environment} to prevent self-review, found it does not`,
    );
  }
  const rejected = predicate.approvals.filter(
    (a) => a.state === 'rejected' && namesEnvironment(a.environments, predicate.environment),
  );
  if (rejected.length > 0) {
    problems.push(`rejected by ${rejected.map((a) => a.user.login).join(', ')}`);
  }
  // prevent_self_review is read after the approvals, so an admin could turn it off around her own approval: when the
  // policy requires it, the gate holds the rule itself, and whoever started the deploy never counts.
  const distinctFrom: readonly DeployApproverExclusion[] =
    rules.requirePreventSelfReview && !rules.distinctFrom.includes('requester')
      ? [...rules.distinctFrom, 'requester']
      : rules.distinctFrom;
  // A run a bot started (a workflow's GITHUB_TOKEN dispatching the deploy) names no person: whoever had it start the
  // deploy is unknown, so the requester cannot be kept from approving it (nor can GitHub's prevent self-review).
  const botRequesters = distinctFrom.includes('requester') ? predicate.requesters.filter(isBotAccount) : [];
  if (botRequesters.length > 0) {
    problems.push(
      `the deploy was started by ${botRequesters.map((r) => r.login).join(', ')}, a bot: who started it is unknown, so the policy's rule that the requester never approves cannot be held`,
    );
  }
  const excluded = excludedPeople(distinctFrom, predicate, change);
  // Each person once, by account: one account the run's approvals list under two logins (renamed between two
  // attempts' approvals, carol → carol-ops) is one approver, never two toward min. An approval GitHub named without
  // an account id cannot be told from the others, and does not count (fail closed).
  const countedAccounts: GitHubAccount[] = [];
  const countedOnce: string[] = [];
  const refused: string[] = [];
  for (const approval of predicate.approvals) {
    if (approval.state !== 'approved' || !namesEnvironment(approval.environments, predicate.environment)) continue;
    const login = approval.user.login;
    if (!Number.isSafeInteger(approval.user.id)) refused.push(`${login} (no account id)`);
    else if (isBotAccount(approval.user)) refused.push(`${login} (a bot)`);
    else if (excluded.unknown.length > 0) refused.push(`${login} (${excluded.unknown.join(', ')} unknown)`);
    else {
      // By id first: an account renamed since the change (alice → alice-ops) is still its author.
      const why = excluded.byId.get(approval.user.id) ?? excluded.byLogin.get(login.toLowerCase());
      if (why) {
        refused.push(`${login} (${why})`);
        continue;
      }
      // Matched with the approver's public profile when the deploy job read it (by account id), as a code approver is.
      const profile = predicate.profiles?.find((p) => p.account.id === approval.user.id);
      const contributions = distinctFrom.includes('contributors')
        ? (change?.contributionsOf?.(approval.user, profile) ?? [])
        : [];
      if (contributions.length > 0) {
        refused.push(`${login} (a contributor to the change: ${contributions.join(', ')})`);
        continue;
      }
      const same = countedAccounts.find(
        (c) => c.id === approval.user.id || c.login.toLowerCase() === login.toLowerCase(),
      );
      if (!same) countedAccounts.push(approval.user);
      else if (same.login.toLowerCase() !== login.toLowerCase()) {
        countedOnce.push(`${login} (account ${approval.user.id}, as ${same.login})`);
      }
    }
  }
  const counted = countedAccounts.map((a) => a.login);
  if (counted.length < rules.min) {
    problems.push(
      `expected ${rules.min} approval${rules.min === 1 ? '' : 's'} of the environment ${predicate.environment} by someone distinct from ${distinctFrom.join(', ') || 'nobody'} and not a bot, found ${counted.length}${counted.length ? ` (${counted.join(', ')})` : ''}${countedOnce.length ? `; counted once: ${countedOnce.join(', ')}` : ''}${refused.length ? `; not counted: ${refused.join(', ')}` : ''}`,
    );
  } else if (rules.min > 0 && refused.length > 0) {
    // GitHub releases the job on any one approval, and the run's review history (every attempt's) does not say
    // which: an approval by someone the policy excludes may be the one that released this job (a re-run's).
    problems.push(
      `approved for ${predicate.environment} by someone the policy excludes: ${refused.join(', ')}; GitHub releases the job on any one approval of the run, so it may have been theirs`,
    );
  }
  if (problems.length > 0) return { verdict: 'fail', reason: problems.join('; '), approvers: counted };
  return {
    verdict: 'pass',
    reason:
      rules.min === 0
        ? `not required (deploy.approvals.min 0); approved by ${counted.join(', ') || 'nobody'}`
        : `approved for ${predicate.environment} by ${counted.join(', ')}, each distinct from ${distinctFrom.join(', ')}`,
    approvers: counted,
  };
}

function excludedPeople(
  distinctFrom: readonly DeployApproverExclusion[],
  predicate: DeployApprovalPredicate,
  change: ChangePeople | undefined,
): { byLogin: Map<string, string>; byId: Map<number, string>; unknown: string[] } {
  const byLogin = new Map<string, string>();
  const byId = new Map<number, string>();
  const unknown: string[] = [];
  const add = (people: readonly ChangePerson[], why: string) => {
    for (const person of people) {
      const login = (typeof person === 'string' ? person : person.login).toLowerCase();
      if (!byLogin.has(login)) byLogin.set(login, why);
      if (typeof person !== 'string' && !byId.has(person.id)) byId.set(person.id, why);
    }
  };
  for (const who of distinctFrom) {
    if (who === 'requester') {
      add(predicate.requesters, 'started the deploy');
      continue;
    }
    if (!change) {
      unknown.push(`the change's ${who}`);
      continue;
    }
    if (who === 'author') {
      if (change.author === undefined) unknown.push("the change's author");
      else add([change.author, ...(change.otherAuthors ?? [])], "the change's author");
    } else if (who === 'contributors') add(change.contributors, 'a contributor to the change');
    else if (who === 'pusher') add(change.pushers, "the change's last pusher");
    else {
      add(change.codeApprovers, 'approved the code');
      add(change.breakGlassApprovers ?? [], 'released the break-glass in place of a code review');
    }
  }
  return { byLogin, byId, unknown };
}

/**
 * Whether a review of a run's deployments names this environment. GitHub's environment names are not case sensitive
 * (`Production` and `production` are one environment of a repository), and the job's token and the review history may
 * spell it differently: compared without case (environmentKey).
 */
export function namesEnvironment(environments: readonly string[], environment: string): boolean {
  const wanted = environmentKey(environment);
  return environments.some((name) => environmentKey(name) === wanted);
}

/**
 * An environment's name as twokey compares it: ASCII letters without case, every other character as it is. Folding
 * beyond ASCII (`\u212Aube-prod`, KELVIN SIGN, lowercases to `kube-prod`) could make two environments GitHub keeps
 * apart one: an approval of either would count for both. Folding less than GitHub does only ever misses (fail closed).
 */
export function environmentKey(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
