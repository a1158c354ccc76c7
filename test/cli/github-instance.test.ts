// `twokey verify-bundle` on GitHub's own Sigstore instance, as a user runs it: `--trusted-root` GitHub's root. That
// instance has no transparency log and no CT log and stamps every signature with its timestamp authority, so a
// bundle of it needs that timestamp — and a public-good bundle still needs its log entry (issue 15).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceRoot, repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';
import { NPM_PROVENANCE, NPM_PROVENANCE_SIGNER } from './npm-provenance';

const githubInstance = resolve(repoRoot, '..', 'shared', 'github-instance');
const GITHUB_ROOT = join(githubInstance, 'trusted_root.json');
const gh = join(conformanceRoot, 'gh-cli-attestation');
const PROVENANCE = join(gh, 'derived', 'github_provenance_demo-0.0.12-py3-none-any-bundle.0.sigstore.json');
const WHEEL = join(gh, 'pkg', 'cmd', 'attestation', 'test', 'data', 'github_provenance_demo-0.0.12-py3-none-any.whl');
const SIGNER = [
  '--certificate-identity',
  'https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main',
  '--certificate-oidc-issuer',
  'https://token.actions.githubusercontent.com',
];
const dir = mkdtempSync(join(tmpdir(), 'twokey-github-instance-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of a bundle with one change, written where the CLI can read it. */
interface EditableBundle {
  verificationMaterial: { tlogEntries?: unknown[]; timestampVerificationData?: unknown };
}

function edited(path: string, edit: (bundle: EditableBundle) => void): string {
  const bundle = JSON.parse(readFileSync(path, 'utf8')) as EditableBundle;
  edit(bundle);
  const copy = join(dir, `edited-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(copy, JSON.stringify(bundle));
  return copy;
}

describe("a bundle of GitHub's Sigstore instance", () => {
  it('verifies against GitHub’s trusted root: a timestamp, no log entry, no SCT', async () => {
    const bundle = JSON.parse(readFileSync(PROVENANCE, 'utf8'));
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
    const result = await runCli(
      ['verify-bundle', '--bundle', PROVENANCE, ...SIGNER, '--trusted-root', GITHUB_ROOT, WHEEL],
      repoRoot,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified OK');
  });

  it('is refused without its timestamp: nothing else dates the signature on an instance without a log', async () => {
    const stripped = edited(PROVENANCE, (b) => {
      b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
    });
    const result = await runCli(
      ['verify-bundle', '--bundle', stripped, ...SIGNER, '--trusted-root', GITHUB_ROOT, WHEEL],
      repoRoot,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error TIMESTAMP_INVALID: /);
  });

  it('is refused against the public-good root (its CA is not there)', async () => {
    const result = await runCli(['verify-bundle', '--bundle', PROVENANCE, ...SIGNER, WHEEL], repoRoot);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error CERTIFICATE_CHAIN_UNTRUSTED: /);
  });
});

describe('a public-good bundle', () => {
  const npm = NPM_PROVENANCE;

  it('verifies with its log entry', async () => {
    const result = await runCli(['verify-bundle', '--bundle', npm, ...NPM_PROVENANCE_SIGNER], repoRoot);
    expect(result.status, result.stderr).toBe(0);
  });

  it('is still refused without its log entry: the public-good instance guarantees one', async () => {
    const stripped = edited(npm, (b) => {
      b.verificationMaterial.tlogEntries = [];
    });
    const result = await runCli(['verify-bundle', '--bundle', stripped, ...NPM_PROVENANCE_SIGNER], repoRoot);
    expect(result.status).toBe(1);
    // Its only signing time was the log entry's: nothing dates the signature any more.
    expect(result.stderr).toMatch(/^error TIMESTAMP_INVALID: .*: expected 1 timestamps, got 0/);
  });
});

describe("GitHub's trusted root, embedded in twokey", () => {
  it('verifies GitHub’s bundles with --trusted-root github, no file needed', async () => {
    const result = await runCli(
      ['verify-bundle', '--bundle', PROVENANCE, ...SIGNER, '--trusted-root', 'github', WHEEL],
      repoRoot,
    );
    expect(result.status, result.stderr).toBe(0);
  });

  it('is the root GitHub publishes, and twokey --version names it beside public-good', async () => {
    expect(readFileSync(join(repoRoot, 'packages', 'sigstore', 'src', 'roots', 'github-trusted-root.json'))).toEqual(
      readFileSync(GITHUB_ROOT),
    );
    const result = await runCli(['--version'], repoRoot);
    expect(result.stdout).toContain('Sigstore public-good');
    expect(result.stdout).toMatch(/GitHub.*6 certificate authorities.*0 transparency logs.*6 timestamp authorities/s);
  });
});

describe('twokey trusted-root', () => {
  it('prints the embedded roots as JSON Lines, as gh attestation trusted-root does; a line pinned to a file verifies', async () => {
    const all = await runCli(['trusted-root'], repoRoot);
    expect(all.status, all.stderr).toBe(0);
    const lines = all.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    for (const root of lines) expect(root.mediaType).toBe('application/vnd.dev.sigstore.trustedroot+json;version=0.1');
    const github = await runCli(['trusted-root', '--name', 'github'], repoRoot);
    const pinned = join(dir, 'github-root.json');
    writeFileSync(pinned, github.stdout);
    const result = await runCli(
      ['verify-bundle', '--bundle', PROVENANCE, ...SIGNER, '--trusted-root', pinned, WHEEL],
      repoRoot,
    );
    expect(result.status, result.stderr).toBe(0);
    expect((await runCli(['trusted-root', '--name', 'sigstage'], repoRoot)).status).toBe(2);
  });

  it('stops quietly when its reader stops early (| head), as other command-line tools do', () => {
    const cli = join(repoRoot, 'packages', 'cli', 'bin', 'twokey.cjs');
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${cli}" trusted-root | head -c 10`], {
      encoding: 'utf8',
    });
    expect(piped.stdout).toBe('{"mediaTyp');
    expect(piped.stderr).toBe('');
  });
});

describe('--trusted-root as JSON Lines of several roots (gh attestation trusted-root’s output)', () => {
  const npm = NPM_PROVENANCE;
  const npmSigner = NPM_PROVENANCE_SIGNER;

  it('verifies each bundle against the root that issued it, with that instance’s guarantees', async () => {
    const roots = join(dir, 'roots.jsonl');
    writeFileSync(roots, (await runCli(['trusted-root'], repoRoot)).stdout);
    const github = await runCli(
      ['verify-bundle', '--bundle', PROVENANCE, ...SIGNER, '--trusted-root', roots, WHEEL],
      repoRoot,
    );
    expect(github.status, github.stderr).toBe(0);
    const publicGood = await runCli(
      ['verify-bundle', '--bundle', npm, '--trusted-root', roots, ...npmSigner],
      repoRoot,
    );
    expect(publicGood.status, publicGood.stderr).toBe(0);
    // Each instance keeps its own guarantee: a public-good bundle without its log entry is still refused.
    const stripped = edited(npm, (b) => {
      b.verificationMaterial.tlogEntries = [];
    });
    const refused = await runCli(
      ['verify-bundle', '--bundle', stripped, '--trusted-root', roots, ...npmSigner],
      repoRoot,
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^error TIMESTAMP_INVALID: /);
  });

  it('names the roots when none issued the certificate', async () => {
    const only = join(dir, 'only-public-good.jsonl');
    const line = (await runCli(['trusted-root', '--name', 'public-good'], repoRoot)).stdout;
    writeFileSync(only, `${line}${line}`);
    const result = await runCli(
      ['verify-bundle', '--bundle', PROVENANCE, ...SIGNER, '--trusted-root', only, WHEEL],
      repoRoot,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('chains to no certificate authority of the trusted roots');
  });
});
