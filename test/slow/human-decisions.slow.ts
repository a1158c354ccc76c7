// Every human decision on the way to production is signed evidence (issue 16), end to end through the runner harness
// on the loopback Sigstore stack and the GitHub fake: the deploy job reads who approved it through its environment
// and signs it; the org policy requires an approver independent of the change; a break-glass workflow (a fourth
// identity) signs a time-boxed exception that the gate accepts only in place of the review, once, loudly; and every
// decision, a refusal too, leaves a signed record `twokey verify` reads back. Each attack is built the way an attacker
// would build it — approving their own deploy, or signing with the tokens the workflows they control can get.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BreakGlassPredicate,
  breakGlassRunSubject,
  type DeployReport,
  readDeployReport,
  WAIVABLE_CHECKS,
} from '@twokey/core';
import { signStatement } from '@twokey/sigstore';
import {
  type ActionRun,
  aCommit,
  aGitHubState,
  anActionsDeployment,
  anApprovedChange,
  aUser,
  aWorkflowRun,
  type FakeAccount,
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
import { sarifSchemaProblems } from '../../packages/core/src/__fixtures__/sarif-validate';
import { repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';

const ISSUER = 'https://token.actions.githubusercontent.com';
const PLATFORM = 'acme/platform/.github/workflows';
const BUILD_WORKFLOW = `${PLATFORM}/twokey-build.yml@refs/tags/v1.0.0`;
const SIGN_WORKFLOW = `${PLATFORM}/twokey-sign.yml@refs/tags/v1.0.0`;
const DEPLOY_WORKFLOW = `${PLATFORM}/twokey-deploy.yml@refs/tags/v1.0.0`;
const BREAK_GLASS_WORKFLOW = `${PLATFORM}/twokey-break-glass.yml@refs/tags/v1.0.0`;
const san = (workflow: string) => `https://github.com/${workflow}`;

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let repository: FakeRepository;
let workspace: string;
/** The reviewed change (alice's, approved by bob) and the one nobody reviewed (alice's hotfix, pushed). */
let reviewed: string;
let hotfix: string;
/** The honest evidence of the reviewed change: provenance, signature, review attestation. */
let honest: string;
/** The hotfix's provenance and the break-glass the break-glass workflow signed for it. */
let hotfixEvidence: string;
let breakGlassBundle: string;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
let runs = 0;
/** A job of acme/app at `sha` running a platform workflow; each run gets its own run id. */
function job(workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    // A break-glass is asked for by hand: its run is dispatched (the certificate's Build Trigger).
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(7000 + runs),
    ...overrides,
  });
}
const tokenOf = (who: WorkflowIdentity) => () => issuer.mint(who, { audience: 'sigstore' });

/** The run's environment approvals, as GitHub records them once its reviewers acted. */
function approve(run: WorkflowIdentity, environment: string, ...logins: string[]): void {
  repository.workflowRunApprovals[run.run_id] = logins.map((login) => ({
    state: 'approved',
    comment: `ok from ${login}`,
    environments: [environment],
    user: { login, id: aUserId(login), type: 'User' },
  }));
}
const ids = new Map<string, number>();
function aUserId(login: string): number {
  if (!ids.has(login)) ids.set(login, 9_000_000 + ids.size);
  return ids.get(login)!;
}

/** The account a login of this file names (erin, carol, dave … as the GitHub fake's users hold them). */
function accountOf(login: string): FakeAccount {
  return { login, id: aUserId(login), type: 'User' };
}

/**
 * `login`'s owner renamed the account away (carol → carol-ops) and another account, a free one of theirs, claimed the
 * login: `GET /users/{login}` names that other account until the returned function puts the owner back.
 */
function claimLogin(login: string): () => void {
  const users = github.state.users!;
  const index = users.findIndex((user) => user.login === login);
  const owner = users[index]!;
  users[index] = aUser(login, { id: 4_000_000 + aUserId(login) });
  return () => {
    users[index] = owner;
  };
}

function policy(): string {
  return [
    'version: 1',
    'identities:',
    `  build: { issuer: ${ISSUER}, san: ${san(BUILD_WORKFLOW)} }`,
    `  sign: { issuer: ${ISSUER}, san: ${san(SIGN_WORKFLOW)} }`,
    `  deploy: { issuer: ${ISSUER}, san: ${san(DEPLOY_WORKFLOW)} }`,
    `  break-glass: { issuer: ${ISSUER}, san: ${san(BREAK_GLASS_WORKFLOW)} }`,
    'deploy:',
    `  trusted-root: ${stack.trustedRootPath}`,
    '  approvals: { min: 1, require-prevent-self-review: true }',
    '  break-glass: { max-duration: 24h, min-approvers: 1 }',
    '',
  ].join('\n');
}

async function build(sha: string, subject: string): Promise<string> {
  const run = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': subject, ...endpoints() },
    identity: job(BUILD_WORKFLOW, sha),
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  return run.outputs['bundle-path']!;
}

/**
 * The deploy job (the root action) in the production environment, approved through it by `approvers`; with
 * `requestedAt`, GitHub made the job's deployment then (as Actions does when the job is queued).
 */
async function deploy(
  subject: string,
  bundles: string,
  approvers: string[],
  options: { store?: boolean; requestedAt?: string; noIdToken?: boolean } = {},
): Promise<{ run: ActionRun; report: DeployReport }> {
  const who = job(DEPLOY_WORKFLOW, reviewed, { environment: 'production', actor: 'erin' });
  approve(who, 'production', ...approvers);
  if (options.requestedAt) {
    anActionsDeployment(repository, {
      runId: who.run_id,
      environment: 'production',
      sha: reviewed,
      at: options.requestedAt,
      afterwards: ['queued', 'in_progress'],
    });
  }
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': subject,
      bundles,
      policy: 'org-policy.yml',
      'store-attestations': String(options.store ?? true),
      // A job without `id-token: write` signs no record.
      ...(options.noIdToken && { record: 'false', 'store-attestations': 'false' }),
      ...endpoints(),
    },
    identity: who,
    ...(!options.noIdToken && { oidc: issuer }),
    githubApiUrl: github.url,
    githubToken: 'ghs_deploy_job',
    workspace,
  });
  const path = run.outputs['report-path'];
  expect(path, run.log).toBeDefined();
  return { run, report: readDeployReport(readFileSync(path!, 'utf8'), path!) };
}

function check(report: DeployReport, id: string, artifact = 0) {
  return report.artifacts[artifact]!.checks.find((c) => c.id === id)!;
}

/** A break-glass statement signed with `who`'s token: what an attacker holding that workflow's token can make. */
async function handMadeBreakGlass(
  name: string,
  who: WorkflowIdentity,
  change: Partial<BreakGlassPredicate>,
  subjectFile = 'dist/hotfix.tar.gz',
): Promise<string> {
  const genuine = JSON.parse(readFileSync(breakGlassBundle, 'utf8'));
  const statement = JSON.parse(Buffer.from(genuine.dsseEnvelope.payload, 'base64').toString('utf8'));
  const digest = createSha256(readFileSync(join(workspace, subjectFile)));
  const runUri = `https://github.com/acme/app/actions/runs/${who.run_id}/attempts/${who.run_attempt}`;
  const forged = {
    ...statement,
    // Its artifact, and its run's subject (as the workflow signs it).
    subject: [{ name: subjectFile, digest: { sha256: digest } }, breakGlassRunSubject(runUri)],
    // The attacker's own run: the certificate names it (its run invocation URI), so the predicate does too.
    predicate: {
      ...statement.predicate,
      run: { id: Number(who.run_id), attempt: Number(who.run_attempt), uri: runUri },
      ...change,
    },
  };
  const bundle = await signStatement(forged, {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: tokenOf(who),
  });
  const dir = join(workspace, 'attacks', name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(hotfixEvidence, 'provenance.sigstore.json'), join(dir, 'provenance.sigstore.json'));
  writeFileSync(join(dir, 'break-glass.sigstore.json'), JSON.stringify(bundle));
  return dir;
}

function createSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const change = anApprovedChange('acme/app', 'Add the parser');
  repository = change.repository;
  reviewed = change.commit;
  // alice's hotfix, pushed straight to main: nobody reviewed it.
  const alice = aUser('alice');
  hotfix = pushCommit(repository, aCommit({ author: alice, message: 'Hotfix: stop the outage' }));
  repository.environments = {
    production: { reviewers: [aUser('alice'), aUser('carol')], preventSelfReview: true },
    'break-glass': { reviewers: [aUser('dave')], preventSelfReview: true },
  };
  const users = ['carol', 'dave', 'erin'].map((login) => aUser(login, { id: aUserId(login) }));
  github = await startGitHubFake(aGitHubState(repository, ...users));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-decisions-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), 'app 1.0\n');
  writeFileSync(join(workspace, 'dist', 'hotfix.tar.gz'), 'app 1.0.1 hotfix\n');
  writeFileSync(join(workspace, 'dist', 'other.tar.gz'), 'another artifact of the hotfix\n');
  writeFileSync(join(workspace, 'org-policy.yml'), policy());

  // The reviewed change: build → sign, as the platform's workflows run them.
  honest = join(workspace, 'honest');
  mkdirSync(honest);
  const provenance = await build(reviewed, 'dist/app.tar.gz');
  const signed = await runAction(join(repoRoot, 'actions', 'sign'), {
    with: {
      'subject-path': 'dist/app.tar.gz',
      provenance,
      policy: 'org-policy.yml',
      'trusted-root': stack.trustedRootPath,
      ...endpoints(),
    },
    identity: job(SIGN_WORKFLOW, reviewed),
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_sign_job',
    workspace,
  });
  expect(signed.exitCode, signed.log).toBe(0);
  copyFileSync(provenance, join(honest, 'provenance.sigstore.json'));
  for (const [i, path] of signed.outputs['bundle-paths']!.split('\n').entries()) {
    copyFileSync(path, join(honest, `sign-${i}.sigstore.json`));
  }

  // The hotfix: built, then excepted by the break-glass workflow — requested by erin, approved by dave.
  hotfixEvidence = join(workspace, 'hotfix');
  mkdirSync(hotfixEvidence);
  copyFileSync(await build(hotfix, 'dist/hotfix.tar.gz'), join(hotfixEvidence, 'provenance.sigstore.json'));
  const breakGlassJob = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
  approve(breakGlassJob, 'break-glass', 'dave');
  const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
    with: {
      'subject-path': 'dist/hotfix.tar.gz',
      reason: 'checkout is down for every customer',
      incident: 'https://status.acme.example/incidents/42',
      environment: 'production',
      duration: '2h',
      ...endpoints(),
    },
    identity: breakGlassJob,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_break_glass_job',
    workspace,
  });
  expect(glass.exitCode, glass.log).toBe(0);
  expect(glass.summary).toContain('twokey BREAK-GLASS signed');
  breakGlassBundle = join(hotfixEvidence, 'break-glass.sigstore.json');
  copyFileSync(glass.outputs['bundle-path']!, breakGlassBundle);
}, 240_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe('a deploy approved through its environment, signed', () => {
  it('refuses a deploy approved only by the change’s own author, and records the refusal (FAILED)', async () => {
    const { run, report } = await deploy('dist/app.tar.gz', 'honest', ['alice']);
    expect(run.exitCode).not.toBe(0);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'deploy-approval')).toMatchObject({ verdict: 'fail' });
    expect(check(report, 'deploy-approval').reason).toContain("alice (the change's author)");
    expect(run.log).toContain('deploy-approval (fail)');
    // GitHub made no deployment of this run: when it was requested is left out, and the log says so.
    expect(run.log).toContain('requestedAt not recorded: none of the');
    // The refusal as SARIF, for code scanning: valid SARIF 2.1.0, every result on a line of a file in the repository.
    const sarif = JSON.parse(readFileSync(run.outputs['sarif-path']!, 'utf8'));
    expect(sarifSchemaProblems(sarif)).toEqual([]);
    const results = sarif.runs[0].results as { ruleId: string; locations: { physicalLocation: object }[] }[];
    expect(results.map((r) => r.ruleId)).toEqual(['deploy-approval']);
    for (const result of results) {
      expect(result.locations[0]!.physicalLocation).toMatchObject({
        artifactLocation: { uri: 'org-policy.yml' },
        region: { startLine: expect.any(Number) },
      });
    }
    // The refusal is signed evidence too, read back by twokey verify.
    const record = run.outputs['record-path']!;
    const records = join(workspace, 'refused-record');
    mkdirSync(records);
    copyFileSync(record, join(records, 'record.sigstore.json'));
    const readBack = await runCli(
      [
        'verify',
        '--repo',
        'acme/app',
        'dist/app.tar.gz',
        '--policy',
        'org-policy.yml',
        '--bundle',
        'honest',
        '--bundle',
        'refused-record',
        '--json',
      ],
      workspace,
    );
    const decisions = readDeployReport(readBack.stdout, 'twokey verify --json').artifacts[0]!.decisions;
    expect(decisions).toEqual([
      expect.objectContaining({
        result: 'FAILED',
        environment: 'production',
        signer: san(DEPLOY_WORKFLOW),
        breakGlass: false,
        failedChecks: ['deploy-approval'],
      }),
    ]);
    const human = await runCli(
      [
        'verify',
        '--repo',
        'acme/app',
        'dist/app.tar.gz',
        '--policy',
        'org-policy.yml',
        '--bundle',
        'honest',
        '--bundle',
        'refused-record',
      ],
      workspace,
    );
    expect(human.stdout).toContain('decision record FAILED at');
    expect(human.stdout).toContain('refused on deploy-approval');
    // twokey verify --sarif writes the same refusals.
    const cliSarif = join(workspace, 'verify.sarif');
    const withSarif = await runCli(
      [
        'verify',
        '--repo',
        'acme/app',
        'dist/app.tar.gz',
        '--policy',
        'org-policy.yml',
        '--bundle',
        'honest',
        '--sarif',
        cliSarif,
      ],
      workspace,
    );
    expect(withSarif.status).toBe(1);
    const fromCli = JSON.parse(readFileSync(cliSarif, 'utf8'));
    expect(sarifSchemaProblems(fromCli)).toEqual([]);
    expect(fromCli.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(['deploy-approval']);
  });

  it('accepts a deploy approved by an independent reviewer; the signed approval verifies with twokey verify', async () => {
    const requestedAt = new Date(Date.now() - 7 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const { run, report } = await deploy('dist/app.tar.gz', 'honest', ['carol'], { requestedAt });
    expect(run.exitCode, run.log).toBe(0);
    expect(check(report, 'deploy-approval').verdict).toBe('pass');
    expect(report.artifacts[0]!.deployApproval).toEqual({
      source: 'live',
      environment: 'production',
      approvers: ['carol'],
    });
    const approval = run.outputs['deploy-approval-path']!;
    // It signed when the deploy was requested (GitHub's deployment of this run) and when its approvals were read.
    const signedApproval = JSON.parse(readFileSync(approval, 'utf8'));
    const { predicate } = JSON.parse(Buffer.from(signedApproval.dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(predicate.requestedAt).toBe(new Date(requestedAt).toISOString());
    expect(Date.parse(predicate.readAt)).toBeGreaterThanOrEqual(Date.parse(predicate.requestedAt));
    expect(run.log).not.toContain('requestedAt not recorded');
    const attested = join(workspace, 'attested');
    mkdirSync(attested);
    copyFileSync(approval, join(attested, 'deploy-approval.sigstore.json'));
    // Offline, the stored attestation is judged again under the same rules.
    const offlineArgs = [
      'verify',
      '--repo',
      'acme/app',
      'dist/app.tar.gz',
      '--policy',
      'org-policy.yml',
      '--bundle',
      'honest',
      '--bundle',
      'attested',
      '--json',
    ];
    const verified = await runCli(offlineArgs, workspace);
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    const offline = readDeployReport(verified.stdout, 'twokey verify --json');
    expect(offline.artifacts[0]!.deployApproval).toEqual({
      source: 'attested/deploy-approval.sigstore.json',
      environment: 'production',
      approvers: ['carol'],
    });
    // The gate reads the approvals before it judges and signs them after (the attestation names the evidence the
    // decision rested on): `twokey verify --at` the decision's time counts them by readAt (deploy-approval-time.test.ts).
    expect(Date.parse(predicate.readAt)).toBeLessThanOrEqual(Date.parse(report.evaluatedAt));
    // Without it, the deploy approval the policy requires is not there to judge: refused.
    const without = await runCli(
      ['verify', '--repo', 'acme/app', 'dist/app.tar.gz', '--policy', 'org-policy.yml', '--bundle', 'honest'],
      workspace,
    );
    expect(without.status).toBe(1);
    expect(without.stdout).toContain('deploy-approval (not-evaluated)');
  });
});

describe('a deploy job that cannot read who approved it', () => {
  it('refuses the author’s own approval, whatever deploy approval another run signed is among its evidence', async () => {
    // Last week's deploy of the same artifact, approved by carol: the deploy identity signed that approval.
    const earlier = await deploy('dist/app.tar.gz', 'honest', ['carol'], { store: false });
    expect(earlier.run.exitCode, earlier.run.log).toBe(0);
    const dir = join(workspace, 'last-weeks-approval');
    mkdirSync(dir);
    cpSync(honest, dir, { recursive: true });
    copyFileSync(earlier.run.outputs['deploy-approval-path']!, join(dir, 'deploy-approval.sigstore.json'));
    // This deploy's job has no OIDC token (`record: false`, no `id-token: write`): it cannot tell its environment or
    // its run, so it cannot read who approved it. alice, the change's author, released it alone; carol's approval of
    // the other run must not stand in for one.
    const { run, report } = await deploy('dist/app.tar.gz', 'last-weeks-approval', ['alice'], { noIdToken: true });
    expect(report.verdict).toBe('fail');
    expect(run.outputs.verified).toBe('false');
    expect(check(report, 'deploy-approval')).toMatchObject({ verdict: 'fail' });
    expect(check(report, 'deploy-approval').reason).toContain(
      'the deploy job could not read who approved it: the job has no OIDC token (it needs `id-token: write`)',
    );
    expect(report.artifacts[0]!.deployApproval).toBeUndefined();
  });
});

describe('prevent self-review, turned off around an approval', () => {
  it('refuses the requester’s own approval when the policy requires prevent_self_review, whatever GitHub says now', async () => {
    // erin, an admin, adds herself as a reviewer of production and turns prevent_self_review off, starts the deploy,
    // approves it herself, and turns prevent_self_review on again before the deploy job reads the environment.
    const production = repository.environments!.production!;
    const before = { ...production };
    production.reviewers = [...production.reviewers, aUser('erin', { id: aUserId('erin') })];
    production.preventSelfReview = true; // what the deploy job reads: back on
    try {
      const { run, report } = await deploy('dist/app.tar.gz', 'honest', ['erin']);
      expect(run.exitCode).not.toBe(0);
      expect(report.verdict).toBe('fail');
      expect(check(report, 'deploy-approval')).toMatchObject({ verdict: 'fail' });
      expect(check(report, 'deploy-approval').reason).toContain('not counted: erin (started the deploy)');
    } finally {
      Object.assign(production, before);
    }
  });
});

// carol, a reviewer of production, re-runs erin's deploy run (GITHUB_TRIGGERING_ACTOR is carol; the job's token names
// only erin, who started the run), renames her account (carol → carol-ops) and has a free account claim the login
// carol; an admin turns prevent self-review off around it, and carol-ops, carol herself, approves her own re-run. Looked
// up by login, the re-run's starter was that free account, and carol-ops counted as someone else.
describe('a re-run’s starter, by account', () => {
  it('refuses a deploy re-run by someone renamed since (the login another account’s now), and records why (FAILED)', async () => {
    const who = job(DEPLOY_WORKFLOW, reviewed, { environment: 'production', actor: 'erin', run_attempt: '2' });
    const carolOps = { ...accountOf('carol'), login: 'carol-ops' };
    // GitHub's run attempt names the re-run's starter by account, with the login it has now.
    aWorkflowRun(repository, { id: who.run_id, actor: accountOf('erin'), reRunBy: [carolOps] });
    repository.workflowRunApprovals[who.run_id] = [
      { state: 'approved', comment: 'ok', environments: ['production'], user: carolOps },
    ];
    const restore = claimLogin('carol');
    try {
      const run = await runAction(repoRoot, {
        with: {
          'subject-path': 'dist/app.tar.gz',
          bundles: 'honest',
          policy: 'org-policy.yml',
          'store-attestations': 'true',
          ...endpoints(),
        },
        identity: who,
        oidc: issuer,
        githubApiUrl: github.url,
        githubToken: 'ghs_deploy_job',
        workspace,
        // The login carol had when she re-ran it, as GitHub set it for the job.
        env: { GITHUB_TRIGGERING_ACTOR: 'carol' },
      });
      const why = `GITHUB_TRIGGERING_ACTOR is carol, but GitHub says attempt 2 of run ${who.run_id} was started by account ${aUserId('carol')}, carol-ops now (its triggering_actor): renamed since, so who started this attempt of the deploy cannot be told by login`;
      expect(run.exitCode).not.toBe(0);
      const report = readDeployReport(readFileSync(run.outputs['report-path']!, 'utf8'), 'report');
      expect(report.verdict).toBe('fail');
      expect(check(report, 'deploy-approval')).toMatchObject({ verdict: 'fail' });
      expect(check(report, 'deploy-approval').reason).toBe(
        `the deploy job could not read who approved it: RUN_STARTER_UNKNOWN: ${why}`,
      );
      expect(run.outputs['deploy-approval-path']).toBeUndefined();
      // The refusal is recorded, signed as the deploy identity, with its reason.
      const record = JSON.parse(readFileSync(run.outputs['record-path']!, 'utf8'));
      const { predicate } = JSON.parse(Buffer.from(record.dsseEnvelope.payload, 'base64').toString('utf8'));
      expect(predicate.verificationResult).toBe('FAILED');
      expect(predicate['https://twokey.dev/decision/v1'].failedChecks).toEqual([
        expect.objectContaining({ id: 'deploy-approval', verdict: 'fail', reason: expect.stringContaining(why) }),
      ]);
    } finally {
      restore();
    }
  });
});

describe('break-glass, signed and loud', () => {
  it('lets an unreviewed change through with a valid break-glass, flagged in capitals, once', async () => {
    const first = await deploy('dist/hotfix.tar.gz', 'hotfix', ['carol']);
    expect(first.run.exitCode, first.run.log).toBe(0);
    const artifact = first.report.artifacts[0]!;
    expect(artifact.verdict).toBe('pass');
    expect(artifact.breakGlass).toMatchObject({ requester: { login: 'erin' }, approvers: [{ login: 'dave' }] });
    for (const id of WAIVABLE_CHECKS) expect(check(first.report, id).verdict).toBe('waived');
    expect(check(first.report, 'break-glass').reason).toMatch(/^BREAK-GLASS USED: /);
    expect(first.run.summary).toContain('BREAK-GLASS: ACCEPTED WITHOUT AN INDEPENDENT REVIEW');
    expect(first.run.log).toContain('BREAK-GLASS: ACCEPTED WITHOUT AN INDEPENDENT REVIEW');
    const record = JSON.parse(readFileSync(first.run.outputs['record-path']!, 'utf8'));
    const predicate = JSON.parse(Buffer.from(record.dsseEnvelope.payload, 'base64').toString('utf8')).predicate;
    expect(predicate.verificationResult).toBe('PASSED');
    expect(predicate.verifiedLevels).toContain('TWOKEY_BREAK_GLASS');
    expect(predicate.verifiedLevels).not.toContain('TWOKEY_TWO_PERSON_RULE_LEVEL_1');

    // The same break-glass a second time: the gate finds the first use in the store's decision records.
    const second = await deploy('dist/hotfix.tar.gz', 'hotfix', ['carol']);
    expect(second.run.exitCode).not.toBe(0);
    expect(check(second.report, 'break-glass').verdict).toBe('fail');
    expect(check(second.report, 'break-glass').reason).toContain('already used for this artifact in production');
  });

  it('refuses a break-glass deploy that would not store its record (its single use could not be enforced)', async () => {
    const { run } = await deploy('dist/hotfix.tar.gz', 'hotfix', ['carol'], { store: false });
    expect(run.exitCode).not.toBe(0);
    expect(run.outputs.verified).toBe('false');
  });

  it('refuses an expired break-glass', async () => {
    const dir = await handMadeBreakGlass('expired', job(BREAK_GLASS_WORKFLOW, hotfix), {
      notBefore: '2026-01-01T00:00:00.000Z',
      expires: '2026-01-01T02:00:00.000Z',
    });
    const { report } = await deploy('dist/hotfix.tar.gz', dir, ['carol']);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain('it expired at 2026-01-01T02:00:00.000Z');
    expect(check(report, 'review-attestation').verdict).toBe('fail');
  });

  it('refuses a break-glass for another artifact', async () => {
    const provenance = await build(hotfix, 'dist/other.tar.gz');
    const dir = join(workspace, 'attacks', 'other-artifact');
    mkdirSync(dir, { recursive: true });
    copyFileSync(provenance, join(dir, 'provenance.sigstore.json'));
    copyFileSync(breakGlassBundle, join(dir, 'break-glass.sigstore.json'));
    const { report } = await deploy('dist/other.tar.gz', dir, ['carol']);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain('whose subjects do not include');
  });

  it('refuses a break-glass approved only by its requester', async () => {
    const erin = { login: 'erin', id: aUserId('erin'), type: 'User' };
    const dir = await handMadeBreakGlass('self-approved', job(BREAK_GLASS_WORKFLOW, hotfix), {
      requester: erin,
      approvers: [erin],
    });
    const { report } = await deploy('dist/hotfix.tar.gz', dir, ['carol']);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain('erin (its requester)');
  });

  it('refuses a genuine break-glass replayed under another run’s certificate (its run invocation URI)', async () => {
    const genuine = JSON.parse(readFileSync(breakGlassBundle, 'utf8'));
    const statement = JSON.parse(Buffer.from(genuine.dsseEnvelope.payload, 'base64').toString('utf8'));
    const bundle = await signStatement(statement, {
      endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
      identityToken: tokenOf(job(BREAK_GLASS_WORKFLOW, hotfix)),
    });
    const dir = join(workspace, 'attacks', 'replayed-run');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(hotfixEvidence, 'provenance.sigstore.json'), join(dir, 'provenance.sigstore.json'));
    writeFileSync(join(dir, 'break-glass.sigstore.json'), JSON.stringify(bundle));
    const { report } = await deploy('dist/hotfix.tar.gz', dir, ['carol']);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain('but its certificate was issued to run');
  });

  it('refuses a break-glass signed by any identity but the break-glass workflow’s', async () => {
    for (const workflow of [SIGN_WORKFLOW, DEPLOY_WORKFLOW, `${PLATFORM}/other.yml@refs/tags/v1.0.0`]) {
      const dir = await handMadeBreakGlass(`signed-by-${workflow.length}`, job(workflow, hotfix), {});
      const { report } = await deploy('dist/hotfix.tar.gz', dir, ['carol']);
      expect(report.verdict).toBe('fail');
      expect(check(report, 'break-glass').reason).toContain('expected the break-glass identity');
    }
  });

  it('the break-glass workflow itself refuses to sign what only its requester approved', async () => {
    const breakGlassJob = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'dave' });
    approve(breakGlassJob, 'break-glass', 'dave');
    const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
      with: {
        'subject-path': 'dist/hotfix.tar.gz',
        reason: 'in a hurry',
        incident: 'https://status.acme.example/incidents/43',
        environment: 'production',
        ...endpoints(),
      },
      identity: breakGlassJob,
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_break_glass_job',
      workspace,
    });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain('dave (its requester)');
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });

  // erin asked for the break-glass, then renamed her account and had another account claim the login erin: looked up
  // by login, the requester would be that account, and erin (renamed) could release it. The token names her account.
  it('the break-glass workflow refuses when its requester’s login is another account now (renamed since)', async () => {
    const renamed = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin', actor_id: '4242' });
    approve(renamed, 'break-glass', 'dave');
    const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
      with: {
        'subject-path': 'dist/hotfix.tar.gz',
        reason: 'checkout is down',
        incident: 'https://status.acme.example/incidents/45',
        environment: 'production',
        ...endpoints(),
      },
      identity: renamed,
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_break_glass_job',
      workspace,
    });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain("but the run was started by account 4242 (its token's actor_id): renamed since");
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });

  // erin dispatched the break-glass; bob re-ran the job (a flaky failure), so GitHub's prevent self-review holds bob;
  // erin renamed her account (erin → erin-ops) and released it herself. The token still names erin's account.
  it('the break-glass workflow does not count whoever started the run first, renamed since, when another re-ran it', async () => {
    const rerun = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin' });
    repository.workflowRunApprovals[rerun.run_id] = [
      {
        state: 'approved',
        comment: 'ok',
        environments: ['break-glass'],
        user: { login: 'erin-ops', id: aUserId('erin'), type: 'User' },
      },
    ];
    const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
      with: {
        'subject-path': 'dist/hotfix.tar.gz',
        reason: 'checkout is down',
        incident: 'https://status.acme.example/incidents/46',
        environment: 'production',
        ...endpoints(),
      },
      identity: rerun,
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_break_glass_job',
      workspace,
      env: { GITHUB_TRIGGERING_ACTOR: 'carol' },
    });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain('not counted: erin-ops (it started the run)');
    expect(glass.outputs['bundle-path']).toBeUndefined();
  });

  // erin dispatched the break-glass; dave, a reviewer of its environment, re-ran it (GITHUB_TRIGGERING_ACTOR is dave),
  // renamed his account (dave → dave-ops) and had a free account claim the login dave, and released it himself.
  // Looked up by login, its requester was that free account, and dave-ops counted as someone else.
  it('the break-glass workflow refuses to sign when whoever re-ran it renamed since (the login another account’s now)', async () => {
    const rerun = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin', run_attempt: '2' });
    const daveOps = { ...accountOf('dave'), login: 'dave-ops' };
    aWorkflowRun(repository, { id: rerun.run_id, actor: accountOf('erin'), reRunBy: [daveOps] });
    repository.workflowRunApprovals[rerun.run_id] = [
      { state: 'approved', comment: 'ok', environments: ['break-glass'], user: daveOps },
    ];
    const restore = claimLogin('dave');
    try {
      const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
        with: {
          'subject-path': 'dist/hotfix.tar.gz',
          reason: 'checkout is down',
          incident: 'https://status.acme.example/incidents/47',
          environment: 'production',
          ...endpoints(),
        },
        identity: rerun,
        oidc: issuer,
        githubApiUrl: github.url,
        githubToken: 'ghs_break_glass_job',
        workspace,
        env: { GITHUB_TRIGGERING_ACTOR: 'dave' },
      });
      expect(glass.exitCode).not.toBe(0);
      expect(glass.log).toContain('BREAK_GLASS_REFUSED');
      expect(glass.log).toContain(
        `GITHUB_TRIGGERING_ACTOR is dave, but GitHub says attempt 2 of run ${rerun.run_id} was started by account ${aUserId('dave')}, dave-ops now (its triggering_actor): renamed since, so who asked for the break-glass cannot be told by login`,
      );
      expect(glass.outputs['bundle-path']).toBeUndefined();
    } finally {
      restore();
    }
  });

  // The same, dave renaming himself between GitHub's two answers to the job: the run attempt still names him dave, the
  // run's approvals already dave-ops. He is its requester by account, whatever his login.
  it('the break-glass workflow does not count an approval by whoever re-ran it, renamed since: its requester by account', async () => {
    const rerun = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'erin', run_attempt: '2' });
    aWorkflowRun(repository, { id: rerun.run_id, actor: accountOf('erin'), reRunBy: [accountOf('dave')] });
    repository.workflowRunApprovals[rerun.run_id] = [
      {
        state: 'approved',
        comment: 'ok',
        environments: ['break-glass'],
        user: { ...accountOf('dave'), login: 'dave-ops' },
      },
    ];
    const restore = claimLogin('dave');
    try {
      const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
        with: {
          'subject-path': 'dist/hotfix.tar.gz',
          reason: 'checkout is down',
          incident: 'https://status.acme.example/incidents/48',
          environment: 'production',
          ...endpoints(),
        },
        identity: rerun,
        oidc: issuer,
        githubApiUrl: github.url,
        githubToken: 'ghs_break_glass_job',
        workspace,
      });
      expect(glass.exitCode).not.toBe(0);
      expect(glass.log).toContain('BREAK_GLASS_REFUSED');
      expect(glass.log).toContain('distinct from its requester (dave)');
      expect(glass.log).toContain('not counted: dave-ops (its requester)');
      expect(glass.outputs['bundle-path']).toBeUndefined();
    } finally {
      restore();
    }
  });

  // alice's caller workflow runs the break-glass on a push to her branch; bob clicks "Update branch" on her pull
  // request. The run's requester is bob, the commit GitHub made is his, and alice, a reviewer of the break-glass
  // environment, releases it herself: an approver distinct from "the requester" and "the author", and still only her.
  it('the break-glass workflow refuses to sign in a run someone else’s push started, and the gate refuses one signed so', async () => {
    const pushed = job(BREAK_GLASS_WORKFLOW, hotfix, { environment: 'break-glass', actor: 'bob', event_name: 'push' });
    approve(pushed, 'break-glass', 'alice');
    const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
      with: {
        'subject-path': 'dist/hotfix.tar.gz',
        reason: 'checkout is down',
        incident: 'https://status.acme.example/incidents/44',
        environment: 'production',
        ...endpoints(),
      },
      identity: pushed,
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_break_glass_job',
      workspace,
    });
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain('the run that signed it was started by a push event, not by hand (workflow_dispatch)');
    expect(glass.outputs['bundle-path']).toBeUndefined();

    // The same exception signed by the genuine break-glass identity in such a run (an older release of the
    // workflow, or one that did not check): the gate reads the run's trigger from the certificate and refuses it.
    const bob = { login: 'bob', id: aUserId('bob'), type: 'User' };
    const dir = await handMadeBreakGlass('pushed', job(BREAK_GLASS_WORKFLOW, hotfix, { event_name: 'push' }), {
      requester: bob,
      approvers: [{ login: 'alice', id: aUserId('alice'), type: 'User' }],
    });
    const { report } = await deploy('dist/hotfix.tar.gz', dir, ['carol']);
    expect(report.verdict).toBe('fail');
    expect(check(report, 'break-glass').reason).toContain(
      'the run that signed it was started by a push event, not by hand (workflow_dispatch)',
    );
  });
});
