// One break-glass run, one approval, one deploy run per environment, whichever leg's break-glass it uses (threat-model
// rows 177, 203, 208): a caller on main calls the platform's break-glass workflow in two jobs (a matrix), each signing
// a break-glass over another byte-copy of the same unreviewed build (B1 over app-1, B2 over app-2). Deploy run D1 ships
// app-1 under B1, and its PASSED record is stored under app-1's digest; deploy run D2 ships app-2 under B2. The gate
// read earlier records only under the subjects of the break-glasses about the judged artifact (B2's: app-2), so D1's
// use was never read and D2 passed. Every break-glass now carries one more subject, its run's
// (`twokey-break-glass-run`, sha256 of the run's instance and id, from its certificate), so the attestation store lists
// every leg of a run under one digest: the gate reads the run's other break-glasses there, and the records of their
// subjects. Through the real build, break-glass and deploy actions, the loopback Sigstore stack and the GitHub fake.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { judgeDeploy } from '@twokey/gate';
import {
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

// The run subject every break-glass carries (core: BREAK_GLASS_RUN_SUBJECT, breakGlassRunDigest), spelt out here.
const BREAK_GLASS_RUN_SUBJECT = 'twokey-break-glass-run';
const runDigest = (instance: string, runId: string) =>
  createHash('sha256').update(`${BREAK_GLASS_RUN_SUBJECT}\0${instance}/actions/runs/${runId}`, 'utf8').digest('hex');

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
  workspace = mkdtempSync(join(tmpdir(), 'twokey-e2e-bg-run-legs-'));
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
}, 240_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

function approve(runId: string, environment: string, ...who: { login: string; id: number }[]) {
  repository.workflowRunApprovals[runId] = who.map((u) => ({
    state: 'approved',
    comment: 'go',
    environments: [environment],
    user: { login: u.login, id: u.id, type: 'User' },
  }));
}

async function deploy(
  sha: string,
  subject: string,
  dir: string,
  starter: string,
  approver: typeof alice,
  runId = String(9800 + ++runs),
  environment = 'production',
) {
  const who = identity('acme/app', '.github/workflows/deploy.yml', 'refs/heads/main', sha, {
    job_workflow_ref: DEPLOY_WORKFLOW,
    event_name: 'workflow_dispatch',
    run_id: runId,
    actor: starter,
    environment,
  });
  approve(who.run_id, environment, approver);
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
  return {
    run,
    runUri: `https://github.com/acme/app/actions/runs/${who.run_id}/attempts/1`,
    report: readDeployReport(readFileSync(run.outputs['report-path']!, 'utf8'), 'report'),
  };
}

/**
 * One break-glass run (`runId`) of commit `sha`, dispatched by carol and approved once by dave, whose jobs each sign a
 * break-glass over one of `files` and store it (as the platform's workflow does); the build's provenance over them
 * all. Every bundle is copied into `dir`, the deploy's bundles.
 */
async function breakGlassRun(
  sha: string,
  runId: string,
  files: readonly string[],
  dir: string,
  environments: readonly string[] = files.map(() => 'production'),
) {
  mkdirSync(join(workspace, dir));
  const build = await runAction(join(repoRoot, 'actions', 'build'), {
    with: { 'subject-path': files.join('\n'), ...endpoints() },
    identity: identity('acme/app', '.github/workflows/break-glass.yml', 'refs/heads/main', sha, {
      job_workflow_ref: BUILD_WORKFLOW,
      event_name: 'workflow_dispatch',
      run_id: String(Number(runId) - 1),
    }),
    oidc: issuer,
    workspace,
  });
  expect(build.exitCode, build.log).toBe(0);
  copyFileSync(build.outputs['bundle-path']!, join(workspace, dir, 'provenance.sigstore.json'));
  // Stored as the platform's build workflow stores it: `twokey verify --repo` reads everything from the store.
  const provenance = JSON.parse(readFileSync(build.outputs['bundle-path']!, 'utf8'));
  const provenanceSubjects = (
    JSON.parse(Buffer.from(provenance.dsseEnvelope.payload, 'base64').toString('utf8')).subject as {
      digest: { sha256: string };
    }[]
  ).map((s) => `sha256:${s.digest.sha256}`);
  repository.attestations ??= [];
  repository.attestations.push({ subjects: provenanceSubjects, bundle: provenance });
  approve(runId, 'twokey-break-glass', dave);
  const bundles: Record<string, unknown>[] = [];
  for (const [leg, file] of files.entries()) {
    const who: WorkflowIdentity = identity('acme/app', '.github/workflows/break-glass.yml', 'refs/heads/main', sha, {
      job_workflow_ref: BREAK_GLASS_WORKFLOW,
      event_name: 'workflow_dispatch',
      run_id: runId,
      environment: 'twokey-break-glass',
      actor: 'carol',
    });
    const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
      with: {
        'subject-path': file,
        reason: 'checkout is down for every customer',
        incident: 'https://status.acme.example/incidents/77',
        environment: environments[leg]!,
        duration: '2h',
        'store-attestations': 'true',
        ...endpoints(),
      },
      identity: who,
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_break_glass_job',
      workspace,
    });
    expect(glass.exitCode, glass.log).toBe(0);
    // The step summary names no artifact of the run subject's name.
    expect(glass.log).not.toContain(BREAK_GLASS_RUN_SUBJECT);
    const text = readFileSync(glass.outputs['bundle-path']!, 'utf8');
    bundles.push(JSON.parse(text));
    writeFileSync(join(workspace, dir, `break-glass-${leg + 1}.sigstore.json`), text);
  }
  return bundles;
}

/** The in-toto statement a bundle signs. */
function statementOf(bundle: Record<string, unknown>): { subject: { name: string; digest: { sha256: string } }[] } {
  const envelope = bundle.dsseEnvelope as { payload: string };
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
}

const breakGlassCheck = (report: ReturnType<typeof readDeployReport>, i = 0) =>
  report.artifacts[i]!.checks.find((c) => c.id === 'break-glass')!;

describe('one break-glass run with two legs: one deploy run per environment', () => {
  it('refuses the second deploy run, which ships the other leg’s copy, naming the first run’s use', async () => {
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: raise the pool size' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'm'));
    writeFileSync(join(workspace, 'dist', 'm', 'app-1.tar.gz'), 'app built from H\n');
    writeFileSync(join(workspace, 'dist', 'm', 'app-2.tar.gz'), 'app built from H\n\n');
    const legs = await breakGlassRun(H, '9701', ['dist/m/app-1.tar.gz', 'dist/m/app-2.tar.gz'], 'legs');
    // D1 ships copy 1 under leg 1's break-glass: it passes and stores its PASSED record under app-1's digest.
    const first = await deploy(H, 'dist/m/app-1.tar.gz', 'legs', 'carol', dave);
    expect(first.run.exitCode, first.run.log).toBe(0);
    expect(first.report.artifacts.map((a) => a.artifact.name)).toEqual(['app-1.tar.gz']);
    expect(breakGlassCheck(first.report).reason).toContain('BREAK-GLASS USED');

    // D2, another run, ships copy 2 under leg 2's break-glass, signed in the same break-glass run: refused, naming D1.
    const second = await deploy(H, 'dist/m/app-2.tar.gz', 'legs', 'carol', dave);
    expect(second.run.exitCode).not.toBe(0);
    expect(second.report.verdict).toBe('fail');
    const reason = breakGlassCheck(second.report).reason;
    expect(reason).toContain('it was already used in production by another deploy run, for another of its subjects');
    expect(reason).toContain(`by ${first.runUri}`);
    expect(reason).toContain('github:acme/app/attestations/sha256:');
    expect(reason).not.toContain('BREAK-GLASS USED');

    // Each leg's statement: its copy, and the run's subject, the same for both legs: the store lists both under it.
    const runSubject = { name: BREAK_GLASS_RUN_SUBJECT, digest: { sha256: runDigest('https://github.com', '9701') } };
    for (const [i, leg] of legs.entries()) {
      const subjects = statementOf(leg).subject;
      expect(subjects).toHaveLength(2);
      expect(subjects[0]!.name).toBe(`app-${i + 1}.tar.gz`);
      expect(subjects[1]).toEqual(runSubject);
    }
  }, 240_000);

  it('lets one deploy run ship both legs’ copies (a release of several files), and takes no run subject for an artifact', async () => {
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: lower the timeout' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'n'));
    writeFileSync(join(workspace, 'dist', 'n', 'app-3.tar.gz'), 'app built from H2\n');
    writeFileSync(join(workspace, 'dist', 'n', 'app-4.tar.gz'), 'app built from H2\n\n');
    await breakGlassRun(H, '9711', ['dist/n/app-3.tar.gz', 'dist/n/app-4.tar.gz'], 'both');
    const both = await deploy(H, 'dist/n/*', 'both', 'carol', dave);
    expect(both.run.exitCode, both.run.log).toBe(0);
    expect(both.report.verdict).toBe('pass');
    expect(both.report.artifacts.map((a) => a.artifact.name).sort()).toEqual(['app-3.tar.gz', 'app-4.tar.gz']);
    for (const i of [0, 1]) expect(breakGlassCheck(both.report, i).reason).toContain('BREAK-GLASS USED');
    expect(readFileSync(both.run.outputs['report-path']!, 'utf8')).not.toContain(BREAK_GLASS_RUN_SUBJECT);

    // Another deploy run of either copy afterwards is the run's second use in production.
    const again = await deploy(H, 'dist/n/app-4.tar.gz', 'both', 'carol', dave);
    expect(again.report.verdict).toBe('fail');
    expect(breakGlassCheck(again.report).reason).toContain('it was already used for this artifact in production');
  }, 240_000);

  it('lets two jobs of one deploy run ship one leg’s copy each (a matrix of deploy jobs); another run afterwards is refused', async () => {
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: shorter retries' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'x'));
    writeFileSync(join(workspace, 'dist', 'x', 'app-5.tar.gz'), 'app built from H4\n');
    writeFileSync(join(workspace, 'dist', 'x', 'app-6.tar.gz'), 'app built from H4\n\n');
    await breakGlassRun(H, '9751', ['dist/x/app-5.tar.gz', 'dist/x/app-6.tar.gz'], 'matrix');
    // One deploy run, two jobs: each stores its PASSED record; the second job's gate reads the first's, of its own run.
    const run = String(9800 + ++runs);
    const first = await deploy(H, 'dist/x/app-5.tar.gz', 'matrix', 'carol', dave, run);
    expect(first.run.exitCode, first.run.log).toBe(0);
    const second = await deploy(H, 'dist/x/app-6.tar.gz', 'matrix', 'carol', dave, run);
    expect(second.run.exitCode, second.run.log).toBe(0);
    expect(second.report.verdict).toBe('pass');
    expect(breakGlassCheck(second.report).reason).toContain('BREAK-GLASS USED');

    // Another deploy run of either copy afterwards is the break-glass run's second use in production.
    const again = await deploy(H, 'dist/x/app-6.tar.gz', 'matrix', 'carol', dave);
    expect(again.report.verdict).toBe('fail');
    expect(breakGlassCheck(again.report).reason).toContain('it was already used for this artifact in production');
  }, 240_000);

  it('refuses a second deploy run whose leg spells the environment in another case (`Production`): one environment, one use', async () => {
    // GitHub names environments without case (row 200): a deploy run in `Production` is in `production`. The legs of
    // one break-glass run, spelt `production` and `Production`, counted as two environments, each used once.
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: cap the queue' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'c'));
    writeFileSync(join(workspace, 'dist', 'c', 'app-7.tar.gz'), 'app built from H5\n');
    writeFileSync(join(workspace, 'dist', 'c', 'app-8.tar.gz'), 'app built from H5\n\n');
    await breakGlassRun(H, '9761', ['dist/c/app-7.tar.gz', 'dist/c/app-8.tar.gz'], 'cased', [
      'production',
      'Production',
    ]);
    const first = await deploy(H, 'dist/c/app-7.tar.gz', 'cased', 'carol', dave);
    expect(first.run.exitCode, first.run.log).toBe(0);
    const second = await deploy(H, 'dist/c/app-8.tar.gz', 'cased', 'carol', dave, undefined, 'Production');
    expect(second.report.verdict).toBe('fail');
    expect(breakGlassCheck(second.report).reason).toContain('it was already used in Production by another deploy run');
  }, 240_000);

  it('refuses when another leg of the run, under the run subject in the store, cannot be read: its uses are unknown', async () => {
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: retry the payment call' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'o'));
    writeFileSync(join(workspace, 'dist', 'o', 'app-5.tar.gz'), 'app built from H3\n');
    writeFileSync(join(workspace, 'dist', 'o', 'app-6.tar.gz'), 'app built from H3\n\n');
    await breakGlassRun(H, '9721', ['dist/o/app-5.tar.gz', 'dist/o/app-6.tar.gz'], 'unread');
    // The second leg's entry, stored last, is served behind bundle_url, and the blob host fails for it alone.
    const stored = repository.attestations ?? [];
    const index = stored.length - 1;
    stored[index]!.viaUrl = true;
    github.failOn(new RegExp(`^GET /_attestation-blobs/[^/]+/${index}$`), { status: 503 });
    const first = await deploy(H, 'dist/o/app-5.tar.gz', 'unread', 'carol', dave);
    expect(first.run.exitCode).not.toBe(0);
    expect(first.report.verdict).toBe('fail');
    expect(breakGlassCheck(first.report).reason).toContain('its earlier uses cannot be known');
  }, 240_000);
});

/** `twokey verify --repo acme/app FILE` as packages/cli/src/commands/verify.ts calls the gate (no --bundle: the store). */
async function verifyFromStore(file: string) {
  const { report } = await judgeDeploy({
    policy: 'policy-verify.yml',
    repository: { repository: 'acme/app', name: '--repo', role: 'narrow' },
    artifacts: { arguments: [file] },
    bundles: [],
    attestationStore: { repository: 'acme/app', apiUrl: github.url, token: 'ghp_auditor' },
    cwd: workspace,
  });
  return report;
}

// `twokey verify --repo`, the auditor's view of a break-glass run (rows 205, 208): it counts a break-glass's uses from
// the decision records the store holds under the run's subject and its legs' artifacts. When the store could not all
// be read — a writer's flood of entries naming the run's digest, or one entry whose blob host fails — the uses it did
// not read may be there: verify passed without a word over a break-glass two deploy runs had used. It now says the
// earlier uses could not all be read, and refuses. (Two deploy runs at once stand for any way a run was used twice: a
// deploy workflow without the reusable one's `concurrency`, row 127.) Last in this file: the blob host stays failing.
describe('twokey verify --repo over a store it could not all read', () => {
  it('refuses a break-glass run two deploy runs used, after a writer floods its run subject: its uses could not all be read', async () => {
    writeFileSync(
      join(workspace, 'policy-verify.yml'),
      readFileSync(join(workspace, 'org-policy.yml'), 'utf8').replace(/ {2}approvals:.*\n/, ''),
    );
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: raise the pool size' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'f'));
    writeFileSync(join(workspace, 'dist', 'f', 'app-1.tar.gz'), 'app built from H, for the auditor\n');
    writeFileSync(join(workspace, 'dist', 'f', 'app-2.tar.gz'), 'app built from H, for the auditor\n\n');
    await breakGlassRun(H, '9741', ['dist/f/app-1.tar.gz', 'dist/f/app-2.tar.gz'], 'legs-f');
    // Two deploy runs at once (a repository's own deploy workflow without the reusable one's `concurrency`, row 127):
    // both gates read the store before either stored its record, and both ship. The auditor's verify must see it.
    const [d1, d2] = await Promise.all([
      deploy(H, 'dist/f/app-1.tar.gz', 'legs-f', 'carol', dave),
      deploy(H, 'dist/f/app-2.tar.gz', 'legs-f', 'carol', dave),
    ]);
    expect(d1.report.verdict).toBe('pass');
    expect(d2.report.verdict).toBe('pass');

    // Baseline: verify --repo finds both uses through the run subject, and refuses.
    const before = await verifyFromStore('dist/f/app-2.tar.gz');
    const reasonBefore = breakGlassCheck(before).reason;
    expect(before.verdict).toBe('fail');
    expect(reasonBefore).toContain('deploy runs');

    // alice (write) POSTs 1001 distinct bundles naming the run subject's digest (row 204: anyone with write can).
    const run = `sha256:${runDigest('https://github.com', '9741')}`;
    for (let i = 0; i < 1001; i++) {
      repository.attestations!.push({ subjects: [run], bundle: { mediaType: 'junk', n: i } as never });
    }
    const after = await verifyFromStore('dist/f/app-2.tar.gz');
    const reasonAfter = breakGlassCheck(after).reason;
    expect(after.verdict).toBe('fail');
    expect(reasonAfter).toContain('its earlier uses could not all be read from the attestation store');
  }, 400_000);
  it('refuses it when one entry under the run subject cannot be read (its blob host fails)', async () => {
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: lower the timeout' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'q'));
    writeFileSync(join(workspace, 'dist', 'q', 'app-7.tar.gz'), 'app built from H7\n');
    writeFileSync(join(workspace, 'dist', 'q', 'app-8.tar.gz'), 'app built from H7\n\n');
    await breakGlassRun(H, '9731', ['dist/q/app-7.tar.gz', 'dist/q/app-8.tar.gz'], 'legs-q');
    const [d1, d2] = await Promise.all([
      deploy(H, 'dist/q/app-7.tar.gz', 'legs-q', 'carol', dave),
      deploy(H, 'dist/q/app-8.tar.gz', 'legs-q', 'carol', dave),
    ]);
    expect(d1.report.verdict).toBe('pass');
    expect(d2.report.verdict).toBe('pass');
    const before = await verifyFromStore('dist/q/app-8.tar.gz');
    expect(before.verdict).toBe('fail');
    // The first leg's entry (under app-7 and the run subject) is served behind bundle_url and its blob host fails.
    const stored = repository.attestations!;
    const run = `sha256:${runDigest('https://github.com', '9731')}`;
    const legIndexes = stored.flatMap((a, i) => (a.subjects.includes(run) ? [i] : []));
    const index = legIndexes[0]!;
    stored[index]!.viaUrl = true;
    github.failOn(new RegExp(`^GET /_attestation-blobs/[^/]+/${index}$`), { status: 503 });
    const after = await verifyFromStore('dist/q/app-8.tar.gz');
    expect(after.verdict).toBe('fail');
    expect(breakGlassCheck(after).reason).toContain(
      'its earlier uses could not all be read from the attestation store',
    );
  }, 400_000);
});
