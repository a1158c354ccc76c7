// Who started this attempt of a workflow run — a re-run's: whoever re-ran it — by account, as GitHub's run attempt
// names it (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}`, its `triggering_actor`; the
// token needs `actions: read`, as for the run's approvals). GITHUB_TRIGGERING_ACTOR is only a login, and the job's OIDC
// token names only the run's first starter (`actor`, `actor_id`): bob re-runs a run, renames his account (bob →
// bob-ops) and has another account claim the login bob; looked up by login, the re-run's starter would be that other
// account, and bob-ops, bob himself, would approve as someone else. So the attempt's starter is the account GitHub
// names, by id, and GITHUB_TRIGGERING_ACTOR must still be its login: otherwise who started it cannot be told. The
// same answer names the run's first starter (its `actor`, with the account's type: the break-glass workflow refuses a
// run a bot started), and it counts only when it is the run and the attempt asked for.
import { CodedError, type GitHubAccount } from '@twokey/core';
import type { GitHubClient } from './octokit';

/**
 * Who started the run, or this attempt of it, cannot be told by account: a login that is another account's now than
 * the one GitHub (or the job's token) names. A refusal to guess, never a bug.
 */
export class RunStarterError extends CodedError<'RUN_STARTER_UNKNOWN'> {
  readonly kind = 'refusal';
  override readonly name = 'RunStarterError';
}

export interface RunAttempt {
  /** `owner/name`. */
  repository: string;
  runId: number;
  runAttempt: number;
}

/** What GitHub's run attempt says of who started the run and this attempt of it. */
export interface RunAttemptStarters {
  /** Who started this attempt (a re-run's: whoever re-ran it): its `triggering_actor`. */
  triggeringActor: GitHubAccount;
  /** Who started the run, its first attempt (the job token's `actor`): its `actor`; undefined when GitHub names none. */
  actor?: GitHubAccount;
}

/**
 * Who started the run and this attempt of it, as GitHub's run attempt names them now. Throws when GitHub cannot be
 * read, names nobody who started the attempt, or answers for another run or attempt than the one asked for.
 */
export async function readRunAttempt(client: GitHubClient, attempt: RunAttempt): Promise<RunAttemptStarters> {
  const [owner, repo] = attempt.repository.split('/') as [string, string];
  const { data } = await client.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}', {
    owner,
    repo,
    run_id: attempt.runId,
    attempt_number: attempt.runAttempt,
    exclude_pull_requests: true,
  });
  type Account = { login?: unknown; id?: unknown; type?: unknown } | null;
  const run = data as { id?: unknown; run_attempt?: unknown; actor?: Account; triggering_actor?: Account };
  // The answer must be the run and the attempt asked for: an answer for another (a proxy or a cache between the job
  // and GitHub that drops the attempt, an API that serves the run's latest or first attempt) would name someone
  // else as its starter — attempt 1's dana for bob's re-run, and bob, its real requester, would approve it himself.
  if (run.id !== attempt.runId || run.run_attempt !== attempt.runAttempt) {
    throw new RunStarterError(
      'RUN_STARTER_UNKNOWN',
      `asked GitHub who started attempt ${attempt.runAttempt} of run ${attempt.runId}, but it answered for attempt ${JSON.stringify(run.run_attempt ?? null)} of run ${JSON.stringify(run.id ?? null)}: who started this attempt cannot be told`,
    );
  }
  const user = run.triggering_actor;
  if (!user || typeof user.login !== 'string' || typeof user.id !== 'number') {
    throw new RunStarterError(
      'RUN_STARTER_UNKNOWN',
      `GitHub names no account that started attempt ${attempt.runAttempt} of run ${attempt.runId} (its triggering_actor): ${JSON.stringify(user ?? null).slice(0, 200)}`,
    );
  }
  const actor = run.actor;
  return {
    triggeringActor: accountOf(user as { login: string; id: number; type?: unknown }),
    ...(actor &&
      typeof actor.login === 'string' &&
      typeof actor.id === 'number' && { actor: accountOf(actor as { login: string; id: number; type?: unknown }) }),
  };
}

/** The account that started the attempt, as GitHub names it now. Throws when GitHub cannot be read or names none. */
export async function readTriggeringActor(client: GitHubClient, attempt: RunAttempt): Promise<GitHubAccount> {
  return (await readRunAttempt(client, attempt)).triggeringActor;
}

function accountOf(user: { login: string; id: number; type?: unknown }): GitHubAccount {
  return { login: user.login, id: user.id, type: typeof user.type === 'string' ? user.type : 'User' };
}

/**
 * Why the login GITHUB_TRIGGERING_ACTOR gave is not the account GitHub names as the attempt's starter (renamed since,
 * the login perhaps another account's now), for `who` (e.g. "who started the deploy"); undefined when it is.
 */
export function triggeringActorMismatch(
  login: string,
  found: GitHubAccount,
  attempt: RunAttempt,
  who: string,
): string | undefined {
  if (login.toLowerCase() === found.login.toLowerCase()) return undefined;
  const given = login === '' ? 'GITHUB_TRIGGERING_ACTOR names nobody' : `GITHUB_TRIGGERING_ACTOR is ${login}`;
  return `${given}, but GitHub says attempt ${attempt.runAttempt} of run ${attempt.runId} was started by account ${found.id}, ${found.login} now (its triggering_actor): renamed since, so ${who} cannot be told by login`;
}
