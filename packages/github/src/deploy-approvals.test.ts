// When the deploy was requested, as the deploy job reads it from the GitHub API fake: the deployment GitHub Actions
// made for this run's job in the environment (found by the run its statuses' log URL names) gives requestedAt; a
// deployment of another run or environment, none at all, or an API that will not answer leaves it out, said in the
// log, and the approvals are read all the same. And who started the deploy — the run, and this attempt of it — by
// account, never by a login alone.
import { parseDeployApprovalPredicate } from '@twokey/core';
import {
  aGitHubState,
  anActionsDeployment,
  anApprovedChange,
  aUser,
  aWorkflowRun,
  type FakeRepository,
  type GitHubFake,
  startGitHubFake,
} from '@twokey/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DeployApprovalRequest, readDeployApproval } from './deploy-approvals';
import { createGitHubClient } from './octokit';

const RUN = 4242;
const READ_AT = new Date('2026-05-04T10:30:00.000Z');
const dana = aUser('dana', { id: 5150 });
/** A reviewer of production, who re-runs dana's deploy. */
const bob = aUser('bob', { id: 7002 });
/** A reviewer of production, who approved the deploy. */
const carol = aUser('carol', { id: 31, profile: { name: 'Carol Checker', email: 'carol@acme.example' } });

let github: GitHubFake;
let repository: FakeRepository;
let commit: string;

beforeAll(async () => {
  ({ repository, commit } = anApprovedChange('acme/app'));
  repository.workflowRunApprovals[String(RUN)] = [
    {
      state: 'approved',
      comment: 'ship it',
      environments: ['production'],
      user: { login: 'carol', id: 31, type: 'User' },
    },
  ];
  repository.environments = { production: { reviewers: [], preventSelfReview: true } };
  github = await startGitHubFake(aGitHubState(repository, dana, carol));
});
afterAll(() => github?.close());
beforeEach(() => {
  repository.deployments = [];
  // dana started the run; nobody re-ran it.
  aWorkflowRun(repository, { id: RUN, actor: dana });
  github.requests.length = 0;
});

async function read(overrides: Partial<DeployApprovalRequest> = {}) {
  const logged: string[] = [];
  const predicate = await readDeployApproval({
    client: createGitHubClient({ token: 'ghs_deploy_job', baseUrl: github.url, retries: 0 }),
    repository: 'acme/app',
    serverUrl: 'https://github.com',
    runId: RUN,
    runAttempt: 1,
    environment: 'production',
    now: READ_AT,
    log: (message) => logged.push(message),
    ...overrides,
  });
  // What the deploy job signs must be a valid predicate, with or without requestedAt.
  parseDeployApprovalPredicate(JSON.parse(JSON.stringify({ ...predicate, evidence: [] })));
  return { predicate, logged };
}

const deploymentRequests = () => github.requests.filter((r) => r.path.includes('/deployments'));

describe('when the deploy was requested (requestedAt)', () => {
  it('is when GitHub created this run’s deployment for the environment, read in two requests', async () => {
    anActionsDeployment(repository, {
      runId: RUN,
      environment: 'production',
      sha: commit,
      at: '2026-05-04T10:02:00Z',
      afterwards: ['queued', 'in_progress'],
    });
    const { predicate, logged } = await read();
    expect(predicate.requestedAt).toBe('2026-05-04T10:02:00.000Z');
    expect(predicate.approvals.map((a) => a.user.login)).toEqual(['carol']);
    expect(logged).toEqual([]);
    expect(deploymentRequests().map((r) => `${r.route} ${new URLSearchParams(r.query)}`)).toEqual([
      'GET /repos/{owner}/{repo}/deployments environment=production&per_page=10',
      'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses ',
    ]);
  });

  it('is never another run’s deployment, though newer, nor one of another environment', async () => {
    anActionsDeployment(repository, { runId: RUN, environment: 'production', sha: commit, at: '2026-05-04T10:02:00Z' });
    anActionsDeployment(repository, { runId: RUN, environment: 'staging', sha: commit, at: '2026-05-04T10:10:00Z' });
    // Another deploy of the same commit queued while this one waited for its reviewers.
    anActionsDeployment(repository, {
      runId: 4243,
      environment: 'production',
      sha: commit,
      at: '2026-05-04T10:20:00Z',
    });
    const { predicate } = await read();
    expect(predicate.requestedAt).toBe('2026-05-04T10:02:00.000Z');
  });

  it('is never a deployment someone else created naming the run (only GitHub Actions’ own, github-actions[bot])', async () => {
    anActionsDeployment(repository, { runId: RUN, environment: 'production', sha: commit, at: '2026-05-04T09:00:00Z' });
    // A writer creates a deployment with a status whose log URL names this run, just before the job reads approvals.
    const planted = anActionsDeployment(repository, {
      runId: RUN,
      environment: 'production',
      sha: commit,
      at: '2026-05-04T10:29:00Z',
    });
    planted.creator = { login: 'alice', id: 11, type: 'User' };
    const { predicate } = await read();
    expect(predicate.requestedAt).toBe('2026-05-04T09:00:00.000Z');
  });

  it('is the newest deployment naming the run: a re-run’s attempt, not the first attempt’s', async () => {
    aWorkflowRun(repository, { id: RUN, actor: dana, reRunBy: [dana] });
    anActionsDeployment(repository, {
      runId: RUN,
      environment: 'production',
      sha: commit,
      at: '2026-05-04T09:00:00Z',
      afterwards: ['queued', 'in_progress', 'failure'],
    });
    anActionsDeployment(repository, { runId: RUN, environment: 'production', sha: commit, at: '2026-05-04T10:25:00Z' });
    const { predicate } = await read({ runAttempt: 2 });
    expect(predicate.requestedAt).toBe('2026-05-04T10:25:00.000Z');
  });

  it('is left out, and the log says why, when no deployment names the run (never the run’s own start)', async () => {
    anActionsDeployment(repository, {
      runId: 4243,
      environment: 'production',
      sha: commit,
      at: '2026-05-04T10:20:00Z',
    });
    const { predicate, logged } = await read();
    expect(predicate).not.toHaveProperty('requestedAt');
    expect(predicate.approvals).toHaveLength(1);
    expect(logged).toEqual([
      "requestedAt not recorded: none of the 1 latest deployments of production in acme/app names run 4242 in its statuses' log_url or target_url",
    ]);
  });

  it('is left out, and the log says why, when the token may not read deployments: the deploy goes on', async () => {
    anActionsDeployment(repository, { runId: RUN, environment: 'production', sha: commit, at: '2026-05-04T10:02:00Z' });
    github.failOn('GET /repos/{owner}/{repo}/deployments', { status: 403, count: 1 });
    const { predicate, logged } = await read();
    expect(predicate).not.toHaveProperty('requestedAt');
    expect(predicate.protection).toEqual({ requiredReviewers: [], preventSelfReview: true });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(
      /^requestedAt not recorded: GitHub did not say when production's deployment of run 4242 was created \(the token needs deployments: read\): /,
    );
  });

  it('is left out when GitHub’s deployment was created after the job read its approvals (clocks apart)', async () => {
    anActionsDeployment(repository, { runId: RUN, environment: 'production', sha: commit, at: '2026-05-04T10:30:05Z' });
    const { predicate, logged } = await read();
    expect(predicate).not.toHaveProperty('requestedAt');
    expect(logged[0]).toContain('after this job read its approvals (2026-05-04T10:30:00.000Z');
  });
});

// alice started the deploy, then renamed her account (alice → alice-ops) and had another account of hers claim the
// login alice: looked up by login, the run's starter would be that other account, and alice-ops would approve as
// someone else. The job's token names the starter's account id: the login must still be that account.
describe('the approvals’ states', () => {
  it('keeps GitHub’s pending (a comment without a decision) as pending, and reads a state it does not know as rejected', async () => {
    const saved = repository.workflowRunApprovals[String(RUN)]!;
    repository.workflowRunApprovals[String(RUN)] = [
      ...saved,
      {
        state: 'pending',
        comment: 'looking',
        environments: ['production'],
        user: { login: 'bob', id: 7002, type: 'User' },
      },
    ];
    try {
      const { predicate } = await read();
      expect(predicate.approvals.map((a) => [a.user.login, a.state])).toEqual([
        ['carol', 'approved'],
        ['bob', 'pending'],
      ]);
      // A state GitHub may add later is no approval: read as a rejection (fail closed).
      repository.workflowRunApprovals[String(RUN)] = [{ ...saved[0]!, state: 'deferred' as 'approved' }];
      expect((await read()).predicate.approvals[0]!.state).toBe('rejected');
    } finally {
      repository.workflowRunApprovals[String(RUN)] = saved;
    }
  });
});

describe('who started the deploy, by account', () => {
  it('is the account the job token names: the login looked up is still that account', async () => {
    const { predicate } = await read({ actorLogin: 'dana', actor: { login: 'dana', id: 5150 } });
    expect(predicate.requesters).toEqual([expect.objectContaining({ login: 'dana', id: 5150 })]);
  });

  it('is the account the run attempt names when the run was not re-run: one request, no lookup by login', async () => {
    const { predicate } = await read({
      actorLogin: 'dana',
      triggeringActorLogin: 'dana',
      actor: { login: 'dana', id: 5150 },
    });
    expect(predicate.requesters).toEqual([{ login: 'dana', id: 5150, type: 'User' }]);
    expect(github.requests.map((r) => r.path)).toContain('/repos/acme/app/actions/runs/4242/attempts/1');
    expect(github.requests.filter((r) => r.path === '/users/dana')).toEqual([]);
  });

  it('is excluded by account even when another re-ran the run and the starter renamed since', async () => {
    // bob's re-run: GITHUB_TRIGGERING_ACTOR is bob; the token names dana, who started it and is dana-ops now.
    aWorkflowRun(repository, { id: RUN, actor: { ...dana, login: 'dana-ops' }, reRunBy: [bob] });
    const { predicate } = await read({
      runAttempt: 2,
      triggeringActorLogin: 'bob',
      actor: { login: 'dana-ops', id: 5150 },
    });
    expect(predicate.requesters).toContainEqual(expect.objectContaining({ id: 5150 }));
    expect(predicate.requesters).toContainEqual(expect.objectContaining({ login: 'bob', id: 7002 }));
  });

  it('cannot be told by login when the login is another account now: an error, never another requester', async () => {
    await expect(read({ actorLogin: 'dana', actor: { login: 'dana', id: 7777 } })).rejects.toThrow(
      "the login dana is GitHub account 5150 now, but the run was started by account 7777 (its token's actor_id): renamed since",
    );
  });
});

// bob, a reviewer of production, re-runs dana's deploy (GITHUB_TRIGGERING_ACTOR is bob; the job's token names only
// dana, who started the run), renames his account (bob → bob-ops) and has a free account claim the login bob: looked
// up by login, the re-run's starter would be that account, and bob-ops, bob himself, would approve his own re-run as
// someone else. GitHub's run attempt names who re-ran it by account: the login must still be that account's.
describe('who re-ran the deploy, by account', () => {
  it('is whoever re-ran it, as the run attempt names the account: a requester by id, no lookup by login', async () => {
    aWorkflowRun(repository, { id: RUN, actor: dana, reRunBy: [bob] });
    const { predicate } = await read({
      runAttempt: 2,
      actorLogin: 'dana',
      triggeringActorLogin: 'bob',
      actor: { login: 'dana', id: 5150 },
    });
    expect(predicate.requesters).toEqual([
      { login: 'dana', id: 5150, type: 'User' },
      { login: 'bob', id: 7002, type: 'User' },
    ]);
    expect(github.requests.map((r) => r.path)).toContain('/repos/acme/app/actions/runs/4242/attempts/2');
    expect(github.requests.map((r) => r.path)).not.toContain('/users/bob');
  });

  it('cannot be told when the re-runner renamed since and the login is another account now: an error, never another requester', async () => {
    aWorkflowRun(repository, { id: RUN, actor: dana, reRunBy: [{ ...bob, login: 'bob-ops' }] });
    const squatter = aUser('bob', { id: 6666 });
    const approvals = repository.workflowRunApprovals[String(RUN)]!;
    github.state.users!.push(squatter);
    repository.workflowRunApprovals[String(RUN)] = [
      {
        state: 'approved',
        comment: 'lgtm',
        environments: ['production'],
        user: { login: 'bob-ops', id: 7002, type: 'User' },
      },
    ];
    try {
      await expect(
        read({ runAttempt: 2, actorLogin: 'dana', triggeringActorLogin: 'bob', actor: { login: 'dana', id: 5150 } }),
      ).rejects.toMatchObject({
        code: 'RUN_STARTER_UNKNOWN',
        message:
          'GITHUB_TRIGGERING_ACTOR is bob, but GitHub says attempt 2 of run 4242 was started by account 7002, bob-ops now (its triggering_actor): renamed since, so who started this attempt of the deploy cannot be told by login',
      });
      // The login was never looked up: the account that holds it now is nobody's requester.
      expect(github.requests.map((r) => r.path)).not.toContain('/users/bob');
    } finally {
      github.state.users!.splice(github.state.users!.indexOf(squatter), 1);
      repository.workflowRunApprovals[String(RUN)] = approvals;
    }
  });

  it('cannot be told when GitHub will not say who started the attempt: an error, never the login alone', async () => {
    aWorkflowRun(repository, { id: RUN, actor: dana, reRunBy: [bob] });
    github.failOn('GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}', {
      status: 403,
      count: 1,
    });
    await expect(
      read({ runAttempt: 2, actorLogin: 'dana', triggeringActorLogin: 'bob', actor: { login: 'dana', id: 5150 } }),
    ).rejects.toMatchObject({ status: 403 });
    expect(github.requests.map((r) => r.path)).not.toContain('/users/bob');
  });
});

describe('the approvers’ public profiles', () => {
  it('reads each approver’s profile, by account id: the gate matches a deploy approver with it, as a code approver', async () => {
    const { predicate } = await read();
    expect(predicate.profiles).toEqual([
      { account: { login: 'carol', id: 31, type: 'User' }, name: 'Carol Checker', email: 'carol@acme.example' },
    ]);
  });

  it('leaves out a profile the login’s new holder would answer for, and says so', async () => {
    const approvals = repository.workflowRunApprovals[String(RUN)]!;
    repository.workflowRunApprovals[String(RUN)] = [
      { ...approvals[0]!, user: { login: 'carol', id: 4444, type: 'User' } },
    ];
    try {
      const { predicate, logged } = await read();
      expect(predicate.profiles).toEqual([]);
      expect(logged).toContain("carol's profile: GitHub answered for account 31, not 4444 (the login changed hands)");
    } finally {
      repository.workflowRunApprovals[String(RUN)] = approvals;
    }
  });
});
