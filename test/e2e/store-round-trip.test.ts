// Evidence where users keep it (issue 15): the build and sign actions, with store-attestations (as twokey's reusable
// workflows run them, `attestations: write`), store every bundle in the repository's attestations and output each
// one's id and URL, as actions/attest does; weeks later, with the workflow's artifacts long expired, a release manager
// runs `twokey verify --repo` with no bundle at all and gets the verdict from the store.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { runDeployStep } from '@twokey/gate';
import {
  aGitHubState,
  anApprovedChange,
  type GitHubFake,
  identity,
  type OidcIssuer,
  runAction,
  type SigstoreStack,
  startGitHubFake,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';

const ISSUER = 'https://token.actions.githubusercontent.com';
const BUILD_WORKFLOW = 'acme/platform/.github/workflows/twokey-build.yml@refs/tags/v1.0.0';
const SIGN_WORKFLOW = 'acme/platform/.github/workflows/twokey-sign.yml@refs/tags/v1.0.0';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let workspace: string;
let commit: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const change = anApprovedChange('acme/app', 'Add the parser');
  const repository = change.repository;
  commit = change.commit;
  github = await startGitHubFake(aGitHubState(repository));
  workspace = mkdtempSync(join(tmpdir(), 'twokey-store-trip-'));
  mkdirSync(join(workspace, 'dist'));
  writeFileSync(join(workspace, 'dist', 'app.tar.gz'), 'app 1.0\n');
  writeFileSync(
    join(workspace, 'org-policy.yml'),
    [
      'version: 1',
      'identities:',
      `  build: { issuer: ${ISSUER}, san: https://github.com/${BUILD_WORKFLOW} }`,
      `  sign: { issuer: ${ISSUER}, san: https://github.com/${SIGN_WORKFLOW} }`,
      `deploy: { trusted-root: ${stack.trustedRootPath} }`,
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

const job = (workflow: string) =>
  identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', commit, { job_workflow_ref: workflow });
const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

describe('bundles stored in the attestation store, verified from it alone', () => {
  let provenanceId: string;

  it('the build action stores its provenance and outputs its id and URL', async () => {
    const run = await runAction(join(repoRoot, 'actions', 'build'), {
      with: { 'subject-path': 'dist/*', 'store-attestations': 'true', ...endpoints() },
      identity: job(BUILD_WORKFLOW),
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_build_job',
      workspace,
    });
    expect(run.exitCode, run.log).toBe(0);
    provenanceId = run.outputs['attestation-id']!;
    expect(provenanceId).toMatch(/^\d+$/);
    expect(run.outputs['attestation-url']).toBe(`https://github.com/acme/app/attestations/${provenanceId}`);
    const stored = github.requests.filter((r) => r.route === 'POST /repos/{owner}/{repo}/attestations');
    expect(stored.map((r) => r.authorization)).toEqual(['token ghs_build_job']);
  });

  it('the sign action stores the review attestation and each signature', async () => {
    const provenance = join(workspace, 'provenance.sigstore.json');
    // The provenance bundle as the sign job gets it (here, written from the store's copy).
    const attestations = github.state.repositories[0]!.attestations!;
    writeFileSync(provenance, JSON.stringify(attestations[Number(provenanceId) - 1]!.bundle));
    const run = await runAction(join(repoRoot, 'actions', 'sign'), {
      with: {
        'subject-path': 'dist/*',
        provenance,
        policy: 'org-policy.yml',
        'trusted-root': stack.trustedRootPath,
        'store-attestations': 'true',
        ...endpoints(),
      },
      identity: job(SIGN_WORKFLOW),
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_sign_job',
      workspace,
    });
    expect(run.exitCode, run.log).toBe(0);
    expect(run.outputs['attestation-id']!.split('\n')).toHaveLength(2);
    expect(attestations).toHaveLength(3);
  });

  it('twokey verify --repo, with no bundle, accepts the release from the store alone', async () => {
    const result = await runCli(
      ['verify', 'dist/app.tar.gz', '--policy', 'org-policy.yml', '--repo', 'acme/app', '--json'],
      workspace,
      { ...process.env, GITHUB_API_URL: github.url, GH_TOKEN: 'ghp_release_manager', GITHUB_TOKEN: '' },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const report = readDeployReport(result.stdout, 'twokey verify --json');
    expect(report.artifacts[0]!.evidence.map((e) => e.source).sort()).toEqual(
      ['#0', '#1', '#2'].map((n) =>
        expect.stringMatching(new RegExp(`^github:acme/app/attestations/sha256:[0-9a-f]{64}${n}$`)),
      ),
    );
  });

  it('the deploy gate, with no bundles input, judges from the store with its github-token', async () => {
    const { report } = await runDeployStep({
      subjectPath: 'dist/app.tar.gz',
      subjectDigest: '',
      subjectName: '',
      subjectChecksums: '',
      bundles: '',
      githubToken: 'ghs_deploy_job',
      githubApiUrl: github.url,
      policy: 'org-policy.yml',
      trustedRoot: '',
      record: false,
      resourceUri: '',
      endpoints: { fulcioURL: stack.fulcioURL },
      repository: 'acme/app',
      workspace,
      outputDirectory: join(workspace, 'runner-temp'),
      version: '0.0.0-test',
      serverUrl: 'https://github.com',
    });
    expect(report.verdict, JSON.stringify(report.artifacts[0]?.checks)).toBe('pass');
    const asked = github.requests.filter((r) => r.route === 'GET /repos/{owner}/{repo}/attestations/{subject_digest}');
    expect(asked.at(-1)?.authorization).toBe('token ghs_deploy_job');
  });

  it('the deploy action stores its signed decision record too, and outputs its id and URL', async () => {
    const run = await runAction(repoRoot, {
      with: {
        'subject-path': 'dist/app.tar.gz',
        bundles: '',
        policy: 'org-policy.yml',
        'store-attestations': 'true',
        ...endpoints(),
      },
      identity: job('acme/platform/.github/workflows/twokey-deploy.yml@refs/tags/v1.0.0'),
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_deploy_job',
      workspace,
    });
    expect(run.exitCode, run.log).toBe(0);
    expect(run.outputs.verified).toBe('true');
    const id = run.outputs['attestation-id']!;
    expect(run.outputs['attestation-url']).toBe(`https://github.com/acme/app/attestations/${id}`);
    const record = github.state.repositories[0]!.attestations![Number(id) - 1]!.bundle as {
      dsseEnvelope: { payload: string };
    };
    const statement = JSON.parse(Buffer.from(record.dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(statement.predicateType).toBe('https://slsa.dev/verification_summary/v1');
    // Every bundle the decision rested on came from the store: each is named where the store lists it.
    const inputs = statement.predicate.inputAttestations as { uri: string; digest: { sha256: string } }[];
    expect(inputs.length).toBe(3);
    for (const input of inputs) {
      expect(input.uri).toMatch(new RegExp(`^${github.url}/repos/acme/app/attestations/sha256:[0-9a-f]{64}#\\d+$`));
      expect(input.digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('fails the step when the store refuses the bundle, naming the permission it needs', async () => {
    github.failOn('POST /repos/{owner}/{repo}/attestations', { status: 403 });
    const run = await runAction(join(repoRoot, 'actions', 'build'), {
      with: { 'subject-path': 'dist/*', 'store-attestations': 'true', ...endpoints() },
      identity: job(BUILD_WORKFLOW),
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_build_job',
      workspace,
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.log).toContain('ATTESTATIONS_NOT_STORED');
    expect(run.log).toContain('attestations: write');
  });
});
