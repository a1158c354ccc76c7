// Bundles as `gh attestation download` writes them: JSON Lines, one bundle a line (issue 15). twokey verify reads a
// .jsonl given directly, in a directory or by a glob, each line a bundle named `FILE.jsonl#Ln`; a malformed line is an
// input error naming the file and the line; the verdicts are those of the same bundles as files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';
import { NPM_PROVENANCE, NPM_PROVENANCE_SIGNER } from './npm-provenance';

let dir: string;
let corpus: Corpus;
/** The corpus's six bundles, one a line, as `gh attestation download` writes them. */
let lines: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-jsonl-'));
  corpus = await makeCorpus(join(dir, 'corpus'), 2);
  lines = corpus.artifacts.flatMap((a) =>
    [a.provenance, a.signature, a.review].map((path) => JSON.stringify(JSON.parse(readFileSync(path, 'utf8')))),
  );
  mkdirSync(join(dir, 'download'));
  writeFileSync(join(dir, 'download', 'release.jsonl'), `${lines.join('\n')}\n`);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const verify = (bundles: string, ...extra: string[]) =>
  runCli(
    [
      'verify',
      ...corpus.artifacts.map((a) => a.path),
      '--policy',
      corpus.policy,
      '--bundle',
      bundles,
      '--repo',
      'acme/app',
      '--json',
      ...extra,
    ],
    dir,
  );

function verdicts(stdout: string): string[] {
  return readDeployReport(stdout, 'twokey verify --json').artifacts.map((a) => a.verdict);
}

describe('twokey verify over a .jsonl of bundles', () => {
  it('gives the verdicts the same bundles get as files, naming each line as FILE#Ln', async () => {
    const asFiles = await verify(corpus.bundlesDir);
    const asLines = await verify('download/release.jsonl');
    expect(verdicts(asFiles.stdout)).toEqual(['pass', 'fail']);
    expect(verdicts(asLines.stdout)).toEqual(verdicts(asFiles.stdout));
    const report = readDeployReport(asLines.stdout, 'twokey verify --json');
    const used = report.artifacts[0]!.evidence.map((e) => e.source).sort();
    expect(used).toEqual(['download/release.jsonl#L1', 'download/release.jsonl#L2', 'download/release.jsonl#L3']);
    expect(report.rejected.map((r) => r.source)).toEqual(['download/release.jsonl#L5']);
  });

  it('prints the same report with --format json, as gh spells --json', async () => {
    const result = await runCli(
      [
        'verify',
        ...corpus.artifacts.map((a) => a.path),
        '--policy',
        corpus.policy,
        '--bundle',
        'download/release.jsonl',
        '--repo',
        'acme/app',
        '--format',
        'json',
      ],
      dir,
    );
    expect(verdicts(result.stdout)).toEqual(['pass', 'fail']);
  });

  it('finds .jsonl files in a directory, and by a glob', async () => {
    expect(verdicts((await verify('download')).stdout)).toEqual(['pass', 'fail']);
    expect(verdicts((await verify('download/*.jsonl')).stdout)).toEqual(['pass', 'fail']);
  });

  it('refuses a truncated line, naming the file and the line (exit 2)', async () => {
    const truncated = [...lines];
    truncated[3] = truncated[3]!.slice(0, 200);
    writeFileSync(join(dir, 'truncated.jsonl'), `${truncated.join('\n')}\n`);
    const result = await verify('truncated.jsonl');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error BUNDLE_NOT_JSON: \S*truncated\.jsonl#L4: bundle is not JSON/);
  });
});

describe('a directory of evidence that holds other JSON too', () => {
  it('names and skips a file that is no bundle (a report beside the bundles), and judges the rest', async () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'release.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(join(mixed, 'deploy-report.json'), JSON.stringify({ schemaVersion: 1, verdict: 'pass' }));
    const result = await verify('mixed');
    expect(verdicts(result.stdout), result.stderr).toEqual(['pass', 'fail']);
    expect(readDeployReport(result.stdout, 'verify').rejected).toContainEqual({
      source: 'mixed/deploy-report.json',
      code: 'NOT_A_BUNDLE',
      reason: expect.stringContaining('this is not a Sigstore bundle: skipped'),
    });
  });

  it('still fails on a file that claims to be a bundle and is malformed, and on a non-bundle named on its own', async () => {
    const claims = join(dir, 'claims');
    mkdirSync(claims);
    writeFileSync(join(claims, 'release.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(
      join(claims, 'broken.json'),
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: 7 }),
    );
    const broken = await verify('claims');
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^error BUNDLE_MALFORMED: \S*broken\.json/);
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ verdict: 'pass' }));
    const named = await verify('report.json');
    expect(named.status).toBe(2);
    expect(named.stderr).toMatch(/^error NOT_A_BUNDLE: \S*report\.json: mediaType: missing/);
  });
});

describe('twokey verify-bundle over a .jsonl', () => {
  const npm = NPM_PROVENANCE;
  const signer = NPM_PROVENANCE_SIGNER;

  it('verifies the one bundle of a one-line file', async () => {
    const one = join(dir, 'one.jsonl');
    writeFileSync(one, `${JSON.stringify(JSON.parse(readFileSync(npm, 'utf8')))}\n`);
    const result = await runCli(['verify-bundle', '--bundle', one, ...signer], repoRoot);
    expect(result.status, result.stderr).toBe(0);
  });

  it('refuses a file of several bundles: it checks one', async () => {
    const two = join(dir, 'two.jsonl');
    const line = JSON.stringify(JSON.parse(readFileSync(npm, 'utf8')));
    writeFileSync(two, `${line}\n${line}\n`);
    const result = await runCli(['verify-bundle', '--bundle', two, ...signer], repoRoot);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('holds 2 bundles; verify-bundle checks one');
  });
});
