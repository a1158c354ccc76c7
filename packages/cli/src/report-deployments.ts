// GitHub's deployments of a repository with their statuses (M10, and when a deploy was requested for M2), read with
// a token: `GET /repos/{owner}/{repo}/deployments` and each one's `…/statuses`, every page. What GitHub says about a
// deployment is not signed: it is matched to a signed decision record by the workflow run both name.
import { type DeploymentRecord, deploymentsFromGitHub } from '@twokey/core';
import { createGitHubClient, type GitHubClient } from '@twokey/github';

export interface DeploymentsQuery {
  repository: string;
  apiUrl: string;
  token: string;
  /** Deployments created before this are not read (the API lists the newest first). */
  since?: Date;
  /**
   * The report's window's start, when `since` reaches before it: a deployment before the window has its statuses read
   * only when a deployment in the window is of the same commit (one run's attempts build and deploy one commit), so the
   * reach costs one request a page, not one a deployment.
   */
  windowStart?: Date;
  client?: GitHubClient;
}

const PER_PAGE = 100;
const CONCURRENCY = 8;

export async function fetchDeployments(query: DeploymentsQuery): Promise<DeploymentRecord[]> {
  const [owner, repo] = query.repository.split('/') as [string, string];
  const client = query.client ?? createGitHubClient({ token: query.token, baseUrl: query.apiUrl, readsOnly: true });
  const listed: Record<string, unknown>[] = [];
  for (let page = 1; ; page += 1) {
    const { data } = await client.request('GET /repos/{owner}/{repo}/deployments', {
      owner,
      repo,
      per_page: PER_PAGE,
      page,
    });
    const deployments = data as unknown as Record<string, unknown>[];
    const kept = deployments.filter(
      (d) => !query.since || Date.parse(String(d.created_at)) >= (query.since as Date).getTime(),
    );
    listed.push(...kept);
    if (deployments.length < PER_PAGE || kept.length < deployments.length) break;
  }
  // Each deployment's statuses, a few requests at a time.
  const windowStart = query.windowStart?.getTime();
  const inWindow = (d: Record<string, unknown>) =>
    windowStart === undefined || Date.parse(String(d.created_at)) >= windowStart;
  const windowShas = new Set(listed.filter(inWindow).map((d) => d.sha));
  const wanted = listed.filter((d) => inWindow(d) || windowShas.has(d.sha));
  let next = 0;
  const readStatuses = async () => {
    for (let i = next++; i < wanted.length; i = next++) {
      const deployment = wanted[i]!;
      const statuses: unknown[] = [];
      for (let page = 1; ; page += 1) {
        const { data } = await client.request('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
          owner,
          repo,
          deployment_id: deployment.id as number,
          per_page: PER_PAGE,
          page,
        });
        statuses.push(...(data as unknown[]));
        if ((data as unknown[]).length < PER_PAGE) break;
      }
      deployment.statuses = statuses;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, wanted.length) }, readStatuses));
  return deploymentsFromGitHub(listed, `github:${query.repository}/deployments`);
}
