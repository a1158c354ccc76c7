// Who started a run and this attempt of it, as GitHub's run attempt names them, read from the GitHub API fake — and
// only from an answer for the run and the attempt asked for. bob re-runs dana's deploy (attempt 2) and approves it;
// were attempt 1's answer taken for attempt 2's (a proxy or a cache between the job and GitHub that drops the
// attempt, an API that serves a run's first or latest attempt), its starter would be dana, bob would be nobody's
// requester, and his approval of his own re-run would count.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { judgeDeployApproval } from '@twokey/core';
import {
  aBot,
  aGitHubState,
  anApprovedChange,
  aUser,
  aWorkflowRun,
  type FakeRepository,
  type GitHubFake,
  startGitHubFake,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployApproval } from './deploy-approvals';
import { createGitHubClient } from './octokit';
import { readRunAttempt, readTriggeringActor } from './run-attempt';

const RUN = 5151;
const OTHER_RUN = 5152;
const dana = aUser('dana', { id: 5150 });
/** A reviewer of production, who re-runs dana's deploy. */
const bob = aUser('bob', { id: 7002 });
const BOT = aBot('github-actions', { id: 41898282 });

let github: GitHubFake;
let repository: FakeRepository;
let proxy: Server;
let proxyUrl: string;
/** How the proxy between the job and GitHub rewrites the path it forwards (identity: an honest one). */
let rewrite: (path: string) => string = (path) => path;

beforeAll(async () => {
  ({ repository } = anApprovedChange('acme/app'));
  repository.environments = { production: { reviewers: [], preventSelfReview: true } };
  // dana started the run; bob re-ran it (attempt 2) and approved the re-run himself.
  aWorkflowRun(repository, { id: RUN, actor: dana, reRunBy: [bob] });
  aWorkflowRun(repository, { id: OTHER_RUN, actor: dana });
  repository.workflowRunApprovals[String(RUN)] = [
    {
      state: 'approved',
      comment: 'mine',
      environments: ['production'],
      user: { login: 'bob', id: 7002, type: 'User' },
    },
  ];
  github = await startGitHubFake(aGitHubState(repository, dana, bob, BOT));
  proxy = createServer((request, response) => {
    const headers = { ...request.headers } as Record<string, string>;
    delete headers.host;
    fetch(`${github.url}${rewrite(request.url ?? '/')}`, { method: request.method ?? 'GET', headers })
      .then(async (answer) => {
        response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        response.end(Buffer.from(await answer.arrayBuffer()));
      })
      .catch(() => {
        response.writeHead(502);
        response.end();
      });
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((done) => proxy?.close(done));
  await github?.close();
});

const client = () => createGitHubClient({ token: 'ghs_job', baseUrl: proxyUrl, retries: 0 });
const attempt = (runAttempt: number, runId = RUN) => ({ repository: 'acme/app', runId, runAttempt });

describe('who started a run and this attempt of it (GitHub’s run attempt)', () => {
  it('is the attempt’s triggering actor and the run’s actor, by account, when GitHub answers for the attempt asked', async () => {
    rewrite = (path) => path;
    await expect(readRunAttempt(client(), attempt(2))).resolves.toEqual({
      triggeringActor: { login: 'bob', id: 7002, type: 'User' },
      actor: { login: 'dana', id: 5150, type: 'User' },
    });
    await expect(readTriggeringActor(client(), attempt(1))).resolves.toEqual({ login: 'dana', id: 5150, type: 'User' });
  });

  it('names a bot that started the run by its account type', async () => {
    rewrite = (path) => path;
    aWorkflowRun(repository, { id: 5153, actor: BOT, reRunBy: [dana] });
    const found = await readRunAttempt(client(), attempt(2, 5153));
    expect(found.actor).toEqual({ login: 'github-actions[bot]', id: 41898282, type: 'Bot' });
    expect(found.triggeringActor.login).toBe('dana');
  });

  it('cannot be told from an answer for another attempt of the run: an error naming both, never attempt 1’s starter', async () => {
    // The proxy answers every attempt with the run's first: dana, never bob.
    rewrite = (path) => path.replace(/\/attempts\/[0-9]+/, '/attempts/1');
    try {
      await expect(readTriggeringActor(client(), attempt(2))).rejects.toMatchObject({
        code: 'RUN_STARTER_UNKNOWN',
        message: `asked GitHub who started attempt 2 of run ${RUN}, but it answered for attempt 1 of run ${RUN}: who started this attempt cannot be told`,
      });
      // So the deploy job never signs bob's re-run with dana as its only requester, nor counts bob's approval — also
      // where no GITHUB_TRIGGERING_ACTOR is given to hold the answer against (the attempt's starter is then GitHub's
      // word alone).
      const read = readDeployApproval({
        client: client(),
        repository: 'acme/app',
        serverUrl: 'https://github.com',
        runId: RUN,
        runAttempt: 2,
        environment: 'production',
        actorLogin: 'dana',
        actor: { login: 'dana', id: 5150 },
        log: () => {},
      });
      await expect(read).rejects.toMatchObject({ code: 'RUN_STARTER_UNKNOWN' });
    } finally {
      rewrite = (path) => path;
    }
  });

  it('cannot be told from an answer for another run: an error naming both', async () => {
    rewrite = (path) => path.replace(`/actions/runs/${RUN}/`, `/actions/runs/${OTHER_RUN}/`);
    try {
      await expect(readRunAttempt(client(), attempt(1))).rejects.toMatchObject({
        code: 'RUN_STARTER_UNKNOWN',
        message: `asked GitHub who started attempt 1 of run ${RUN}, but it answered for attempt 1 of run ${OTHER_RUN}: who started this attempt cannot be told`,
      });
    } finally {
      rewrite = (path) => path;
    }
  });

  it('cannot be told when GitHub names no triggering actor: a refusal to guess (RUN_STARTER_UNKNOWN), never a bug', async () => {
    const answer = { id: Number(RUN), run_attempt: 2, triggering_actor: null, actor: null };
    const stub = { request: async () => ({ data: answer }) } as unknown as ReturnType<typeof createGitHubClient>;
    await expect(readRunAttempt(stub, attempt(2))).rejects.toMatchObject({
      code: 'RUN_STARTER_UNKNOWN',
      kind: 'refusal',
      message: `GitHub names no account that started attempt 2 of run ${RUN} (its triggering_actor): null`,
    });
  });

  it('control: honestly read, bob is a requester of his re-run and his own approval does not count', async () => {
    rewrite = (path) => path;
    const facts = await readDeployApproval({
      client: client(),
      repository: 'acme/app',
      serverUrl: 'https://github.com',
      runId: RUN,
      runAttempt: 2,
      environment: 'production',
      actorLogin: 'dana',
      triggeringActorLogin: 'bob',
      actor: { login: 'dana', id: 5150 },
      log: () => {},
    });
    expect(facts.requesters.map((r) => r.id)).toEqual([5150, 7002]);
    const judged = judgeDeployApproval(
      { ...facts, evidence: [] },
      { min: 1, distinctFrom: ['requester'], requirePreventSelfReview: true },
      { author: 'alice', contributors: [], pushers: [], codeApprovers: [] },
    );
    expect(judged.verdict).toBe('fail');
    expect(judged.reason).toContain('not counted: bob (started the deploy)');
  });
});
