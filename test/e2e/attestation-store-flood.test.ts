// `twokey verify --repo/--owner` of a genuine release whose attestation store a writer has filled: the release's own
// signature bundle stored again a thousand times (no signing needed, only `attestations: write`), in the repository or
// in another repository of the organisation, or an entry whose blob is over the size a bundle may have. Copies of one
// bundle are read as that bundle, a blob that cannot be read is rejected evidence for its entry alone, and the
// release still verifies.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { aGitHubState, aRepository, type FakeAttestation, startGitHubFake } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { run } from '../../packages/cli/src/cli';

let dir: string;
let corpus: Corpus;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-store-flood-'));
  // Two artifacts: the corpus forges the last one's signature; the first is the genuine release judged here.
  corpus = await makeCorpus(join(dir, 'release'), 2);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The release's three bundles as its pipeline stored them, behind bundle_url as GitHub now serves every entry. */
function genuineEntries(): FakeAttestation[] {
  const artifact = corpus.artifacts[0]!;
  return [artifact.provenance, artifact.signature, artifact.review].map((path) => ({
    subjects: [`sha256:${artifact.sha256}`],
    bundle: JSON.parse(readFileSync(path, 'utf8')),
    viaUrl: true,
  }));
}

/** `twokey verify ARTIFACT --policy … --json` with these options, run in this process on today's sources. */
async function verifyFromStore(
  repositories: ReturnType<typeof aRepository>[],
  where: string[],
  policy = corpus.policy,
) {
  const github = await startGitHubFake(aGitHubState(...repositories));
  vi.stubEnv('GITHUB_API_URL', github.url);
  vi.stubEnv('GH_TOKEN', 'ghp_release_manager');
  vi.stubEnv('GITHUB_TOKEN', '');
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io = {
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
  };
  try {
    const status = await run(['verify', corpus.artifacts[0]!.path, '--policy', policy, '--json', ...where], io);
    const report = stdout.length > 0 ? readDeployReport(stdout.join(''), 'twokey verify --json') : undefined;
    return { status, stderr: stderr.join(''), report };
  } finally {
    vi.unstubAllEnvs();
    await github.close();
  }
}

describe('a writer floods the store with copies of the release’s own signature bundle', () => {
  it('from the repository itself (1001 copies, POST /repos/acme/app/attestations): the release still verifies', async () => {
    const app = aRepository('acme/app');
    const genuine = genuineEntries();
    app.attestations = [...genuine, ...Array.from({ length: 1001 }, () => ({ ...genuine[1]! }))];
    const result = await verifyFromStore([app], ['--repo', 'acme/app']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.report!.artifacts.map((a) => a.verdict)).toEqual(['pass']);
  }, 120_000);

  it('from another repository of the organisation it writes to (--owner): the release still verifies', async () => {
    const bound = join(dir, 'bound-policy.yml');
    writeFileSync(bound, `${readFileSync(corpus.policy, 'utf8').trimEnd()}\n  repositories: [acme/app]\n`);
    const app = aRepository('acme/app');
    const genuine = genuineEntries();
    app.attestations = genuine;
    const sandbox = aRepository('acme/sandbox');
    sandbox.attestations = Array.from({ length: 1001 }, () => ({ ...genuine[1]! }));
    const result = await verifyFromStore([app, sandbox], ['--owner', 'acme'], bound);
    expect(result.status, result.stderr).toBe(0);
    expect(result.report!.artifacts.map((a) => a.verdict)).toEqual(['pass']);
  }, 120_000);
});

describe('an entry whose blob is over the size a bundle may have', () => {
  it('is rejected evidence named after its entry, as inline it would be: the release still verifies', async () => {
    const app = aRepository('acme/app');
    const genuine = genuineEntries();
    const oversized = { ...(genuine[1]!.bundle as object), padding: 'x'.repeat(17 * 2 ** 20) };
    app.attestations = [...genuine, { subjects: genuine[1]!.subjects, bundle: oversized, viaUrl: true }];
    const result = await verifyFromStore([app], ['--repo', 'acme/app']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.report!.rejected).toEqual([
      {
        source: `github:acme/app/attestations/sha256:${corpus.artifacts[0]!.sha256}#3`,
        code: 'BUNDLE_TOO_LARGE',
        reason: expect.stringMatching(/^bundle_url holds a bundle of \d+ bytes, over the limit of 16777216 bytes$/),
      },
    ]);
  }, 120_000);
});
