// Under a break-glass, the built commit is still the build certificate's, end to end with real signed bundles on the
// loopback Sigstore stack and the GitHub fake: mallory's branch build (her code inside the genuine build workflow:
// certificate acme/app @ F on her branch) signs provenance that claims alice's hotfix commit C on main for mallory's
// artifact; the genuine break-glass action signs an exception for commit C over that artifact (mallory requests it,
// dave approves it). `twokey verify` refuses it: the certificate says F (threat model row 91).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provenanceStatement, readDeployReport, workflowProvenance, workflowRunClaims } from '@twokey/core';
import { signStatement } from '@twokey/sigstore';
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
let C: string; // alice's hotfix on main
let F: string; // mallory's commit on her branch
let runs = 0;

function job(workflow: string, ref: string, sha: string, overrides: Partial<WorkflowIdentity> = {}) {
  runs += 1;
  return identity('acme/app', '.github/workflows/release.yml', ref, sha, {
    job_workflow_ref: workflow,
    // A break-glass is asked for by hand: its run is dispatched (the certificate's Build Trigger).
    ...(workflow === BREAK_GLASS_WORKFLOW && { event_name: 'workflow_dispatch' }),
    run_id: String(8000 + runs),
    ...overrides,
  });
}
const tokenOf = (who: WorkflowIdentity) => () => issuer.mint(who, { audience: 'sigstore' });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const change = anApprovedChange('acme/app', 'Add the parser');
  repository = change.repository;
  C = pushCommit(repository, aCommit({ author: aUser('alice'), message: 'Hotfix: stop the outage' }));
  F = pushCommit(repository, aCommit({ author: aUser('mallory'), message: 'innocent' }), 'mallory/fix');
  repository.environments = { 'break-glass': { reviewers: [aUser('dave')], preventSelfReview: true } };
  github = await startGitHubFake(aGitHubState(repository, aUser('dave'), aUser('mallory')));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-break-glass-commit-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), 'mallory backdoor built from F\n');
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

describe('a break-glass for a commit the build certificate does not name', () => {
  it('twokey verify refuses mallory’s artifact, built from F, under a break-glass for alice’s commit C', async () => {
    const evil = join(workspace, 'evil');
    mkdirSync(evil);
    const digest = sha256('mallory backdoor built from F\n');

    // 1. Mallory's branch build: the build workflow's genuine token (commit F, refs/heads/mallory/fix); her code
    //    writes the statement: commit C on main.
    const buildJob = job(BUILD_WORKFLOW, 'refs/heads/mallory/fix', F);
    const lie = workflowProvenance(
      workflowRunClaims({
        ...buildJob,
        sha: C,
        ref: 'refs/heads/main',
        workflow_ref: `acme/app/.github/workflows/release.yml@refs/heads/main`,
      }),
    );
    const provenance = await signStatement(
      provenanceStatement([{ name: 'app.tar.gz', digest: { sha256: digest } }], lie),
      {
        endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
        identityToken: tokenOf(buildJob),
      },
    );
    writeFileSync(join(evil, 'provenance.sigstore.json'), JSON.stringify(provenance));
    // Its certificate (Fulcio's, from the token) names F and mallory's branch, never C or main.
    const certificate = Buffer.from(
      (provenance as { verificationMaterial: { certificate: { rawBytes: string } } }).verificationMaterial.certificate
        .rawBytes,
      'base64',
    ).toString('latin1');
    expect(certificate).toContain(F);
    expect(certificate).toContain('refs/heads/mallory/fix');
    expect(certificate).not.toContain(C);

    // 2. The genuine break-glass workflow, run by mallory for commit C over her artifact, approved by dave.
    const breakGlassJob = job(BREAK_GLASS_WORKFLOW, 'refs/heads/main', C, {
      environment: 'break-glass',
      actor: 'mallory',
    });
    repository.workflowRunApprovals[breakGlassJob.run_id] = [
      {
        state: 'approved',
        comment: 'hotfix C, go',
        environments: ['break-glass'],
        user: { login: 'dave', id: aUser('dave').id, type: 'User' },
      },
    ];
    const glass = await runAction(join(repoRoot, 'actions', 'break-glass'), {
      with: {
        'subject-path': 'dist/app.tar.gz',
        commit: C,
        reason: 'checkout is down for every customer',
        incident: 'https://status.acme.example/incidents/42',
        environment: 'production',
        duration: '2h',
        'fulcio-url': stack.fulcioURL,
        'rekor-url': stack.rekorURL,
        'tsa-url': stack.tsaURL,
      },
      identity: breakGlassJob,
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_break_glass_job',
      workspace,
    });
    expect(glass.exitCode, glass.log).toBe(0);
    copyFileSync(glass.outputs['bundle-path']!, join(evil, 'break-glass.sigstore.json'));

    // 3. twokey verify: refused, the break-glass unusable for this artifact, whose certificate names F.
    const verified = await runCli(
      ['verify', '--repo', 'acme/app', 'dist/app.tar.gz', '--policy', 'org-policy.yml', '--bundle', 'evil', '--json'],
      workspace,
    );
    expect(verified.status, verified.stdout + verified.stderr).toBe(1);
    const report = readDeployReport(verified.stdout, 'twokey verify --json');
    expect(report.verdict).toBe('fail');
    const breakGlass = report.artifacts[0]!.checks.find((c) => c.id === 'break-glass')!;
    expect(breakGlass.verdict).toBe('fail');
    expect(breakGlass.reason).toContain(
      `it cannot be matched with the built commit: the provenance says commit ${C}, but the build identity's certificate says the workflow ran on ${F}`,
    );
  });
});
