// A bundle of another Sigstore instance checked against the root twokey embeds (or against the wrong file) fails for
// one root cause, and `twokey verify-bundle` says which in one line — and, when no --trusted-root was given, which
// flag fixes it. Real bundles: GitHub's release attestation of gh 2.96.0 (GitHub's own instance) and the npm
// provenance of sigstore@2.1.0 (public-good).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readDeployReport } from '@twokey/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, makeCorpus } from '../../bench/corpus';
import { realdataRoot, repoRoot } from '../conformance/paths';
import { type CliResult, runCli } from '../conformance/run-cli';

const githubInstance = resolve(repoRoot, '..', 'shared', 'github-instance');
const RELEASE_ATTESTATION = join(githubInstance, 'release-attestation-gh-2.96.0.sigstore.json');
const GITHUB_ROOT = join(githubInstance, 'trusted_root.json');
const NPM_PROVENANCE = join(realdataRoot, 'sigstore-js-2.1.0-bundle.json');
const PUBLIC_GOOD_ROOT = join(realdataRoot, 'trusted_root.public-good.json');

/** The digests the bundles are about: gh 2.96.0's checksums file, and the sigstore@2.1.0 tarball. */
const ARTIFACT: Record<string, string> = {
  [RELEASE_ATTESTATION]: 'sha256:fc046371efa250e2875208341a786a35a01717d5eebec6903e199a9b8a3f3565',
  [NPM_PROVENANCE]:
    'sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f',
};

function verifyBundle(bundle: string, identity: string, issuer: string, ...extra: string[]): Promise<CliResult> {
  const signer = ['--certificate-identity', identity, '--certificate-oidc-issuer', issuer];
  return runCli(['verify-bundle', '--bundle', bundle, ...signer, ...extra, ARTIFACT[bundle]!], repoRoot);
}

/** Exit 1, nothing on stdout, and this one line. */
function expectRefusalLine(result: CliResult, line: string): void {
  expect(result.status, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(`${line}\n`);
}

describe('a bundle that chains to no authority of the trusted root', () => {
  it('against the embedded public-good root: the root cause, and the hint to pass --trusted-root', async () => {
    const result = await verifyBundle(RELEASE_ATTESTATION, 'https://dotcom.releases.github.com', 'x');
    expectRefusalLine(
      result,
      `error CERTIFICATE_CHAIN_UNTRUSTED: ${RELEASE_ATTESTATION}: the signing certificate (issued by O=GitHub\\, Inc., CN=Fulcio Intermediate l1) chains to no certificate authority of the public-good trusted root — pass --trusted-root github for GitHub's instance (private repositories), or --trusted-root FILE for another`,
    );
  });

  it('against a --trusted-root of another instance: the root cause naming that file, no hint to pass it again', async () => {
    const result = await verifyBundle(
      RELEASE_ATTESTATION,
      'https://dotcom.releases.github.com',
      'x',
      '--trusted-root',
      PUBLIC_GOOD_ROOT,
    );
    expectRefusalLine(
      result,
      `error CERTIFICATE_CHAIN_UNTRUSTED: ${RELEASE_ATTESTATION}: the signing certificate (issued by O=GitHub\\, Inc., CN=Fulcio Intermediate l1) chains to no certificate authority of the trusted root ${PUBLIC_GOOD_ROOT}`,
    );
    const publicGood = await verifyBundle(
      NPM_PROVENANCE,
      'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
      'https://token.actions.githubusercontent.com',
      '--trusted-root',
      GITHUB_ROOT,
    );
    expectRefusalLine(
      publicGood,
      `error CERTIFICATE_CHAIN_UNTRUSTED: ${NPM_PROVENANCE}: the signing certificate (issued by O=sigstore.dev, CN=sigstore-intermediate) chains to no certificate authority of the trusted root ${GITHUB_ROOT}`,
    );
  });

  it('a bundle the root did issue keeps its own cause: a wrong signer is an identity mismatch, with no hint', async () => {
    const result = await verifyBundle(
      NPM_PROVENANCE,
      'https://github.com/sigstore/sigstore-js-fork/.github/workflows/release.yml@refs/heads/main',
      'https://token.actions.githubusercontent.com',
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error IDENTITY_MISMATCH: /);
    expect(result.stderr).not.toContain('--trusted-root');
  });
});

describe('twokey verify over bundles of another instance: one line per root cause, with the hint', () => {
  let corpus: Corpus;
  let dir: string;
  let policy: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twokey-hint-'));
    corpus = await makeCorpus(dir, 2);
    // The same policy without deploy.trusted-root: the bundles are then checked against the public-good root.
    policy = join(dir, 'policy-public-good.yml');
    const text = readFileSync(corpus.policy, 'utf8');
    writeFileSync(policy, text.replace(/^deploy:\n {2}trusted-root: .*\n/m, ''));
    expect(readFileSync(policy, 'utf8')).not.toContain('trusted-root');
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const argv = (...extra: string[]) => [
    'verify',
    ...corpus.artifacts.map((a) => a.path),
    '--policy',
    policy,
    '--bundle',
    corpus.bundlesDir,
    '--repo',
    'acme/app',
    ...extra,
  ];

  it('says the cause once for six bundles, names them, and says which flag fixes it', async () => {
    const result = await runCli(argv(), dir);
    expect(result.status, result.stderr).toBe(1);
    const lines = result.stdout.split('\n');
    const cause = lines.filter((l) => l.includes('chains to no certificate authority of the public-good trusted root'));
    // The rejected-bundles section has one line for the cause; each failed check of each artifact says it once.
    const section = lines.slice(lines.indexOf('bundles that did not verify (never used as evidence), by cause:'));
    expect(section[1]).toMatch(
      /^ {2}CERTIFICATE_CHAIN_UNTRUSTED, 6 bundles: the signing certificate \(issued by CN=sigstore, O=sigstore\.mock\) chains to no certificate authority of the public-good trusted root$/,
    );
    expect(section[2]).toMatch(/^ {4}\S+\.sigstore\.json, .* and 1 more$/);
    expect(section[3]).toContain('hint: ');
    expect(section[3]).toContain('github for GitHub’s');
    expect(section[3]).toContain('--trusted-root');
    expect(section.filter((l) => l.includes('hint: '))).toHaveLength(1);
    for (const line of cause.filter((l) => l.includes('✗'))) {
      expect(line).toContain('6 bundles did not verify (the signing certificate');
      expect(line.match(/did not verify/g)).toHaveLength(1);
    }
    expect(result.stdout.length).toBeLessThan(6_000);
  });

  it('gives each bundle with its reason, without the file name repeated, in --json', async () => {
    const result = await runCli(argv('--json'), dir);
    expect(result.status, result.stderr).toBe(1);
    const report = readDeployReport(result.stdout, 'twokey verify --json');
    expect(report.rejected).toHaveLength(6);
    for (const r of report.rejected) {
      expect(r.code).toBe('CERTIFICATE_CHAIN_UNTRUSTED');
      expect(r.reason).toMatch(/^the signing certificate \(issued by CN=sigstore, O=sigstore\.mock\) chains to no/);
    }
  });

  it('verifies every bundle once the instance’s trusted root is given with --trusted-root', async () => {
    const result = await runCli(argv('--trusted-root', corpus.trustedRoot), dir);
    // The corpus forges its last artifact's signature (bench/corpus.ts): that one stays refused, for that reason.
    const forged = corpus.artifacts.filter((a) => a.forged);
    expect(forged).toHaveLength(1);
    expect(result.status, result.stdout).toBe(1);
    expect(result.stdout).toContain(`ACCEPTED app-0000.tar.gz`);
    expect(result.stdout).toContain(`REFUSED  ${forged[0]!.name}`);
    expect(result.stdout).not.toContain('chains to no certificate authority');
    expect(result.stdout).toContain('TLOG_INVALID, 1 bundle: digest mismatch');
  });
});
