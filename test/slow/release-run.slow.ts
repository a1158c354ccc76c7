// twokey's own release (.github/workflows/release.yml) through the runner harness on the loopback stack: the build
// job's packing step run as written, twokey's build action attesting the packages as this repository's
// twokey-build.yml, its sign action checking the merged, approved change and signing as twokey-sign.yml — both under
// twokey's own .twokey/org-policy.yml — and `twokey verify` accepting the release under that policy, as a release
// manager would before publishing. The publish job (gh release create) needs GitHub itself and is not run.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
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
import { parse } from 'yaml';
import { repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';

const REPOSITORY = 'twokey-dev/twokey';
const ORG_POLICY = join(repoRoot, '.twokey', 'org-policy.yml');
const VERSION = '9.9.9';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let github: GitHubFake;
let workspace: string;
let commit: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  // A change to twokey by alice, approved by bob, squash-merged into main: the commit the release builds.
  const change = anApprovedChange(REPOSITORY, 'Prepare the release');
  const repository = change.repository;
  commit = change.commit;
  github = await startGitHubFake(aGitHubState(repository));

  // The release job's workspace: this checkout, and the packing step's own output directory.
  workspace = mkdtempSync(join(tmpdir(), 'twokey-release-'));
  for (const name of ['action.yml', 'actions', 'packages']) symlinkSync(join(repoRoot, name), join(workspace, name));
}, 120_000);

afterAll(async () => {
  await github?.close();
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** A job of the release, as twokey-dev/twokey's reusable `workflow` called from main at the released commit. */
const job = (workflow: string) =>
  identity(REPOSITORY, '.github/workflows/release.yml', 'refs/heads/main', commit, {
    job_workflow_ref: `${REPOSITORY}/.github/workflows/${workflow}@refs/heads/main`,
    job_workflow_sha: commit,
  });

const endpoints = () => ({ 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL });

describe("twokey's release, through the runner harness", () => {
  let packages: string[];
  let provenance: string;
  let signed: string[];

  it('packs the CLI and the actions with the build job’s own step', () => {
    const release = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'release.yml'), 'utf8')) as {
      jobs: { build: { steps: { name?: string; run?: string }[] } };
    };
    const pack = release.jobs.build.steps.find((s) => s.name === 'Pack the CLI and the actions')!;
    execFileSync('bash', ['-euo', 'pipefail', '-c', pack.run!], {
      cwd: workspace,
      env: { ...process.env, VERSION },
      stdio: 'pipe',
    });
    packages = readdirSync(join(workspace, 'release')).sort();
    expect(packages).toEqual([`twokey-actions-${VERSION}.tar.gz`, expect.stringMatching(/^twokey-cli-.*\.tgz$/)]);
  }, 120_000);

  it('attests them as this repository’s twokey-build.yml (the build identity)', async () => {
    const run = await runAction(join(repoRoot, 'actions', 'build'), {
      with: { 'subject-path': 'release/*', ...endpoints() },
      identity: job('twokey-build.yml'),
      oidc: issuer,
      workspace,
    });
    expect(run.exitCode, run.log).toBe(0);
    provenance = run.outputs['bundle-path']!;
    expect(JSON.parse(run.outputs.subjects!).map((s: { name: string }) => s.name)).toEqual(packages);
  });

  it('signs them as twokey-sign.yml after the independent review, under twokey’s own org policy', async () => {
    const run = await runAction(join(repoRoot, 'actions', 'sign'), {
      with: {
        'subject-path': 'release/*',
        provenance,
        policy: ORG_POLICY,
        'trusted-root': stack.trustedRootPath,
        ...endpoints(),
      },
      identity: job('twokey-sign.yml'),
      oidc: issuer,
      githubApiUrl: github.url,
      githubToken: 'ghs_release_sign_token',
      workspace,
    });
    expect(run.exitCode, run.log).toBe(0);
    expect(run.outputs.verdict).toBe('pass');
    signed = run.outputs['bundle-paths']!.split('\n');
    expect(signed).toHaveLength(packages.length + 1);
  });

  it('is accepted by twokey verify under that policy, as a release manager checks it before publishing', async () => {
    const bundles = join(workspace, 'bundles');
    mkdirSync(bundles);
    for (const path of [provenance, ...signed]) copyFileSync(path, join(bundles, path.split('/').pop()!));
    const result = await runCli(
      [
        'verify',
        ...packages.map((name) => join('release', name)),
        '--policy',
        ORG_POLICY,
        '--trusted-root',
        stack.trustedRootPath,
        '--bundle',
        'bundles',
        '--json',
      ],
      workspace,
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const report = readDeployReport(result.stdout, 'twokey verify --json');
    expect(report.artifacts.map((a) => a.verdict)).toEqual(packages.map(() => 'pass'));
  });
});
