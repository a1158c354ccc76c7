import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseProvenance, SLSA_PROVENANCE_V1_PREDICATE_TYPE } from '@twokey/core';
import { BundleVerifier, loadTrustedRoot, readBundleFile } from '@twokey/sigstore';
import {
  type ActionRun,
  identity,
  type OidcIssuer,
  runAction,
  type SigstoreStack,
  startOidcIssuer,
  startSigstoreStack,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundleCli } from '../conformance/run-cli';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const BUILD_ACTION = join(repoRoot, 'actions', 'build');
const ISSUER = 'https://token.actions.githubusercontent.com';
const COMMIT = '5e1f0c2d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d';
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', COMMIT);
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_SAN = 'https://github.com/acme/app/.github/workflows/sign.yml@refs/heads/main';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let workspace: string;
const artifacts: Record<string, string> = {};

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  workspace = mkdtempSync(join(tmpdir(), 'twokey-build-ws-'));
  mkdirSync(join(workspace, 'dist'));
  for (const name of ['app-linux-amd64.tar.gz', 'app-darwin-arm64.tar.gz']) {
    const bytes = `${name} contents ${'x'.repeat(1000)}\n`;
    writeFileSync(join(workspace, 'dist', name), bytes);
    artifacts[name] = sha256(bytes);
  }
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

/** Runs the build action as the build job: its identity, id-token: write, the loopback Sigstore. */
function runBuild(inputs: Record<string, string>, options: { oidc?: boolean } = {}): Promise<ActionRun> {
  return runAction(BUILD_ACTION, {
    with: { 'fulcio-url': stack.fulcioURL, 'rekor-url': stack.rekorURL, 'tsa-url': stack.tsaURL, ...inputs },
    identity: build,
    oidc: options.oidc === false ? undefined : issuer,
    workspace,
  });
}

function verifyBundle(bundlePath: string, artifact: string, san = BUILD_SAN) {
  return verifyBundleCli(bundlePath, artifact, { san, issuer: ISSUER, trustedRoot: stack.trustedRootPath }, workspace);
}

function statementOf(bundlePath: string): unknown {
  const json = JSON.parse(readFileSync(bundlePath, 'utf8'));
  expect(json.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
  return JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
}

function bundlesIn(run: ActionRun): string[] {
  const directory = join(run.runnerTemp, 'twokey');
  return existsSync(directory) ? readdirSync(directory) : [];
}

describe('the build action', () => {
  it('signs SLSA provenance for every artifact; twokey verify-bundle accepts it under the build identity', async () => {
    const run = await runBuild({ 'subject-path': 'dist/*.tar.gz' });
    expect(run.exitCode, run.log).toBe(0);
    const bundlePath = run.outputs['bundle-path']!;
    expect(bundlePath.startsWith(run.runnerTemp)).toBe(true);

    const expected = Object.entries(artifacts)
      .map(([name, hex]) => ({ name, digest: { sha256: hex } }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(JSON.parse(run.outputs.subjects!)).toEqual(expected);

    const provenance = parseProvenance(statementOf(bundlePath));
    expect(provenance.subjects).toEqual(expected);
    expect(provenance).toMatchObject({
      repository: 'acme/app',
      commit: COMMIT,
      ref: 'refs/heads/main',
      builderId: BUILD_SAN,
      workflow: {
        repository: 'https://github.com/acme/app',
        path: '.github/workflows/build.yml',
        ref: 'refs/heads/main',
      },
      invocationId: `https://github.com/acme/app/actions/runs/${build.run_id}/attempts/1`,
    });

    for (const name of Object.keys(artifacts)) {
      const verified = await verifyBundle(bundlePath, join('dist', name));
      expect(verified.status, verified.stderr).toBe(0);
    }

    // The certificate binds the same commit the provenance names.
    const verifier = new BundleVerifier(loadTrustedRoot(stack.trustedRootPath));
    const signed = verifier.verify(readBundleFile(bundlePath), { identity: { san: BUILD_SAN, issuer: ISSUER } });
    expect(signed.signer.san).toBe(BUILD_SAN);
    expect(signed.signer.extensions.sourceRepositoryDigest).toBe(provenance.commit);
    expect(signed.signer.extensions.sourceRepositoryURI).toBe('https://github.com/acme/app');
    expect((signed.statement as { predicateType: string }).predicateType).toBe(SLSA_PROVENANCE_V1_PREDICATE_TYPE);

    expect(run.summary).toContain('provenance signed');
    expect(run.summary).toContain(BUILD_SAN);
  });

  it('is refused by verify-bundle for any other identity (the sign workflow did not sign this)', async () => {
    const run = await runBuild({ 'subject-path': 'dist/app-linux-amd64.tar.gz' });
    expect(run.exitCode, run.log).toBe(0);
    const result = await verifyBundle(run.outputs['bundle-path']!, 'dist/app-linux-amd64.tar.gz', SIGN_SAN);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('IDENTITY_MISMATCH');
  });

  it('a byte changed in an artifact after the build makes its verification fail', async () => {
    const run = await runBuild({ 'subject-path': 'dist/app-linux-amd64.tar.gz' });
    expect(run.exitCode, run.log).toBe(0);
    const tampered = join(mkdtempSync(join(tmpdir(), 'twokey-tampered-')), 'app-linux-amd64.tar.gz');
    copyFileSync(join(workspace, 'dist', 'app-linux-amd64.tar.gz'), tampered);
    const bytes = readFileSync(tampered);
    bytes[10] = bytes[10]! ^ 0x01;
    writeFileSync(tampered, bytes);

    const result = await verifyBundle(run.outputs['bundle-path']!, tampered);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ARTIFACT_MISMATCH');
    expect((await verifyBundle(run.outputs['bundle-path']!, 'dist/app-linux-amd64.tar.gz')).status).toBe(0);
  });

  it('attests a digest given with subject-digest and subject-name', async () => {
    const hex = artifacts['app-darwin-arm64.tar.gz']!;
    const run = await runBuild({ 'subject-digest': `sha256:${hex}`, 'subject-name': 'app-darwin-arm64.tar.gz' });
    expect(run.exitCode, run.log).toBe(0);
    expect(JSON.parse(run.outputs.subjects!)).toEqual([{ name: 'app-darwin-arm64.tar.gz', digest: { sha256: hex } }]);
    expect((await verifyBundle(run.outputs['bundle-path']!, `sha256:${hex}`)).status).toBe(0);
  });

  it('attests the artifacts listed in a sha256sum checksums file', async () => {
    const lines = Object.entries(artifacts).map(([name, hex]) => `${hex}  ${name}`);
    writeFileSync(join(workspace, 'SHA256SUMS'), `${lines.join('\n')}\n`);
    const run = await runBuild({ 'subject-checksums': 'SHA256SUMS' });
    expect(run.exitCode, run.log).toBe(0);
    expect(parseProvenance(statementOf(run.outputs['bundle-path']!)).subjects).toEqual(
      Object.entries(artifacts).map(([name, hex]) => ({ name, digest: { sha256: hex } })),
    );
  });

  it('hashes a 2.5 GiB artifact streaming, and its provenance verifies against the file', async () => {
    // Sparse, so it costs no disk; over 2 GiB, so a whole-file read (fs.readFile) could not even hold it.
    const big = join(workspace, 'big', 'disk.img');
    mkdirSync(dirname(big));
    const fd = openSync(big, 'w');
    writeSync(fd, Buffer.from('end'), 0, 3, 2.5 * 1024 ** 3);
    closeSync(fd);
    try {
      const run = await runBuild({ 'subject-path': 'big/disk.img' });
      expect(run.exitCode, run.log).toBe(0);
      const [subject] = JSON.parse(run.outputs.subjects!);
      expect(subject.name).toBe('disk.img');
      // Sampled every 50 ms over seconds of hashing: a whole-file read would show gigabytes here.
      expect(run.peakRssBytes).toBeGreaterThan(0);
      expect(run.peakRssBytes).toBeLessThan(512 * 1024 ** 2);
      const result = await verifyBundle(run.outputs['bundle-path']!, big);
      expect(result.status, result.stderr).toBe(0);
    } finally {
      rmSync(dirname(big), { recursive: true, force: true });
    }
  }, 120_000);

  it('repeats the whole flow 20 times without a flake', async () => {
    for (let i = 0; i < 20; i++) {
      const run = await runBuild({ 'subject-path': 'dist/app-linux-amd64.tar.gz' });
      expect(run.exitCode, `run ${i}: ${run.log}`).toBe(0);
      const result = await verifyBundle(run.outputs['bundle-path']!, 'dist/app-linux-amd64.tar.gz');
      expect(result.status, `run ${i}: ${result.stderr}`).toBe(0);
    }
  }, 180_000);
});

describe('the build action refuses, says what to do, and signs nothing', () => {
  /** The run failed with `code`, the message is in the log and the summary, and no bundle exists or was signed. */
  async function expectRefusal(run: Promise<ActionRun>, code: string, ...phrases: string[]): Promise<ActionRun> {
    const certified = stack.presentedTokens.length;
    const result = await run;
    expect(result.exitCode, result.log).not.toBe(0);
    expect(result.log).toContain(`::error::${code}: `);
    expect(result.summary).toContain('nothing signed');
    for (const phrase of phrases) expect(result.summary).toContain(phrase);
    expect(result.outputs['bundle-path']).toBeUndefined();
    expect(bundlesIn(result)).toEqual([]);
    expect(stack.presentedTokens.length).toBe(certified);
    return result;
  }

  it('without id-token: write, names the permission and the line to add', async () => {
    await expectRefusal(
      runBuild({ 'subject-path': 'dist/*.tar.gz' }, { oidc: false }),
      'OIDC_PERMISSION_MISSING',
      'id-token: write',
      'permissions:',
    );
  });

  it('when no file matches a pattern, even if another pattern matches', async () => {
    await expectRefusal(
      runBuild({ 'subject-path': 'dist/app-linux-amd64.tar.gz\ndist/*.zip' }),
      'NO_SUBJECT_MATCHED',
      '"dist/*.zip"',
    );
  });

  it('when a checksums line does not parse, naming the file and the line', async () => {
    const hex = artifacts['app-linux-amd64.tar.gz']!;
    writeFileSync(join(workspace, 'BAD-SUMS'), `${hex}  app-linux-amd64.tar.gz\nnot-a-digest  app.tar.gz\n`);
    await expectRefusal(
      runBuild({ 'subject-checksums': 'BAD-SUMS' }),
      'CHECKSUMS_LINE_INVALID',
      'BAD-SUMS: line 2',
      'not-a-digest  app.tar.gz',
    );
  });

  it('with more than 1024 subjects, from paths or from a checksums file', async () => {
    const many = join(workspace, 'many');
    mkdirSync(many);
    for (let i = 0; i < 1025; i++) writeFileSync(join(many, `part-${i}.bin`), `${i}`);
    await expectRefusal(
      runBuild({ 'subject-path': 'many/*.bin' }),
      'TOO_MANY_SUBJECTS',
      '1025 subjects',
      'at most 1024',
    );

    const lines = Array.from({ length: 1025 }, (_, i) => `${sha256(String(i))}  part-${i}.bin`);
    writeFileSync(join(workspace, 'MANY-SUMS'), `${lines.join('\n')}\n`);
    await expectRefusal(runBuild({ 'subject-checksums': 'MANY-SUMS' }), 'TOO_MANY_SUBJECTS', '1025 subjects');
  });

  it('when a matched file cannot be read, naming it', async () => {
    // /proc/self/mem opens but every read at offset 0 fails (EIO), even as root: a file the job cannot read.
    await expectRefusal(
      runBuild({ 'subject-path': 'dist/app-linux-amd64.tar.gz, /proc/self/mem' }),
      'SUBJECT_UNREADABLE',
      '/proc/self/mem',
    );
  });

  it('when the checksums file cannot be read, naming it', async () => {
    await expectRefusal(runBuild({ 'subject-checksums': 'NO-SUCH-SUMS' }), 'SUBJECT_UNREADABLE', 'NO-SUCH-SUMS');
  });

  it('without any subject input, or with a digest but no name', async () => {
    await expectRefusal(runBuild({}), 'SUBJECT_INPUT_MISSING', 'subject-path');
    await expectRefusal(
      runBuild({ 'subject-digest': `sha256:${artifacts['app-linux-amd64.tar.gz']}` }),
      'SUBJECT_NAME_MISSING',
    );
  });
});
