// Who approved this deploy, read by the deploy job itself once GitHub released it: the run's environment approvals
// (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`), the environment's protection rules (`GET
// /repos/{owner}/{repo}/environments/{environment_name}`: required reviewers, prevent_self_review) and who started the
// run (its actor and triggering actor, `GET /users/{username}`). What comes back is the deploy-approval predicate the
// job signs (its `evidence` filled in by the caller); a read that fails is an error, never "nobody approved".
import type { DeployApprovalPredicate, GitHubAccount } from '@twokey/core';
import type { GitHubClient } from './octokit';

export interface DeployApprovalRequest {
  client: GitHubClient;
  /** `owner/name`. */
  repository: string;
  serverUrl: string;
  runId: number;
  runAttempt: number;
  environment: string;
  /** GITHUB_ACTOR and GITHUB_TRIGGERING_ACTOR (logins). */
  actors: string[];
  now?: Date;
}

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

/** The deploy's approvals as GitHub reports them, without `evidence`. Throws when GitHub cannot be read. */
export async function readDeployApproval(
  request: DeployApprovalRequest,
): Promise<Omit<DeployApprovalPredicate, 'evidence'>> {
  const [owner, repo] = request.repository.split('/') as [string, string];
  const { client } = request;
  const [approvals, protection, requesters] = await Promise.all([
    client
      .request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals', { owner, repo, run_id: request.runId })
      .then(({ data }) => data as ApprovalJson[]),
    readProtection(client, owner, repo, request.environment),
    Promise.all(
      [...new Set(request.actors.filter((a) => a !== ''))].map(async (login) => {
        const { data } = await client.request('GET /users/{username}', { username: login });
        return account(data as { login?: string; id?: number; type?: string });
      }),
    ),
  ]);
  return {
    environment: request.environment,
    repository: { name: request.repository, uri: `${request.serverUrl}/${request.repository}` },
    run: {
      id: request.runId,
      attempt: request.runAttempt,
      uri: `${request.serverUrl}/${request.repository}/actions/runs/${request.runId}/attempts/${request.runAttempt}`,
    },
    requesters,
    approvals: approvals.map((a) => ({
      user: account(a.user ?? {}),
      state: a.state === 'approved' ? 'approved' : 'rejected',
      comment: a.comment ?? '',
      environments: (a.environments ?? []).flatMap((e) => (typeof e.name === 'string' ? [e.name] : [])),
    })),
    protection,
    readAt: (request.now ?? new Date()).toISOString(),
  };
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
