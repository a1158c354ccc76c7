// A release of 500 artifacts verified from GitHub's attestation store (issue 15): 1,500 attestations fetched, half
// inline and half behind bundle_url (raw Snappy), concurrently, with the verdicts the same bundles give as files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { aGitHubState, aRepository, type GitHubFake, startGitHubFake } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { runCli } from '../conformance/run-cli';

const ARTIFACTS = 500;

let dir: string;
let corpus: Corpus;
let github: GitHubFake;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-store-500-'));
  corpus = await makeCorpus(join(dir, 'release'), ARTIFACTS);
  const repository = aRepository('acme/app');
  repository.attestations = corpus.artifacts.flatMap((artifact, i) =>
    [artifact.provenance, artifact.signature, artifact.review].map((path, j) => ({
      subjects: [`sha256:${artifact.sha256}`],
      bundle: JSON.parse(readFileSync(path, 'utf8')),
      viaUrl: (i + j) % 2 === 0,
    })),
  );
  github = await startGitHubFake(aGitHubState(repository));
}, 600_000);

afterAll(async () => {
  await github?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a release of 500 artifacts from the attestation store', () => {
  it('gives the verdicts the same bundles give as files', async () => {
    const env = { ...process.env, GITHUB_API_URL: github.url, GH_TOKEN: 'ghp_release_manager' };
    const run = (extra: string[]) =>
      runCli(
        [
          'verify',
          ...corpus.artifacts.map((a) => a.path),
          '--policy',
          corpus.policy,
          '--repo',
          'acme/app',
          '--json',
          ...extra,
        ],
        dir,
        env,
      );
    const [fromStore, fromFiles] = [await run([]), await run(['--bundle', corpus.bundlesDir])];
    const verdicts = (stdout: string) => readDeployReport(stdout, 'verify').artifacts.map((a) => a.verdict);
    expect(verdicts(fromStore.stdout), fromStore.stderr).toEqual(verdicts(fromFiles.stdout));
    expect(verdicts(fromStore.stdout).filter((v) => v === 'pass')).toHaveLength(
      corpus.artifacts.filter((a) => !a.forged).length,
    );
    expect(github.requests.filter((r) => r.path.startsWith('/_attestation-blobs/'))).toHaveLength((ARTIFACTS * 3) / 2);
  });
});
