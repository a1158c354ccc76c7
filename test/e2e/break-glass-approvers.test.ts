// Who releases a break-glass: the reviewers of the environment its job runs in, none of them its requester (whoever
// started or re-ran the run) or the change's author — and never a requester or an author that is a bot, whose person
// nobody knows. Each attack is built the way the developer would, with the genuine build and break-glass actions on
// the loopback Sigstore stack and the GitHub fake, and refused by the break-glass workflow itself or by twokey verify.
//
// A. alice writes her commit M on her branch; a workflow of hers adds a trivial commit T on top with its GITHUB_TOKEN
//    (github-actions[bot] authors it) and dispatches the break-glass caller (the bot is the run's actor), so that
//    GitHub's prevent self-review stops nobody; she approves the break-glass environment.
// B. The run's approvals include another environment's: bob approved alice's `staging` job, not the break-glass.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import {
  aBot,
  aCommit,
  aGitHubState,
  anApprovedChange,
  aUser,
  type FakeRepository,
  type GitHubFake,
  identity,
  type OidcIssuer,
  pushCommit,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';

const ISSUER = 'https://token.actions.githubusercontent.com';
const PLATFORM = 'acme/platform/.github/workflows';
const BUILD_WORKFLOW = `${PLATFORM}/twokey-build.yml@refs/tags/v1.0.0`;
const SIGN_WORKFLOW = `${PLATFORM}/twokey-sign.yml@refs/tags/v1.0.0`;
const DEPLOY_WORKFLOW = `${PLATFORM}/twokey-deploy.yml@refs/tags/v1.0.0`;
const BREAK_GLASS_WORKFLOW = `${PLATFORM}/twokey-break-glass.yml@refs/tags/v1.0.0`;
const san = (workflow: string) => `https://github.com/${workflow}`;
const BRANCH = 'alice/hotfix';
const BOT = aBot('github-actions', { id: 41898282 });

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let repository: FakeRepository;
let workspace: string;
let T: string; // the bot's trivial commit on top (the built commit)
let runs = 0;

function job(
  workflow: string,
  sha: string,
  overrides: Partial<WorkflowIdentity> = {},
  branch = BRANCH,
): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/emergency.yml', `refs/heads/${branch}`, sha, {
    job_workflow_ref: workflow,
    // A break-glass is asked for by hand: its run is dispatched (the certificate's Build Trigger).
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(9100 + runs),
    ...overrides,
  });
}
const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

async function build(who: WorkflowIdentity, subject: string): Promise<string> {
  const run = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': subject, ...endpoints() },
    identity: { ...who, job_workflow_ref: BUILD_WORKFLOW },
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  return run.outputs['bundle-path']!;
}

async function breakGlass(
  who: WorkflowIdentity,
  subject: string,
  env: Record<string, string> = {},
  inputs: Record<string, string> = {},
) {
  return runAction(join(repoRoot, 'actions', 'break-glass'), {
    env,
    with: {
      ...inputs,
      'subject-path': subject,
      reason: 'checkout is down for every customer',
      incident: 'https://status.acme.example/incidents/77',
      environment: 'production',
      duration: '2h',
      ...endpoints(),
    },
    identity: who,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_break_glass_job',
    workspace,
  });
}

async function verify(dir: string, subject: string, policy = 'org-policy.yml', extra: string[] = []) {
  const verified = await runCli(
    ['verify', '--repo', 'acme/app', subject, '--policy', policy, '--bundle', dir, '--json', ...extra],
    workspace,
  );
  return { status: verified.status, out: verified.stdout + verified.stderr, stdout: verified.stdout };
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  repository = anApprovedChange('acme/app', 'Add the parser').repository;
  const alice = aUser('alice', { id: 7001 });
  pushCommit(repository, aCommit({ author: alice, message: 'Hotfix (and a backdoor)' }), BRANCH);
  // Her workflow's GITHUB_TOKEN writes a trivial commit on top through the contents API: github-actions[bot] authors it.
  T = pushCommit(repository, aCommit({ author: BOT, message: 'chore: bump build number' }), BRANCH);
  repository.environments = {
    'twokey-break-glass': { reviewers: [alice, aUser('dave', { id: 7004 })], preventSelfReview: true },
    staging: { reviewers: [aUser('bob', { id: 7002 })], preventSelfReview: false },
  };
  github = await startGitHubFake(
    aGitHubState(repository, alice, aUser('bob', { id: 7002 }), aUser('dave', { id: 7004 }), BOT),
  );
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-approvers-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'a.tar.gz'), 'alice backdoor, variant A\n');
  writeFileSync(join(workspace, 'dist', 'b.tar.gz'), 'alice backdoor, variant B\n');
  writeFileSync(
    join(workspace, 'org-policy.yml'),
    [
      'version: 1',
      'identities:',
      `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
      `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
      `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
      `  break-glass: { issuer: ${ISSUER}, san: ${san(BREAK_GLASS_WORKFLOW)} }`,
      'deploy:',
      `  trusted-root: ${stack.trustedRootPath}`,
      '  break-glass: { max-duration: 24h, min-approvers: 1 }',
      '',
    ].join('\n'),
  );
}, 240_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

const predicateOf = (path: string) =>
  JSON.parse(Buffer.from(JSON.parse(readFileSync(path, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'))
    .predicate;

describe('A. a break-glass whose requester and author are github-actions[bot]', () => {
  it('refuses it when alice requests it herself and approves it', async () => {
    const A = pushCommit(repository, aCommit({ author: aUser('carol', { id: 7003 }), message: 'Hotfix' }), BRANCH);
    const who = job(BREAK_GLASS_WORKFLOW, A, { actor: 'alice', environment: 'twokey-break-glass' });
    repository.workflowRunApprovals[who.run_id] = [
      {
        state: 'approved',
        comment: 'go',
        environments: ['twokey-break-glass'],
        user: { login: 'alice', id: 7001, type: 'User' },
      },
    ];
    const glass = await breakGlass(who, 'dist/a.tar.gz');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('alice (its requester)');
  });

  it('refuses it when her workflow’s GITHUB_TOKEN dispatched the run and wrote the built commit, and she approves', async () => {
    const who = job(BREAK_GLASS_WORKFLOW, T, {
      actor: 'github-actions[bot]',
      actor_id: '41898282',
      environment: 'twokey-break-glass',
    });
    repository.workflowRunApprovals[who.run_id] = [
      {
        state: 'approved',
        comment: 'go',
        environments: ['twokey-break-glass'],
        user: { login: 'alice', id: 7001, type: 'User' },
      },
    ];
    const glass = await breakGlass(who, 'dist/a.tar.gz');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.outputs['bundle-path']).toBeUndefined();
    expect(glass.log).toContain('its requester github-actions[bot] is a bot: whoever had it start the run is unknown');
    expect(glass.log).toContain(
      "the change's author github-actions[bot] is a bot: whoever had it write the commit is unknown",
    );
  });

  it('does not count an approval by whoever started the run first (GITHUB_ACTOR), when another re-ran it', async () => {
    const A = pushCommit(repository, aCommit({ author: aUser('carol', { id: 7003 }), message: 'Hotfix' }), BRANCH);
    const who = job(BREAK_GLASS_WORKFLOW, A, { actor: 'alice', actor_id: '7001', environment: 'twokey-break-glass' });
    repository.workflowRunApprovals[who.run_id] = [
      {
        state: 'approved',
        comment: 'go',
        environments: ['twokey-break-glass'],
        user: { login: 'alice', id: 7001, type: 'User' },
      },
    ];
    const glass = await breakGlass(who, 'dist/a.tar.gz', { GITHUB_TRIGGERING_ACTOR: 'dave' });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('expected 1 approver distinct from its requester (dave)');
    expect(glass.log).toContain('found 0; not counted: alice (it started the run)');
  });

  it('refuses a re-run its requester approved herself: the run’s approvals still hold the first attempt’s', async () => {
    const A = pushCommit(repository, aCommit({ author: aUser('carol', { id: 7003 }), message: 'Re-run' }), BRANCH);
    // alice ran the break-glass job, dave approved it (attempt 1); she re-ran the job and, prevent self-review being
    // off, approved the re-run herself (attempt 2). GitHub lists both approvals for the run.
    const who = job(BREAK_GLASS_WORKFLOW, A, {
      actor: 'alice',
      actor_id: '7001',
      run_attempt: '2',
      environment: 'twokey-break-glass',
    });
    repository.workflowRunApprovals[who.run_id] = [
      {
        state: 'approved',
        comment: 'go',
        environments: ['twokey-break-glass'],
        user: { login: 'dave', id: 7004, type: 'User' },
      },
      {
        state: 'approved',
        comment: 'again',
        environments: ['twokey-break-glass'],
        user: { login: 'alice', id: 7001, type: 'User' },
      },
    ];
    const glass = await breakGlass(who, 'dist/a.tar.gz');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('approved by someone who may not release it: alice (its requester)');
    // …and a re-run signs no break-glass at all, whoever approved it (test/e2e/break-glass-reruns.test.ts).
    expect(glass.log).toContain(`its run is attempt 2 of run ${who.run_id} (a re-run), not the first`);
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });
});

describe('C. the number of approvers the action asks for', () => {
  it('refuses a min-approvers that is no count ("one", "1x", "0"): an input error, nothing signed, even with no approval at all', async () => {
    // Number("one") is NaN, and a count compared with NaN is never short: the run no one approved would be signed.
    const A = pushCommit(repository, aCommit({ author: aUser('carol', { id: 7003 }), message: 'Hotfix' }), BRANCH);
    for (const given of ['one', '1x', '0', '01', '1e0', '-1']) {
      const who = job(BREAK_GLASS_WORKFLOW, A, { actor: 'erin', environment: 'twokey-break-glass' });
      repository.workflowRunApprovals[who.run_id] = [];
      const glass = await breakGlass(who, 'dist/a.tar.gz', {}, { 'min-approvers': given });
      expect(glass.exitCode, given).not.toBe(0);
      expect(glass.log).toContain(
        `min-approvers: expected a whole number from 1 to 9999, found ${JSON.stringify(given)}`,
      );
      expect(glass.outputs['bundle-path'] ?? '').toBe('');
    }
    // The same run with a count: refused for want of an approver, as it must be.
    const who = job(BREAK_GLASS_WORKFLOW, A, { actor: 'erin', environment: 'twokey-break-glass' });
    repository.workflowRunApprovals[who.run_id] = [];
    const glass = await breakGlass(who, 'dist/a.tar.gz', {}, { 'min-approvers': '1' });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('expected 1 approver distinct from its requester');
  });
});

describe('B. approvals of another environment of the same run', () => {
  it('refuses a break-glass job that runs in no environment: nobody in particular released it', async () => {
    const A = pushCommit(repository, aCommit({ author: aUser('carol', { id: 7003 }), message: 'again' }), BRANCH);
    const who = job(BREAK_GLASS_WORKFLOW, A, { actor: 'alice', actor_id: '7001' });
    repository.workflowRunApprovals[who.run_id] = [
      {
        state: 'approved',
        comment: 'staging ok',
        environments: ['staging'],
        user: { login: 'bob', id: 7002, type: 'User' },
      },
    ];
    const glass = await breakGlass(who, 'dist/b.tar.gz');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain(
      'this job runs in no environment (its token names none): a break-glass is released only by the reviewers of the environment it runs in',
    );
  });

  it('refuses it when only bob, who approved the run’s `staging` job, and its requester approved', async () => {
    const run = { actor: 'alice', actor_id: '7001' };
    const A = pushCommit(repository, aCommit({ author: aUser('carol', { id: 7003 }), message: 'more' }), BRANCH);
    const who = job(BREAK_GLASS_WORKFLOW, A, { ...run, environment: 'twokey-break-glass' });
    repository.workflowRunApprovals[who.run_id] = [
      {
        state: 'approved',
        comment: 'staging ok',
        environments: ['staging'],
        user: { login: 'bob', id: 7002, type: 'User' },
      },
      {
        state: 'approved',
        comment: 'go',
        environments: ['twokey-break-glass'],
        user: { login: 'alice', id: 7001, type: 'User' },
      },
    ];
    const glass = await breakGlass(who, 'dist/b.tar.gz');
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('found 0; not counted: alice (its requester)');
    expect(glass.log).not.toContain('bob');
  });

  it('signs dave’s release alone, and an org policy asking for two approvers refuses it (bob approved only `staging`)', async () => {
    writeFileSync(
      join(workspace, 'org-policy-2.yml'),
      readFileSync(join(workspace, 'org-policy.yml'), 'utf8').replace('min-approvers: 1', 'min-approvers: 2'),
    );
    const run = { actor: 'alice', actor_id: '7001' };
    writeFileSync(join(workspace, 'dist', 'c.tar.gz'), 'alice hotfix, variant C\n');
    // On main: the break-glass lets through only a commit someone put on the default branch (its activity feed).
    const C = pushCommit(repository, aCommit({ author: aUser('alice', { id: 7001 }), message: 'even more' }));
    // Built and dispatched on main, the repository's default branch, as workflows/break-glass.yml does in one run: the
    // break-glass workflow signs on the default branch only (test/e2e/break-glass-ref.test.ts), whatever commit it lets
    // through, and the gate takes a build of that branch only (packages/gate/src/break-glass-commit.test.ts).
    const provenance = await build(job(BUILD_WORKFLOW, C, run, 'main'), 'dist/c.tar.gz');
    const who = job(BREAK_GLASS_WORKFLOW, C, { ...run, environment: 'twokey-break-glass' }, 'main');
    repository.workflowRunApprovals[who.run_id] = [
      {
        state: 'approved',
        comment: 'staging ok',
        environments: ['staging'],
        user: { login: 'bob', id: 7002, type: 'User' },
      },
      {
        state: 'approved',
        comment: 'go',
        environments: ['twokey-break-glass'],
        user: { login: 'dave', id: 7004, type: 'User' },
      },
    ];
    const glass = await breakGlass(who, 'dist/c.tar.gz');
    expect(glass.exitCode, glass.log).toBe(0);
    expect(predicateOf(glass.outputs['bundle-path']!).approvers.map((a: { login: string }) => a.login)).toEqual([
      'dave',
    ]);
    const dir = join(workspace, 'two-approvers');
    mkdirSync(dir);
    copyFileSync(provenance, join(dir, 'provenance.sigstore.json'));
    copyFileSync(glass.outputs['bundle-path']!, join(dir, 'break-glass.sigstore.json'));
    const verified = await verify(dir, 'dist/c.tar.gz', 'org-policy-2.yml');
    expect(verified.status, verified.out).toBe(1);
    const report = readDeployReport(verified.stdout, 'twokey verify --json');
    const check = report.artifacts[0]!.checks.find((c) => c.id === 'break-glass')!;
    expect(check.reason).toContain('expected 2 approvers distinct from its requester (alice)');
    expect(check.reason).toContain('found 1');

    // Under the policy's one approver, twokey verify --environment counts it for the environment it names only.
    const forProduction = await verify(dir, 'dist/c.tar.gz', 'org-policy.yml', ['--environment', 'production']);
    expect(forProduction.status, forProduction.out).toBe(0);
    const forStaging = await verify(dir, 'dist/c.tar.gz', 'org-policy.yml', ['--environment', 'staging']);
    expect(forStaging.status, forStaging.out).toBe(1);
    const staging = readDeployReport(forStaging.stdout, 'twokey verify --json').artifacts[0]!.checks.find(
      (c) => c.id === 'break-glass',
    )!;
    expect(staging.reason).toContain('it is for the environment production, not staging');
  });
});
