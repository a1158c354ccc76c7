// A release manager verifies a release weeks later from GitHub's attestation store, not from workflow artifacts
// (issue 15): `twokey verify ARTIFACT… --repo OWNER/NAME` with no --bundle fetches every attestation the store holds
// for each artifact's digest — inline, or behind bundle_url as raw Snappy — and gives the verdict the same bundles
// give as files. A store that cannot be read is an error naming it, never a pass.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { aGitHubState, aRepository, type FakeAttestation, type GitHubFake, startGitHubFake } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { runCli } from '../conformance/run-cli';

const ARTIFACTS = 20;

let dir: string;
let corpus: Corpus;
let github: GitHubFake;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-store-'));
  corpus = await makeCorpus(join(dir, 'release'), ARTIFACTS);
  // The store holds each artifact's three bundles; every other one behind bundle_url, as GitHub now answers.
  const attestations: FakeAttestation[] = corpus.artifacts.flatMap((artifact, i) =>
    [artifact.provenance, artifact.signature, artifact.review].map((path, j) => ({
      subjects: [`sha256:${artifact.sha256}`],
      bundle: JSON.parse(readFileSync(path, 'utf8')),
      viaUrl: (i + j) % 2 === 0,
    })),
  );
  const repository = aRepository('acme/app');
  repository.attestations = attestations;
  github = await startGitHubFake(aGitHubState(repository));
}, 180_000);

afterAll(async () => {
  await github?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = (overrides: NodeJS.ProcessEnv = {}) => ({
  ...process.env,
  GITHUB_API_URL: github.url,
  GH_TOKEN: 'ghp_release_manager',
  GITHUB_TOKEN: '',
  ...overrides,
});

const verify = (extra: string[], environment = env()) =>
  runCli(
    ['verify', ...corpus.artifacts.map((a) => a.path), '--policy', corpus.policy, '--json', ...extra],
    dir,
    environment,
  );

describe('twokey verify from GitHub’s attestation store', () => {
  it('fetches every artifact’s attestations, inline and by bundle_url, and gives the verdicts of the files', async () => {
    const fromStore = await verify(['--repo', 'acme/app']);
    const fromFiles = await verify(['--repo', 'acme/app', '--bundle', corpus.bundlesDir]);
    const verdicts = (stdout: string) =>
      readDeployReport(stdout, 'twokey verify --json').artifacts.map((a) => a.verdict);
    expect(verdicts(fromStore.stdout), fromStore.stderr).toEqual(verdicts(fromFiles.stdout));
    expect(verdicts(fromStore.stdout)).toEqual(corpus.artifacts.map((a) => (a.forged ? 'fail' : 'pass')));
    const report = readDeployReport(fromStore.stdout, 'twokey verify --json');
    expect(report.artifacts[0]!.evidence.map((e) => e.source)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^github:acme\/app\/attestations\/sha256:[0-9a-f]{64}#[0-2]$/)]),
    );
    const asked = github.requests.filter((r) => r.route === 'GET /repos/{owner}/{repo}/attestations/{subject_digest}');
    expect(asked).toHaveLength(ARTIFACTS);
    expect(asked.every((r) => r.authorization === 'token ghp_release_manager')).toBe(true);
    // The blobs are fetched without GitHub's token.
    const blobs = github.requests.filter((r) => r.path.startsWith('/_attestation-blobs/'));
    expect(blobs.length).toBe((ARTIFACTS * 3) / 2);
    expect(blobs.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('fetches from all of an owner’s attestations with --owner, the chain bound by the policy’s repositories', async () => {
    const bound = join(dir, 'bound-policy.yml');
    writeFileSync(bound, `${readFileSync(corpus.policy, 'utf8').trimEnd()}\n  repositories: [acme/app]\n`);
    const result = await runCli(
      ['verify', ...corpus.artifacts.map((a) => a.path), '--policy', bound, '--owner', 'acme', '--json'],
      dir,
      env(),
    );
    const report = readDeployReport(result.stdout, 'twokey verify --json');
    expect(
      report.artifacts.map((a) => a.verdict),
      result.stderr,
    ).toEqual(corpus.artifacts.map((a) => (a.forged ? 'fail' : 'pass')));
    // Twenty digests, sixty attestations: one bulk request, as the organisation's store answers many digests.
    const bulk = github.requests.filter((r) => r.route === 'POST /orgs/{org}/attestations/bulk-list');
    expect(bulk).toHaveLength(1);
    expect(github.requests.some((r) => r.route === 'GET /orgs/{org}/attestations/{subject_digest}')).toBe(false);
  });

  it('refuses an artifact the store holds nothing for: no evidence is no pass', async () => {
    const result = await runCli(
      ['verify', `sha256:${'ab'.repeat(32)}`, '--policy', corpus.policy, '--repo', 'acme/app'],
      dir,
      env(),
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('REFUSED');
  });

  it('reads a public repository’s store without a token, as GitHub allows, and says it does', async () => {
    const repository = github.state.repositories[0]!;
    repository.visibility = 'public';
    try {
      const before = github.requests.length;
      const result = await verify(['--repo', 'acme/app'], env({ GH_TOKEN: '', GITHUB_TOKEN: '' }));
      expect(result.stderr).toContain("reading acme/app's attestations anonymously");
      expect(
        readDeployReport(result.stdout, 'twokey verify --json').artifacts.map((a) => a.verdict),
        result.stderr,
      ).toEqual(corpus.artifacts.map((a) => (a.forged ? 'fail' : 'pass')));
      expect(github.requests.slice(before).every((r) => r.authorization === undefined)).toBe(true);
    } finally {
      repository.visibility = 'private';
    }
  });

  it('finds nothing in a private repository without a token (GitHub hides it): refused, never a pass', async () => {
    const result = await verify(['--repo', 'acme/app'], env({ GH_TOKEN: '', GITHUB_TOKEN: '' }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('public repositories only');
    const report = readDeployReport(result.stdout, 'twokey verify --json');
    expect(report.artifacts.every((a) => a.verdict === 'fail')).toBe(true);
  });

  it('is an error naming the store when it cannot be read (exit 2), never a verdict', async () => {
    // Last: from here on the store refuses this token.
    github.failOn('GET /repos/{owner}/{repo}/attestations/{subject_digest}', { status: 403 });
    const result = await verify(['--repo', 'acme/app']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^error ATTESTATIONS_UNREADABLE: acme\/app: the attestation store did not answer for sha256:/,
    );
  });
});
