// GitHub's deployments as `twokey report --repo` reads them (M10, and M2's deploy requests): every page of the
// repository's deployments and of each one's statuses, the run each names, and no deployment older than the window.
// A loopback server answers as GitHub's REST API does.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDeployments } from '../../packages/cli/src/report-deployments';

const DEPLOYMENTS = Array.from({ length: 130 }, (_, i) => ({
  id: 1000 + i,
  url: `https://api.github.com/repos/acme/web/deployments/${1000 + i}`,
  environment: 'production',
  // The first eleven (and every other one after them) of one commit, the rest of another.
  sha: (i <= 10 || i % 2 === 0 ? 'a' : 'b').repeat(40),
  ref: 'main',
  // Newest first, one a day.
  created_at: new Date(Date.UTC(2026, 10, 30) - i * 86_400_000).toISOString(),
}));

let api: string;
const requests: string[] = [];
const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  requests.push(`${url.pathname}?${url.searchParams}`);
  const page = Number(url.searchParams.get('page') ?? '1');
  const perPage = Number(url.searchParams.get('per_page') ?? '30');
  const statuses = /^\/repos\/acme\/web\/deployments\/(\d+)\/statuses$/.exec(url.pathname);
  let body: unknown;
  if (url.pathname === '/repos/acme/web/deployments') body = DEPLOYMENTS.slice((page - 1) * perPage, page * perPage);
  else if (statuses) {
    const id = Number(statuses[1]);
    body =
      page > 1
        ? []
        : [
            {
              state: id % 2 ? 'failure' : 'success',
              created_at: '2026-11-30T00:10:00Z',
              log_url: `https://github.com/acme/web/actions/runs/${id * 7}/job/1`,
            },
            {
              state: 'in_progress',
              created_at: '2026-11-30T00:05:00Z',
              log_url: `https://github.com/acme/web/actions/runs/${id * 7}/job/1`,
            },
          ];
  } else {
    response.writeHead(404).end('{}');
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the deployments of a repository', () => {
  it('reads every page of deployments and their statuses, with the run each names', async () => {
    requests.length = 0;
    const deployments = await fetchDeployments({ repository: 'acme/web', apiUrl: api, token: 'ghs_report' });
    expect(deployments).toHaveLength(130);
    expect(deployments[0]).toEqual({
      id: 1000,
      url: 'https://api.github.com/repos/acme/web/deployments/1000',
      repository: 'acme/web',
      environment: 'production',
      sha: 'a'.repeat(40),
      createdAt: '2026-11-30T00:00:00.000Z',
      runId: '7000',
      statuses: [
        { state: 'success', createdAt: '2026-11-30T00:10:00Z' },
        { state: 'in_progress', createdAt: '2026-11-30T00:05:00Z' },
      ],
    });
    expect(requests.filter((r) => r.startsWith('/repos/acme/web/deployments?'))).toEqual([
      '/repos/acme/web/deployments?per_page=100&page=1',
      '/repos/acme/web/deployments?per_page=100&page=2',
    ]);
  });

  it('stops at the first deployment older than the window', async () => {
    requests.length = 0;
    const since = new Date(Date.UTC(2026, 10, 30) - 9 * 86_400_000);
    const deployments = await fetchDeployments({ repository: 'acme/web', apiUrl: api, token: 'ghs_report', since });
    expect(deployments.map((d) => d.id)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
    expect(requests.filter((r) => r.startsWith('/repos/acme/web/deployments?'))).toHaveLength(1);
  });

  it('reads the statuses of a deployment before the window only when one in the window is of its commit', async () => {
    // M6 counts a run's jobs over its whole life, so the list reaches 66 days before the window; one run's attempts
    // deploy one commit, and the statuses of every other deployment of those days would cost a request each (found by
    // the review of the reach).
    requests.length = 0;
    const day = (n: number) => new Date(Date.UTC(2026, 10, 30) - n * 86_400_000);
    const deployments = await fetchDeployments({
      repository: 'acme/web',
      apiUrl: api,
      token: 'ghs_report',
      since: day(40),
      windowStart: day(10),
    });
    expect(deployments).toHaveLength(41);
    const read = requests.flatMap((r) => /deployments\/(\d+)\/statuses/.exec(r)?.[1] ?? []).map(Number);
    const expected = deployments.filter((d, i) => i <= 10 || d.sha === 'a'.repeat(40)).map((d) => d.id);
    expect(read.sort()).toEqual(expected.sort());
    expect(read.length).toBeLessThan(deployments.length);
    // Those left unread say nothing of a run: never counted as a job that ran.
    const unread = deployments.filter((d) => !expected.includes(d.id));
    expect(unread.every((d) => d.statuses.length === 0 && d.runId === undefined)).toBe(true);
  });
});
