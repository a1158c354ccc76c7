// Catastrophic identity patterns through the built CLI, as a user runs it: in `--certificate-identity-regexp` and in
// a policy's `san-pattern`, each answers — a verdict or an error naming the flag or the key — well within a second,
// where JavaScript's backtracking RegExp hung `twokey` at policy load, before any bundle was read.
//
// The SAN here is the real one of sigstore@2.1.0's npm provenance (~90 characters): a certificate with a 64 KiB SAN
// would need a CA of the trusted root to sign it, so the 64 KiB SANs are matched in packages/core
// (identity-pattern.test.ts, policy.test.ts) and packages/sigstore (identity.test.ts). The policy's own exact sign
// SAN, which the build pattern is tested against at load, is a 4,000-character string made to explode each pattern.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realdataRoot } from '../conformance/paths';
import { type CliResult, runCli } from '../conformance/run-cli';

const BUNDLE = join(realdataRoot, 'sigstore-js-2.1.0-bundle.json');
const ISSUER = 'https://token.actions.githubusercontent.com';
const SHA512 =
  'sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f';
/** A hang guard, not a benchmark (process start and verification included; the figures are in bench/README.md). */
const HANG_GUARD_MS = 5000;

/** The eight classic catastrophic patterns, each with a string made to explode a backtracking engine. */
const CATASTROPHIC: { pattern: string; explodes: string }[] = [
  { pattern: '(a+)+$', explodes: `${'a'.repeat(3999)}!` },
  { pattern: '(a|a)*$', explodes: `${'a'.repeat(3999)}!` },
  { pattern: '(.|.)*X', explodes: 'x'.repeat(4000) },
  { pattern: '(a*)*b', explodes: 'a'.repeat(4000) },
  { pattern: '(x+x+)+y', explodes: 'x'.repeat(4000) },
  { pattern: '^(([a-z])+.)+[A-Z]([a-z])+$', explodes: 'a'.repeat(4000) },
  { pattern: String.raw`(\w+\s?)*$`, explodes: `${'a'.repeat(3999)}!` },
  { pattern: '(a|aa)+$', explodes: `${'a'.repeat(3999)}!` },
];

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-identity-patterns-'));
  writeFileSync(join(dir, 'app.tar.gz'), 'app 1.0\n');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI and fails the test when it takes longer than the hang guard. */
async function timed(args: string[]): Promise<CliResult> {
  const start = performance.now();
  const result = await runCli(args, dir);
  expect(performance.now() - start, `${args.join(' ')} took too long`).toBeLessThan(HANG_GUARD_MS);
  return result;
}

function verifyBundle(pattern: string): Promise<CliResult> {
  return timed([
    'verify-bundle',
    '--bundle',
    BUNDLE,
    '--certificate-identity-regexp',
    pattern,
    '--certificate-oidc-issuer',
    ISSUER,
    SHA512,
  ]);
}

/** A policy whose build identity is `pattern`, and whose sign identity is the exact SAN `signSan`. */
function policyFile(name: string, pattern: string, signSan: string): string {
  writeFileSync(
    join(dir, name),
    `version: 1
identities:
  build:
    issuer: ${ISSUER}
    san-pattern: '${pattern.replaceAll("'", "''")}'
  sign:
    issuer: ${ISSUER}
    san: '${signSan}'
deploy:
  repositories: [acme/app]
`,
  );
  return name;
}

function verifyWithPolicy(policy: string): Promise<CliResult> {
  return timed(['verify', 'app.tar.gz', '--policy', policy, '--bundle', BUNDLE]);
}

/** A usage error: exit 2, one `twokey:` line naming the flag, no stack trace. */
function expectUsageError(result: CliResult, ...named: string[]): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^twokey: verify-bundle: --certificate-identity-regexp: /);
  for (const name of named) expect(result.stderr).toContain(name);
}

describe('twokey verify-bundle --certificate-identity-regexp: RE2, linear time', () => {
  it.each(CATASTROPHIC)('refuses the real bundle for $pattern (exit 1), within a second', async ({ pattern }) => {
    const result = await verifyBundle(pattern);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^error IDENTITY_MISMATCH: /);
    expect(result.stderr).toContain(`expected identity matching ^(?:${pattern})$`);
  });

  it('verifies the real bundle for a catastrophic-shaped pattern that matches its whole SAN', async () => {
    const result = await verifyBundle(String.raw`(.|.)*/\.github/workflows/release\.yml@refs/heads/main`);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified OK');
  });

  it('refuses a pattern that matches only a prefix: …/sigstore-js never matches …/sigstore-js/…', async () => {
    const result = await verifyBundle(String.raw`https://github\.com/sigstore/sigstore-js`);
    expect(result.status, result.stderr).toBe(1);
  });

  it.each([
    ['a backreference', String.raw`(https://github\.com/sigstore/)\1.*`],
    ['a lookahead', String.raw`(?=https://github\.com/sigstore/).*`],
    ['a lookbehind', '.*(?<=main)'],
  ])('refuses %s as a usage error naming the flag (exit 2): RE2 cannot express it', async (_name, pattern) => {
    expectUsageError(await verifyBundle(pattern), 'not an RE2 pattern');
  });

  it('refuses a pattern that closes the anchoring group (…)|(?:…) rather than accept any SAN under the prefix', async () => {
    expectUsageError(
      await verifyBundle(String.raw`https://github\.com/sigstore/)|(?:.*`),
      'not a valid regular expression',
    );
  });

  it('refuses a pattern over 1024 characters, or one that compiles to more than 2048 RE2 instructions', async () => {
    expectUsageError(await verifyBundle(`${'a'.repeat(1025)}`), '1025 characters, more than the 1024');
    expectUsageError(await verifyBundle('(.?){1000}(.?){1000}'), 'RE2 instructions, more than 2048');
  });
});

describe("twokey verify --policy: a policy's san-pattern, RE2, linear time", () => {
  it.each(CATASTROPHIC)(
    'loads a policy with $pattern and gives a verdict (exit 1), within a second',
    async ({ pattern, explodes }) => {
      // At load, the build pattern is tested against the sign SAN: here, one made to explode it.
      const policy = policyFile('catastrophic.yml', pattern, explodes);
      const result = await verifyWithPolicy(policy);
      expect(result.status, result.stderr).toBe(1);
      expect(result.stdout).toContain('REFUSED  app.tar.gz');
    },
  );

  it('refuses a san-pattern RE2 cannot express as POLICY_INVALID naming the key (exit 2)', async () => {
    const policy = policyFile('lookahead.yml', String.raw`(?=https://github\.com/acme/).*`, 'https://example.com/sign');
    const result = await verifyWithPolicy(policy);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /^error POLICY_INVALID: lookahead\.yml: identities\.build\.san-pattern: not an RE2 pattern: .* \(line 5\)$/m,
    );
  });

  it('refuses a policy with a YAML tag as POLICY_SYNTAX naming the line (exit 2)', async () => {
    writeFileSync(join(dir, 'tagged.yml'), 'version: 1\nidentities: !!python/object:os.system\n  build: {}\n');
    const result = await verifyWithPolicy('tagged.yml');
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      'error POLICY_SYNTAX: tagged.yml: (yaml): the tag !!python/object:os.system is not allowed',
    );
    expect(result.stderr).toContain('(line 2)');
  });
});
