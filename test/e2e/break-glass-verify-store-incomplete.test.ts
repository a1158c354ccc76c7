// `twokey verify --repo`, the auditor's view of a break-glass run (rows 205, 208): it counts a break-glass's uses from
// the decision records the attestation store holds under the run's subject and its legs' artifacts. When the store
// could not all be read — a writer's flood of entries naming the run's digest (anyone with write can post them), or one
// entry whose blob host fails — the uses it did not read may be there: verify passed without a word over a break-glass
// two deploy runs had used. It now says the earlier uses could not all be read, and refuses. (Two deploy runs at once
// stand for any way a run was used twice: a deploy workflow without the reusable one's `concurrency`, row 127.)
// Through the real build, break-glass and deploy actions, the loopback Sigstore stack and the GitHub fake.
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
  workspace = mkdtempSync(join(tmpdir(), 'twokey-scratch-last-'));
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

async function deploy(sha: string, subject: string, dir: string, starter: string, approver: typeof alice) {
  const who = identity('acme/app', '.github/workflows/deploy.yml', 'refs/heads/main', sha, {
    job_workflow_ref: DEPLOY_WORKFLOW,
    event_name: 'workflow_dispatch',
    run_id: String(9800 + ++runs),
    actor: starter,
    environment: 'production',
  });
  approve(who.run_id, 'production', approver);
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
async function breakGlassRun(sha: string, runId: string, files: readonly string[], dir: string) {
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
  const provenance = JSON.parse(readFileSync(build.outputs['bundle-path']!, 'utf8'));
  const provSubjects = (
    JSON.parse(Buffer.from(provenance.dsseEnvelope.payload, 'base64').toString('utf8')).subject as {
      digest: { sha256: string };
    }[]
  ).map((s) => `sha256:${s.digest.sha256}`);
  repository.attestations ??= [];
  repository.attestations.push({ subjects: provSubjects, bundle: provenance });
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
        environment: 'production',
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
function _statementOf(bundle: Record<string, unknown>): { subject: { name: string; digest: { sha256: string } }[] } {
  const envelope = bundle.dsseEnvelope as { payload: string };
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
}

const breakGlassCheck = (report: ReturnType<typeof readDeployReport>, i = 0) =>
  report.artifacts[i]!.checks.find((c) => c.id === 'break-glass')!;

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

describe('twokey verify --repo over a store it could not all read', () => {
  it('refuses a break-glass run two deploy runs used, after a writer floods its run subject: its uses could not all be read', async () => {
    writeFileSync(
      join(workspace, 'policy-verify.yml'),
      readFileSync(join(workspace, 'org-policy.yml'), 'utf8').replace(/ {2}approvals:.*\n/, ''),
    );
    const H = pushCommit(repository, aCommit({ author: carol, message: 'Hotfix: raise the pool size' }), 'main', {
      by: carol,
    });
    mkdirSync(join(workspace, 'dist', 'm'));
    writeFileSync(join(workspace, 'dist', 'm', 'app-1.tar.gz'), 'app built from H\n');
    writeFileSync(join(workspace, 'dist', 'm', 'app-2.tar.gz'), 'app built from H\n\n');
    await breakGlassRun(H, '9701', ['dist/m/app-1.tar.gz', 'dist/m/app-2.tar.gz'], 'legs');
    // Two deploy runs at once (a repository's own deploy workflow without the reusable one's `concurrency`, row 127):
    // both gates read the store before either stored its record, and both ship. The auditor's verify must see it.
    const [d1, d2] = await Promise.all([
      deploy(H, 'dist/m/app-1.tar.gz', 'legs', 'carol', dave),
      deploy(H, 'dist/m/app-2.tar.gz', 'legs', 'carol', dave),
    ]);
    expect(d1.report.verdict).toBe('pass');
    expect(d2.report.verdict).toBe('pass');

    // Baseline: verify --repo finds both uses through the run subject, and refuses.
    const before = await verifyFromStore('dist/m/app-2.tar.gz');
    const reasonBefore = breakGlassCheck(before).reason;
    expect(before.verdict).toBe('fail');
    expect(reasonBefore).toContain('deploy runs');

    // alice (write) POSTs 1001 distinct bundles naming the run subject's digest (row 204: anyone with write can).
    const run = `sha256:${runDigest('https://github.com', '9701')}`;
    for (let i = 0; i < 1001; i++) {
      repository.attestations!.push({ subjects: [run], bundle: { mediaType: 'junk', n: i } as never });
    }
    const after = await verifyFromStore('dist/m/app-2.tar.gz');
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
