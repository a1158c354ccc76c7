// Who started this attempt of a workflow run — a re-run's: whoever re-ran it — by account, as GitHub's run attempt
// names it (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}`, its `triggering_actor`; the
// token needs `actions: read`, as for the run's approvals). GITHUB_TRIGGERING_ACTOR is only a login, and the job's OIDC
// token names only the run's first starter (`actor`, `actor_id`): bob re-runs a run, renames his account (bob →
// bob-ops) and has another account claim the login bob; looked up by login, the re-run's starter would be that other
// account, and bob-ops, bob himself, would approve as someone else. So the attempt's starter is the account GitHub
// names, by id, and GITHUB_TRIGGERING_ACTOR must still be its login: otherwise who started it cannot be told.
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

/** The account that started the attempt, as GitHub names it now. Throws when GitHub cannot be read or names none. */
export async function readTriggeringActor(client: GitHubClient, attempt: RunAttempt): Promise<GitHubAccount> {
  const [owner, repo] = attempt.repository.split('/') as [string, string];
  const { data } = await client.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}', {
    owner,
    repo,
    run_id: attempt.runId,
    attempt_number: attempt.runAttempt,
    exclude_pull_requests: true,
  });
  const user = (data as { triggering_actor?: { login?: unknown; id?: unknown; type?: unknown } | null })
    .triggering_actor;
  if (!user || typeof user.login !== 'string' || typeof user.id !== 'number') {
    throw new Error(
      `GitHub names no account that started attempt ${attempt.runAttempt} of run ${attempt.runId} (its triggering_actor): ${JSON.stringify(user ?? null).slice(0, 200)}`,
    );
  }
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
