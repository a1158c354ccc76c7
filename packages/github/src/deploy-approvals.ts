// Who approved this deploy, read by the deploy job itself once GitHub released it: the run's environment approvals
// (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`), the environment's protection rules (`GET
// /repos/{owner}/{repo}/environments/{environment_name}`: required reviewers, prevent_self_review) and who started the
// run: its actor (`GET /users/{username}`, the account the job's token names) and this attempt's triggering actor (a
// re-run's: whoever re-ran it), by id from the run attempt (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/
// {attempt_number}`, run-attempt.ts). What comes back is the deploy-approval predicate the job signs (its `evidence`
// filled in by the caller); a read that fails is an error, never "nobody approved".
// When the deploy was requested (requestedAt) is GitHub's deployment of this run for the environment: it only
// measures (M2), so when GitHub cannot say it is left out and the log says why — the deploy never fails over it.
import {
  type AccountProfile,
  type DeployApprovalPredicate,
  deploymentsFromGitHub,
  describeError,
  type GitHubAccount,
} from '@twokey/core';
import type { GitHubClient } from './octokit';
import { RunStarterError, readTriggeringActor, triggeringActorMismatch } from './run-attempt';
import { logUntrusted } from './step';

export interface DeployApprovalRequest {
  client: GitHubClient;
  /** `owner/name`. */
  repository: string;
  serverUrl: string;
  runId: number;
  runAttempt: number;
  environment: string;
  /** GITHUB_ACTOR: the login of whoever started the run (its first attempt); empty or absent: none. */
  actorLogin?: string;
  /**
   * GITHUB_TRIGGERING_ACTOR: the login of whoever started this attempt (a re-run's: whoever re-ran it). The attempt's
   * starter is read by id from GitHub's run attempt, whose login this must still be; empty or absent: not checked.
   */
  triggeringActorLogin?: string;
  /**
   * Who started the run, as the job's OIDC token says it (`actor`, `actor_id`): the account looked up by that login
   * must still be it. Renamed since (alice → alice-ops) and the login claimed by another account, a lookup by login
   * would name that other account, and the renamed starter would approve as someone else.
   */
  actor?: { login: string; id: number };
  now?: Date;
  /** Where what GitHub could not say is written: the action's log (default @actions/core's info). */
  log?: (message: string) => void;
}

/**
 * How many of the environment's latest deployments are searched for this run's (one request each for their
 * statuses): the deploy job's was created when the job was queued, so only those queued since come before it.
 */
const DEPLOYMENTS_SEARCHED = 10;

interface ApprovalJson {
  state?: string;
  comment?: string;
  user?: { login?: string; id?: number; type?: string } | null;
  environments?: { name?: string }[];
}

interface EnvironmentJson {
  protection_rules?: {
    type?: string;
    prevent_self_review?: boolean;
    reviewers?: { type?: string; reviewer?: { login?: string; slug?: string; name?: string } | null }[];
  }[];
}

/** GitHub's state of a review: `approved` and `pending` as they are; anything else, a rejection (fail closed). */
function stateOf(state: string | undefined): DeployApprovalPredicate['approvals'][number]['state'] {
  return state === 'approved' || state === 'pending' ? state : 'rejected';
}

/** The deploy's approvals as GitHub reports them, without `evidence`. Throws when GitHub cannot be read. */
export async function readDeployApproval(
  request: DeployApprovalRequest,
): Promise<Omit<DeployApprovalPredicate, 'evidence'>> {
  const [owner, repo] = request.repository.split('/') as [string, string];
  const { client } = request;
  const log = request.log ?? ((message: string) => logUntrusted(message));
  const [approvals, protection, requesters, deployRequest, defaultBranch] = await Promise.all([
    client
      .request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals', { owner, repo, run_id: request.runId })
      .then(({ data }) => data as ApprovalJson[]),
    readProtection(client, owner, repo, request.environment),
    readRequesters(client, request),
    readDeployRequest(client, owner, repo, request),
    // The repository's default branch: a protected branch the deploy may run from when the policy names none and no
    // review attestation says (packages/gate, requesterUnknown).
    client
      .request('GET /repos/{owner}/{repo}', { owner, repo })
      .then(({ data }) => (data as { default_branch?: unknown }).default_branch),
  ]);
  // Whoever started the run, by the account the token names, whatever login it has now: excluded by id.
  const actor = request.actor;
  if (actor && !requesters.some((r) => r.id === actor.id)) {
    requesters.push({ login: actor.login, id: actor.id, type: actor.login.endsWith('[bot]') ? 'Bot' : 'User' });
  }
  const readApprovals = approvals.map((a) => ({
    user: account(a.user ?? {}),
    state: stateOf(a.state),
    comment: a.comment ?? '',
    environments: (a.environments ?? []).flatMap((e) => (typeof e.name === 'string' ? [e.name] : [])),
  }));
  // Each approver's public profile (name, public e-mail): a deploy approver is matched against the change's people by
  // it, as the review rules match a code approver. One that cannot be read (or names another account now) is left
  // out: the gate then holds the approver to what it can tell without it.
  const profiles = await readProfiles(client, readApprovals, log);
  const readAt = (request.now ?? new Date()).toISOString();
  const requestedAt = requestedAtToSign(deployRequest, readAt, log);
  return {
    environment: request.environment,
    repository: { name: request.repository, uri: `${request.serverUrl}/${request.repository}` },
    run: {
      id: request.runId,
      attempt: request.runAttempt,
      uri: `${request.serverUrl}/${request.repository}/actions/runs/${request.runId}/attempts/${request.runAttempt}`,
    },
    requesters,
    approvals: readApprovals,
    profiles,
    protection,
    ...(requestedAt !== undefined && { requestedAt }),
    ...(typeof defaultBranch === 'string' && defaultBranch !== '' && { defaultBranch }),
    readAt,
  };
}

/** The public profile of each account that approved, once per account id, as `GET /users/{username}` shows it. */
export async function readProfiles(
  client: GitHubClient,
  approvals: { user: GitHubAccount; state: string }[],
  log: (message: string) => void,
): Promise<AccountProfile[]> {
  const accounts = new Map<number, GitHubAccount>();
  for (const { user, state } of approvals) {
    if (state === 'approved' && user.type === 'User' && Number.isSafeInteger(user.id)) accounts.set(user.id, user);
  }
  const read = await Promise.all(
    [...accounts.values()].map(async (user): Promise<AccountProfile | undefined> => {
      try {
        const { data } = await client.request('GET /users/{username}', { username: user.login });
        if (data.id !== user.id) {
          log(
            `${user.login}'s profile: GitHub answered for account ${data.id}, not ${user.id} (the login changed hands)`,
          );
          return undefined;
        }
        return {
          account: { login: user.login, id: user.id, type: user.type },
          ...(data.name && { name: data.name }),
          ...(data.email && { email: data.email }),
        };
      } catch (error) {
        log(`${user.login}'s profile could not be read: ${describeError(error)}`);
        return undefined;
      }
    }),
  );
  return read.filter((p): p is AccountProfile => p !== undefined);
}

/**
 * Who started the run and this attempt, by account, once each: the attempt's triggering actor as GitHub's run attempt
 * names it (its login must be GITHUB_TRIGGERING_ACTOR's), and the run's actor (GITHUB_ACTOR) — the same account when
 * the logins agree, else looked up by login, and then it must still be the account the job's token names.
 */
async function readRequesters(client: GitHubClient, request: DeployApprovalRequest): Promise<GitHubAccount[]> {
  const attempt = { repository: request.repository, runId: request.runId, runAttempt: request.runAttempt };
  const triggeringLogin = request.triggeringActorLogin ?? '';
  const actorLogin = request.actorLogin ?? '';
  // Looked up by login only when it is not the attempt's starter's: the common run, never re-run, reads one account.
  const sameLogin = triggeringLogin !== '' && actorLogin.toLowerCase() === triggeringLogin.toLowerCase();
  const [triggering, lookedUp] = await Promise.all([
    readTriggeringActor(client, attempt),
    actorLogin === '' || sameLogin
      ? undefined
      : client
          .request('GET /users/{username}', { username: actorLogin })
          .then(({ data }) => account(data as { login?: string; id?: number; type?: string })),
  ]);
  const mismatch =
    triggeringLogin === ''
      ? undefined
      : triggeringActorMismatch(triggeringLogin, triggering, attempt, 'who started this attempt of the deploy');
  if (mismatch) throw new RunStarterError('RUN_STARTER_UNKNOWN', mismatch);
  const started = sameLogin ? triggering : lookedUp;
  const actor = request.actor;
  if (started && actor && actor.login.toLowerCase() === actorLogin.toLowerCase() && started.id !== actor.id) {
    throw new RunStarterError(
      'RUN_STARTER_UNKNOWN',
      `the login ${actorLogin} is GitHub account ${started.id} now, but the run was started by account ${actor.id} (its token's actor_id): renamed since, so who started the deploy cannot be told by login`,
    );
  }
  const requesters: GitHubAccount[] = [];
  for (const found of [started, triggering]) {
    if (found && !requesters.some((r) => r.id === found.id)) requesters.push(found);
  }
  return requesters;
}

/**
 * The request time to sign: never after readAt (GitHub's clock may be ahead of the runner's, and a request after the
 * reading is a malformed predicate). Otherwise none, and the log says why.
 */
function requestedAtToSign(
  found: { id: number; requestedAt: string } | { missing: string },
  readAt: string,
  log: (message: string) => void,
): string | undefined {
  if ('requestedAt' in found && found.requestedAt <= readAt) return found.requestedAt;
  const why =
    'missing' in found
      ? found.missing
      : `GitHub created deployment ${found.id} at ${found.requestedAt}, after this job read its approvals (${readAt}, the runner's clock)`;
  log(`requestedAt not recorded: ${why}`);
  return undefined;
}

/**
 * When this run's deploy was requested: the created_at of the deployment GitHub Actions made for the environment
 * when the job was queued, the one among the environment's latest whose statuses' log URL names this run
 * (`…/actions/runs/RUN_ID/…`, read as the report reads GitHub's deployments). The newest such is this attempt's: an
 * earlier attempt's was made before it. Newest first, so the first deployment's statuses usually tell: two requests.
 * What GitHub does not say is said, never guessed (not the run's created_at: a run may wait before its job is queued).
 */
/** The account GitHub Actions creates a job's environment deployments as. */
const GITHUB_ACTIONS_LOGIN = 'github-actions[bot]';

async function readDeployRequest(
  client: GitHubClient,
  owner: string,
  repo: string,
  request: DeployApprovalRequest,
): Promise<{ id: number; requestedAt: string } | { missing: string }> {
  const run = String(request.runId);
  try {
    const { data } = await client.request('GET /repos/{owner}/{repo}/deployments', {
      owner,
      repo,
      environment: request.environment,
      per_page: DEPLOYMENTS_SEARCHED,
    });
    for (const deployment of data as unknown as Record<string, unknown>[]) {
      // GitHub Actions makes a job's environment deployment (github-actions[bot]); anyone who can write may create one
      // whose status names this run, to make the request look later and the approval quicker.
      const creator = deployment.creator as { login?: unknown } | null | undefined;
      if (creator?.login !== GITHUB_ACTIONS_LOGIN) continue;
      const { data: statuses } = await client.request(
        'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
        { owner, repo, deployment_id: deployment.id as number },
      );
      const [record] = deploymentsFromGitHub([{ ...deployment, statuses }], `GitHub's deployment ${deployment.id}`);
      if (record?.runId === run) {
        return { id: record.id, requestedAt: new Date(Date.parse(record.createdAt)).toISOString() };
      }
    }
    return {
      missing: `none of the ${data.length} latest deployments of ${request.environment} in ${request.repository} names run ${run} in its statuses' log_url or target_url`,
    };
  } catch (error) {
    const status = (error as { status?: number }).status;
    const hint = status === 403 || status === 404 ? ' (the token needs deployments: read)' : '';
    return {
      missing: `GitHub did not say when ${request.environment}'s deployment of run ${run} was created${hint}: ${describeError(error)}`,
    };
  }
}

/** The environment's protection; null when the token may not read the environment (404/403): said, not guessed. */
async function readProtection(
  client: GitHubClient,
  owner: string,
  repo: string,
  environment: string,
): Promise<DeployApprovalPredicate['protection']> {
  let data: EnvironmentJson;
  try {
    ({ data } = (await client.request('GET /repos/{owner}/{repo}/environments/{environment_name}', {
      owner,
      repo,
      environment_name: environment,
    })) as { data: EnvironmentJson });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 403) return null;
    throw error;
  }
  const rule = (data.protection_rules ?? []).find((r) => r.type === 'required_reviewers');
  return {
    requiredReviewers: (rule?.reviewers ?? []).map((r) => ({
      type: r.type ?? 'User',
      name: r.reviewer?.login ?? r.reviewer?.slug ?? r.reviewer?.name ?? '',
    })),
    preventSelfReview: rule?.prevent_self_review === true,
  };
}

function account(user: { login?: string; id?: number; type?: string }): GitHubAccount {
  if (typeof user.login !== 'string' || typeof user.id !== 'number') {
    throw new Error(`GitHub named an account without a login or id: ${JSON.stringify(user).slice(0, 200)}`);
  }
  return { login: user.login, id: user.id, type: typeof user.type === 'string' ? user.type : 'User' };
}
