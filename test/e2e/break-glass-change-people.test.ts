// Who may release a break-glass, and how often it ships (threat-model rows 98, 114): the people of the change it lets
// through are everyone who made it — never only the head commit's author, who for a "Create a merge commit" merge is
// whoever clicked Merge, and for any commit whatever its writer typed — and one break-glass is used by one deploy run
// per environment, whichever of its subjects it ships: the unreviewed build can emit any number of byte-different
// copies of a release, each another artifact. Through the real build, break-glass and deploy actions, the CLI, the
// loopback Sigstore stack and the GitHub fake.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BreakGlassPredicate, readDeployReport } from '@twokey/core';
import {
  aCommit,
  aGitHubState,
  anApprovedChange,
  aPullRequest,
  aUser,
  type FakeRepository,
  type GitHubFake,
  identity,
  mergePullRequest,
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

const alice = aUser('alice', { id: 7001 });
const bob = aUser('bob', { id: 7002 });
const carol = aUser('carol', { id: 7003 });
const dave = aUser('dave', { id: 7004 });

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let repository: FakeRepository;
let workspace: string;
let runs = 0;

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });
function job(workflow: string, sha: string, overrides: Partial<WorkflowIdentity> = {}): WorkflowIdentity {
  runs += 1;
  return identity('acme/app', '.github/workflows/break-glass.yml', 'refs/heads/main', sha, {
    job_workflow_ref: workflow,
    event_name: 'workflow_dispatch',
    run_id: String(7700 + runs),
    ...overrides,
  });
}
function approve(run: WorkflowIdentity, environment: string, ...who: { login: string; id: number }[]) {
  repository.workflowRunApprovals[run.run_id] = who.map((u) => ({
    state: 'approved',
    comment: 'go',
    environments: [environment],
    user: { login: u.login, id: u.id, type: 'User' },
  }));
}

async function build(sha: string, subject: string, dir: string) {
  const run = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': subject, ...endpoints() },
    identity: job(BUILD_WORKFLOW, sha, { event_name: 'workflow_dispatch' }),
    oidc: issuer,
    workspace,
  });
  expect(run.exitCode, run.log).toBe(0);
  copyFileSync(run.outputs['bundle-path']!, join(dir, 'provenance.sigstore.json'));
}

async function breakGlass(sha: string, subject: string, dir: string, requester: string, approver: typeof alice) {
  const who = job(BREAK_GLASS_WORKFLOW, sha, { environment: 'twokey-break-glass', actor: requester });
  approve(who, 'twokey-break-glass', approver);
  const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
    with: {
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
  if (glass.exitCode !== 0) return { glass };
  copyFileSync(glass.outputs['bundle-path']!, join(dir, 'break-glass.sigstore.json'));
  const predicate = JSON.parse(
    Buffer.from(
      JSON.parse(readFileSync(glass.outputs['bundle-path']!, 'utf8')).dsseEnvelope.payload,
      'base64',
    ).toString(),
  ).predicate as BreakGlassPredicate;
  return { glass, predicate };
}

async function deploy(sha: string, subject: string, dir: string, starter: string, approver: typeof alice) {
  const who = identity('acme/app', '.github/workflows/break-glass.yml', 'refs/heads/main', sha, {
    job_workflow_ref: DEPLOY_WORKFLOW,
    event_name: 'workflow_dispatch',
    run_id: String(7800 + ++runs),
    actor: starter,
    environment: 'production',
  });
  approve(who, 'production', approver);
  const run = await runAction(repoRoot, {
    with: {
      'subject-path': subject,
      bundles: dir,
      policy: 'org-policy.yml',
      'store-attestations': 'true',
      ...endpoints(),
    },
    identity: who,
    oidc: issuer,
    githubApiUrl: github.url,
    githubToken: 'ghs_deploy_job',
    workspace,
  });
  return { run, report: readDeployReport(readFileSync(run.outputs['report-path']!, 'utf8'), 'report') };
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  repository = anApprovedChange('acme/app', 'Add the parser').repository;
  repository.collaborators = { alice: 'write', bob: 'write', carol: 'write', dave: 'write' };
  repository.environments = {
    'twokey-break-glass': { reviewers: [alice, dave], preventSelfReview: true },
    production: { reviewers: [alice, dave], preventSelfReview: true },
  };
  github = await startGitHubFake(aGitHubState(repository, alice, bob, carol, dave));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-change-people-'));
  mkdirSync(join(workspace, 'dist'));
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
      '  approvals: { min: 1, distinct-from: [requester, author, contributors] }',
      '',
    ].join('\n'),
  );
  // The same org policy without deploy approvals, for `twokey verify` (offline it has no deploy approval to judge).
  writeFileSync(
    join(workspace, 'policy-verify.yml'),
    readFileSync(join(workspace, 'org-policy.yml'), 'utf8').replace(/ {2}approvals:.*\n/, ''),
  );
}, 240_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

const check = (report: ReturnType<typeof readDeployReport>, id: string) =>
  report.artifacts[0]!.checks.find((c) => c.id === id)!;

describe('the people of the change a break-glass lets through', () => {
  it('refuses alice’s release of her own pull request that bob merged with a merge commit (authored by bob)', async () => {
    // alice writes the "hotfix" (with a backdoor) on her branch and opens a pull request; nobody reviews it. bob, on
    // call, clicks "Create a merge commit": GitHub makes M on main, authored by bob (the merger), committed by web-flow.
    const A = aCommit({ author: alice, message: 'Hotfix: stop the outage (and a backdoor)' });
    const pr = aPullRequest({ author: alice, commits: [A], title: 'Hotfix', baseSha: repository.branches.main });
    const M = mergePullRequest(repository, pr, { method: 'merge', by: bob });
    const dir = join(workspace, 'merge');
    mkdirSync(dir);
    writeFileSync(join(workspace, 'dist', 'app-merge.tar.gz'), 'app built from M: alice backdoor\n');
    await build(M, 'dist/app-merge.tar.gz', dir);
    // bob dispatches the break-glass caller on main; alice, a reviewer of twokey-break-glass, approves it.
    const { glass } = await breakGlass(M, 'dist/app-merge.tar.gz', dir, 'bob', alice);
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain('BREAK_GLASS_REFUSED');
    expect(glass.log).toContain(
      "found 0; not counted: alice (the change's author, committer, pull-request-author, head-branch-pusher)",
    );

    // dave, who made none of it, may: the break-glass records everyone who did, and the report shows them.
    const honest = await breakGlass(M, 'dist/app-merge.tar.gz', dir, 'bob', dave);
    expect(honest.glass.exitCode, honest.glass.log).toBe(0);
    expect(honest.predicate!.change.pullRequest).toMatchObject({ number: pr.number, title: 'Hotfix' });
    expect(honest.predicate!.change.contributors).toEqual([
      { account: { login: 'bob', id: bob.id, type: 'User' }, roles: ['author', 'pusher'] },
      {
        account: { login: 'alice', id: alice.id, type: 'User' },
        roles: ['author', 'committer', 'pull-request-author', 'head-branch-pusher'],
      },
    ]);
    const verified = await runCli(
      [
        'verify',
        '--repo',
        'acme/app',
        'dist/app-merge.tar.gz',
        '--policy',
        'policy-verify.yml',
        '--bundle',
        'merge',
        '--json',
      ],
      workspace,
    );
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    const report = readDeployReport(verified.stdout, 'verify');
    expect(
      report.artifacts[0]!.breakGlass?.change?.contributors.map((c) => `${c.login}: ${c.roles.join(' ')}`),
    ).toEqual(['bob: author pusher', 'alice: author committer pull-request-author head-branch-pusher']);
    expect(report.artifacts[0]!.chain).toMatchObject({
      author: 'alice',
      pullRequest: { number: pr.number },
      contributors: ['bob (author, pusher)', 'alice (author, committer, pull-request-author, head-branch-pusher)'],
    });

    // Under the break-glass, the deploy approval excludes the same people: alice may not approve production either.
    const { run, report: gate } = await deploy(M, 'dist/app-merge.tar.gz', 'merge', 'bob', alice);
    expect(run.exitCode).not.toBe(0);
    expect(check(gate, 'deploy-approval').reason).toContain('not counted: alice');
  }, 240_000);

  it('refuses alice’s release of the commit she made and pushed under bob’s noreply address as its author', async () => {
    const forged = aCommit({
      author: bob, // alice's `git commit --author "bob <7002+bob@users.noreply.github.com>"`: GitHub links it to bob
      committer: alice,
      message: 'Hotfix: retry the payment call',
    });
    const C = pushCommit(repository, forged, 'main', { by: alice });
    const dir = join(workspace, 'forged');
    mkdirSync(dir);
    writeFileSync(join(workspace, 'dist', 'app-forged.tar.gz'), 'app built from C: alice backdoor\n');
    await build(C, 'dist/app-forged.tar.gz', dir);
    // carol dispatches, alice approves.
    const { glass } = await breakGlass(C, 'dist/app-forged.tar.gz', dir, 'carol', alice);
    expect(glass.exitCode).not.toBe(0);
    expect(glass.log).toContain("found 0; not counted: alice (the change's committer, pusher)");
  }, 240_000);
});

describe('a break-glass is used by one deploy run per environment', () => {
  it('refuses another deploy run of another copy the unreviewed build emitted, after one run shipped its release', async () => {
    // A genuine hotfix H by carol; carol requests, dave approves. H's build (H's own, unreviewed code) emits three
    // byte-different copies of the same release; the break-glass signs every file of the build's artifact.
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: raise the pool size' }), 'main', {
      by: carol,
    });
    const dir = join(workspace, 'variants');
    mkdirSync(dir);
    mkdirSync(join(workspace, 'dist', 'v'));
    writeFileSync(join(workspace, 'dist', 'v', 'app-1.tar.gz'), 'app built from H\n');
    writeFileSync(join(workspace, 'dist', 'v', 'app-2.tar.gz'), 'app built from H\n\n');
    writeFileSync(join(workspace, 'dist', 'v', 'app-3.tar.gz'), 'app built from H\n\n\n');
    await build(H, 'dist/v/*', dir);
    const { glass } = await breakGlass(H, 'dist/v/*', dir, 'carol', dave);
    expect(glass.exitCode, glass.log).toBe(0);

    // One deploy run ships a release of two of its files: both pass.
    const release = await deploy(H, 'dist/v/app-1.tar.gz,dist/v/app-2.tar.gz', 'variants', 'carol', dave);
    expect(release.run.exitCode, release.run.log).toBe(0);
    expect(release.report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'pass']);
    // Another run, the same file: refused, as before.
    const again = await deploy(H, 'dist/v/app-1.tar.gz', 'variants', 'carol', dave);
    expect(again.run.exitCode).not.toBe(0);
    expect(check(again.report, 'break-glass').reason).toContain('already used for this artifact in production');
    // Another run, the copy no deploy shipped yet: refused too — the same unreviewed change, to production again.
    const third = await deploy(H, 'dist/v/app-3.tar.gz', 'variants', 'carol', dave);
    expect(third.run.exitCode).not.toBe(0);
    expect(third.report.verdict).toBe('fail');
    expect(check(third.report, 'break-glass').reason).toContain(
      'it was already used in production by another deploy run, for another of its subjects',
    );
    expect(check(third.report, 'break-glass').reason).toContain('a break-glass is used once');
  }, 240_000);
});

// Row 203 through an unreadable store (row 205): a break-glass's earlier uses are known only from the decision records
// in the attestation store, which GitHub serves behind bundle_url. When those downloads fail (a blob-storage outage, a
// slow or hostile blob host), each entry is rejected evidence for itself — never a pass — but what it held is unknown:
// the gate took the store as read and found no earlier use, and one break-glass shipped again and again. Unreadable
// entries now leave the earlier uses unknown, and the break-glass is refused. Last in this file: the blob host stays
// failing.
describe('a break-glass whose earlier uses the store cannot show', () => {
  it('is refused when the store serves the earlier decision records behind bundle_url and their download fails', async () => {
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: raise the pool size again' }), 'main', {
      by: carol,
    });
    const dir = join(workspace, 'variants-unread');
    mkdirSync(dir);
    mkdirSync(join(workspace, 'dist', 'u'));
    writeFileSync(join(workspace, 'dist', 'u', 'app-1.tar.gz'), 'app built from H behind a failing blob host\n');
    writeFileSync(join(workspace, 'dist', 'u', 'app-2.tar.gz'), 'app built from H behind a failing blob host\n\n');
    writeFileSync(join(workspace, 'dist', 'u', 'app-3.tar.gz'), 'app built from H behind a failing blob host\n\n\n');
    await build(H, 'dist/u/*', dir);
    const { glass } = await breakGlass(H, 'dist/u/*', dir, 'carol', dave);
    expect(glass.exitCode, glass.log).toBe(0);

    const release = await deploy(H, 'dist/u/app-1.tar.gz,dist/u/app-2.tar.gz', 'variants-unread', 'carol', dave);
    expect(release.run.exitCode, release.run.log).toBe(0);
    expect(release.report.artifacts.map((a) => a.verdict)).toEqual(['pass', 'pass']);

    // The store serves every entry behind bundle_url (as GitHub does), and the blob host fails for them.
    const stored = repository.attestations ?? [];
    expect(stored.length).toBeGreaterThan(0);
    for (const a of stored) a.viaUrl = true;
    github.failOn(/^GET \/_attestation-blobs\//, { status: 503 });

    // Another run, the copy no deploy shipped yet: its break-glass's earlier uses cannot be known.
    const third = await deploy(H, 'dist/u/app-3.tar.gz', 'variants-unread', 'carol', dave);
    expect(third.run.exitCode).not.toBe(0);
    expect(third.report.verdict).toBe('fail');
    expect(check(third.report, 'break-glass').verdict).toBe('fail');
    expect(check(third.report, 'break-glass').reason).toContain('its earlier uses cannot be known');
    for (const a of stored) a.viaUrl = true;
    // Another run, the file the first run already shipped: refused too.
    const again = await deploy(H, 'dist/u/app-1.tar.gz', 'variants-unread', 'carol', dave);
    expect(again.run.exitCode).not.toBe(0);
    expect(again.report.verdict).toBe('fail');
    expect(check(again.report, 'break-glass').reason).toContain('its earlier uses cannot be known');
  }, 400_000);
});
