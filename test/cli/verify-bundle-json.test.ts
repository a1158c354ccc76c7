// `twokey verify-bundle --json` (and gh's `--format json`): one JSON object on stdout, a verdict either way — what was
// verified and by whom, or that it was not and why (exit 1) — on a real GitHub-signed provenance from gh's own test
// data. Usage errors stay on stderr with nothing on stdout: they are not verdicts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceRoot, repoRoot } from '../conformance/paths';
import { runCli } from '../conformance/run-cli';

const gh = join(conformanceRoot, 'gh-cli-attestation');
const BUNDLE = join(gh, 'derived', 'github_provenance_demo-0.0.12-py3-none-any-bundle.0.sigstore.json');
const WHEEL = join(gh, 'pkg', 'cmd', 'attestation', 'test', 'data', 'github_provenance_demo-0.0.12-py3-none-any.whl');
const WORKFLOW = 'actions/attest-demo/.github/workflows/build-python.yml';

/** What --json prints, as far as these tests read it. */
interface Printed {
  verified: boolean;
  bundle: string;
  bundleSha256?: string;
  artifact?: { path?: string; digest?: string };
  kind?: string;
  signer: { san: string; issuer: string; extensions: Record<string, string> };
  signedAt: string[];
  payloadType?: string;
  statement: { subject: { digest: { sha256: string } }[]; predicateType: string };
  code?: string;
  reason?: string;
}

const verify = (...flags: string[]) =>
  runCli(
    [
      'verify-bundle',
      '--bundle',
      BUNDLE,
      '--trusted-root',
      'github',
      '--signer-workflow',
      WORKFLOW,
      '--owner',
      'actions',
      ...flags,
      WHEEL,
    ],
    repoRoot,
  );

describe('verify-bundle --json', () => {
  it('prints what verified: the bundle and its SHA-256, the artifact, the signer, the times and the statement', async () => {
    for (const flag of [['--json'], ['--format', 'json']]) {
      const result = await verify(...flag);
      expect(result.status, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as Printed;
      expect(out.verified).toBe(true);
      expect(out.bundle).toBe(BUNDLE);
      expect(out.bundleSha256).toBe(createHash('sha256').update(readFileSync(BUNDLE)).digest('hex'));
      expect(out.artifact).toEqual({ path: WHEEL });
      expect(out.kind).toBe('dsse');
      expect(out.signer.san).toMatch(
        /^https:\/\/github\.com\/actions\/attest-demo\/\.github\/workflows\/build-python\.yml@/,
      );
      expect(out.signer.issuer).toBe('https://token.actions.githubusercontent.com');
      expect(out.signer.extensions.sourceRepositoryURI).toBe('https://github.com/actions/attest-demo');
      expect(out.signedAt.length).toBeGreaterThan(0);
      for (const time of out.signedAt) expect(new Date(time).toISOString()).toBe(time);
      expect(out.payloadType).toBe('application/vnd.in-toto+json');
      const wheelDigest = createHash('sha256').update(readFileSync(WHEEL)).digest('hex');
      expect(out.statement.subject.map((s) => s.digest.sha256)).toContain(wheelDigest);
      expect(out.statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    }
  });

  it('prints {"verified": false, code, reason} for a bundle that does not verify (exit 1), the error on stderr too', async () => {
    const result = await verify('--json', '--source-ref', 'refs/heads/not-the-branch');
    expect(result.status, result.stderr).toBe(1);
    const out = JSON.parse(result.stdout) as Printed;
    expect(out).toEqual({ verified: false, bundle: BUNDLE, code: 'EXTENSION_MISMATCH', reason: expect.any(String) });
    expect(out.reason).toMatch(/sourceRepositoryRef/);
    expect(result.stderr).toMatch(/^error EXTENSION_MISMATCH: /);
    // A predicate type other than the one asked for is a refusal as well.
    const other = await verify('--format', 'json', '--predicate-type', 'https://example.com/other');
    expect(other.status).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({ verified: false, code: 'PAYLOAD_INVALID' });
  });

  it('prints nothing on stdout for a usage error (exit 2): --format other than json or text, or both spellings', async () => {
    for (const flags of [
      ['--format', 'yaml'],
      ['--json', '--format', 'text'],
    ]) {
      const result = await verify(...flags);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^twokey: verify-bundle: (--format|give --json)/);
    }
    const missing = await runCli(
      [
        'verify-bundle',
        '--json',
        '--bundle',
        join(repoRoot, 'no-such.json'),
        '--signer-workflow',
        WORKFLOW,
        '--owner',
        'actions',
        WHEEL,
      ],
      repoRoot,
    );
    expect(missing.status).toBe(2);
    expect(missing.stdout).toBe('');
  });

  it('still prints the text lines without --json or with --format text', async () => {
    for (const flags of [[], ['--format', 'text']]) {
      const result = await verify(...flags);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^Verified OK: /);
    }
  });
});
