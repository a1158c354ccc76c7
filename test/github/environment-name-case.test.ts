// GitHub's environment names are not case sensitive: `Production` and `production` are one environment of a repository.
// The run's review history (`GET /repos/{o}/{r}/actions/runs/{id}/approvals`) names each environment as it is stored,
// while the deploy job knows its environment from its token's `environment` claim, which may spell it as the workflow
// does. Compared exactly, an approval GitHub released the deploy with counted for nothing, and a rejection went unseen.
import { judgeDeployApproval } from '@twokey/core';
import { createGitHubClient, readDeployApproval } from '@twokey/github';
import { aGitHubState, aRepository, aUser, aWorkflowRun, type GitHubFake, startGitHubFake } from '@twokey/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const fakes: GitHubFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function judged(state: 'approved' | 'rejected') {
  const alice = aUser('alice');
  const dana = aUser('dana');
  const repository = aRepository('acme/app', { collaborators: { alice: 'write', dana: 'admin' } });
  repository.workflowRunApprovals['42'] = [{ state, comment: 'looked', environments: ['Production'], user: dana }];
  aWorkflowRun(repository, { id: 42, actor: alice });
  const fake = await startGitHubFake(aGitHubState(repository, alice, dana));
  fakes.push(fake);
  const facts = await readDeployApproval({
    client: createGitHubClient({ token: 'ghs_test', baseUrl: fake.url, retryDelayMs: 5, timeoutMs: 5_000 }),
    repository: 'acme/app',
    serverUrl: 'https://github.com',
    runId: 42,
    runAttempt: 1,
    environment: 'production',
    actorLogin: 'alice',
    triggeringActorLogin: 'alice',
    actor: { login: 'alice', id: alice.id },
    log: () => {},
  });
  return judgeDeployApproval(
    { ...facts, evidence: [] },
    { min: 1, distinctFrom: ['requester'], requirePreventSelfReview: false },
    undefined,
  );
}

describe('a deploy approval of the environment under another case', () => {
  it('counts: dana approved `Production`, the job’s token says `production`', async () => {
    const judgement = await judged('approved');
    expect(judgement.verdict, judgement.reason).toBe('pass');
    expect(judgement.approvers).toEqual(['dana']);
  });

  it('and a rejection of `Production` refuses the deploy to `production`', async () => {
    const judgement = await judged('rejected');
    expect(judgement.verdict).toBe('fail');
    expect(judgement.reason).toContain('rejected by dana');
  });
});
