// The build step in-process, as actions/build runs it (buildStep with a plain record, no environment variables): the
// build job's token from the loopback OIDC issuer, the loopback Sigstore stack. The bundled action itself runs in
// build-action.test.ts.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeMarkdown, parseProvenance, SLSA_PROVENANCE_V1_PREDICATE_TYPE, type SubjectInputs } from '@twokey/core';
import { buildStep, evidenceDirectory, requestIdToken, type StepOutcome } from '@twokey/github';
import { BundleVerifier, loadTrustedRoot, readBundleFile } from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyBundleCli } from '../conformance/run-cli';

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

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

interface BuildRun {
  outcome: StepOutcome;
  runnerTemp: string;
}

/**
 * The build step as the build job runs it: its identity, the loopback Sigstore; without `oidc`, the token is
 * requested from the runner exactly as actions/build does, in a job that has no `id-token: write`.
 */
async function runBuild(subject: Partial<SubjectInputs>, options: { oidc?: boolean } = {}): Promise<BuildRun> {
  const runnerTemp = mkdtempSync(join(tmpdir(), 'twokey-runner-'));
  const outcome = await buildStep({
    subjectPath: '',
    subjectDigest: '',
    subjectName: '',
    subjectChecksums: '',
    ...subject,
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    workspace,
    outputDirectory: runnerTemp,
    serverUrl: 'https://github.com',
    identityToken:
      options.oidc === false ? () => requestIdToken('sigstore') : () => issuer.mint(build, { audience: 'sigstore' }),
  });
  return { outcome, runnerTemp };
}

function signed(run: BuildRun): string {
  expect(run.outcome.failure, run.outcome.summary).toBeUndefined();
  return run.outcome.outputs['bundle-path']!;
}

function verifyBundle(bundlePath: string, artifact: string, san = BUILD_SAN) {
  return verifyBundleCli(bundlePath, artifact, { san, issuer: ISSUER, trustedRoot: stack.trustedRootPath }, workspace);
}

function statementOf(bundlePath: string): unknown {
  const json = JSON.parse(readFileSync(bundlePath, 'utf8'));
  expect(json.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
  return JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
}

function bundlesIn(run: BuildRun): string[] {
  const directory = evidenceDirectory(run.runnerTemp);
  return existsSync(directory) ? readdirSync(directory) : [];
}

describe('the build action', () => {
  it('signs SLSA provenance for every artifact; twokey verify-bundle accepts it under the build identity', async () => {
    const run = await runBuild({ subjectPath: 'dist/*.tar.gz' });
    const bundlePath = signed(run);
    expect(bundlePath.startsWith(evidenceDirectory(run.runnerTemp))).toBe(true);

    const expected = Object.entries(artifacts)
      .map(([name, hex]) => ({ name, digest: { sha256: hex } }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(JSON.parse(run.outcome.outputs.subjects!)).toEqual(expected);

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
    const verified = verifier.verify(readBundleFile(bundlePath), { identity: { san: BUILD_SAN, issuer: ISSUER } });
    expect(verified.signer.san).toBe(BUILD_SAN);
    expect(verified.signer.extensions.sourceRepositoryDigest).toBe(provenance.commit);
    expect(verified.signer.extensions.sourceRepositoryURI).toBe('https://github.com/acme/app');
    expect((verified.statement as { predicateType: string }).predicateType).toBe(SLSA_PROVENANCE_V1_PREDICATE_TYPE);

    expect(run.outcome.errors).toEqual([]);
    expect(run.outcome.summary).toContain('## twokey build: provenance signed');
    expect(run.outcome.summary).toContain(`Signed by <code>${escapeMarkdown(BUILD_SAN)}</code>`);
    expect(run.outcome.summary).toContain(
      `| <code>app-linux-amd64.tar.gz</code> | <code>sha256:${artifacts['app-linux-amd64.tar.gz']}</code> |`,
    );
  });

  it('is refused by verify-bundle for any other identity (the sign workflow did not sign this)', async () => {
    const bundlePath = signed(await runBuild({ subjectPath: 'dist/app-linux-amd64.tar.gz' }));
    const result = await verifyBundle(bundlePath, 'dist/app-linux-amd64.tar.gz', SIGN_SAN);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('IDENTITY_MISMATCH');
  });

  it('a byte changed in an artifact after the build makes its verification fail', async () => {
    const bundlePath = signed(await runBuild({ subjectPath: 'dist/app-linux-amd64.tar.gz' }));
    const tampered = join(mkdtempSync(join(tmpdir(), 'twokey-tampered-')), 'app-linux-amd64.tar.gz');
    copyFileSync(join(workspace, 'dist', 'app-linux-amd64.tar.gz'), tampered);
    const bytes = readFileSync(tampered);
    bytes[10] = bytes[10]! ^ 0x01;
    writeFileSync(tampered, bytes);

    const result = await verifyBundle(bundlePath, tampered);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ARTIFACT_MISMATCH');
    expect((await verifyBundle(bundlePath, 'dist/app-linux-amd64.tar.gz')).status).toBe(0);
  });

  it('attests a digest given with subject-digest and subject-name', async () => {
    const hex = artifacts['app-darwin-arm64.tar.gz']!;
    const run = await runBuild({ subjectDigest: `sha256:${hex}`, subjectName: 'app-darwin-arm64.tar.gz' });
    const bundlePath = signed(run);
    expect(JSON.parse(run.outcome.outputs.subjects!)).toEqual([
      { name: 'app-darwin-arm64.tar.gz', digest: { sha256: hex } },
    ]);
    expect((await verifyBundle(bundlePath, `sha256:${hex}`)).status).toBe(0);
  });

  it('attests the artifacts listed in a sha256sum checksums file', async () => {
    const lines = Object.entries(artifacts).map(([name, hex]) => `${hex}  ${name}`);
    writeFileSync(join(workspace, 'SHA256SUMS'), `${lines.join('\n')}\n`);
    const bundlePath = signed(await runBuild({ subjectChecksums: 'SHA256SUMS' }));
    expect(parseProvenance(statementOf(bundlePath)).subjects).toEqual(
      Object.entries(artifacts).map(([name, hex]) => ({ name, digest: { sha256: hex } })),
    );
  });
});

describe('the build action refuses, says what to do, and signs nothing', () => {
  /** The step failed with `code`, naming each phrase; the summary says so; no bundle exists or was signed. */
  async function expectRefusal(run: Promise<BuildRun>, code: string, ...phrases: string[]): Promise<BuildRun> {
    const certified = stack.presentedTokens.length;
    const result = await run;
    expect(result.outcome.failure?.startsWith(`${code}: `), result.outcome.failure).toBe(true);
    for (const phrase of phrases) expect(result.outcome.failure).toContain(phrase);
    expect(result.outcome.summary).toContain('## twokey build: nothing signed');
    expect(result.outcome.summary).toContain(`<pre>${code}: `);
    expect(result.outcome.outputs['bundle-path']).toBeUndefined();
    expect(bundlesIn(result)).toEqual([]);
    expect(stack.presentedTokens.length).toBe(certified);
    return result;
  }

  it('without id-token: write, names the permission and the line to add', async () => {
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', '');
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', '');
    await expectRefusal(
      runBuild({ subjectPath: 'dist/*.tar.gz' }, { oidc: false }),
      'OIDC_PERMISSION_MISSING',
      'id-token: write',
      'permissions:',
    );
  });

  it('when no file matches a pattern, even if another pattern matches', async () => {
    await expectRefusal(
      runBuild({ subjectPath: 'dist/app-linux-amd64.tar.gz\ndist/*.zip' }),
      'NO_SUBJECT_MATCHED',
      '"dist/*.zip"',
    );
  });

  it('when a checksums line does not parse, naming the file and the line', async () => {
    const hex = artifacts['app-linux-amd64.tar.gz']!;
    writeFileSync(join(workspace, 'BAD-SUMS'), `${hex}  app-linux-amd64.tar.gz\nnot-a-digest  app.tar.gz\n`);
    await expectRefusal(
      runBuild({ subjectChecksums: 'BAD-SUMS' }),
      'CHECKSUMS_LINE_INVALID',
      'BAD-SUMS: line 2',
      'not-a-digest  app.tar.gz',
    );
  });

  it('with more than 1024 subjects, from paths or from a checksums file', async () => {
    const many = join(workspace, 'many');
    mkdirSync(many);
    for (let i = 0; i < 1025; i++) writeFileSync(join(many, `part-${i}.bin`), `${i}`);
    await expectRefusal(runBuild({ subjectPath: 'many/*.bin' }), 'TOO_MANY_SUBJECTS', '1025 subjects', 'at most 1024');

    const lines = Array.from({ length: 1025 }, (_, i) => `${sha256(String(i))}  part-${i}.bin`);
    writeFileSync(join(workspace, 'MANY-SUMS'), `${lines.join('\n')}\n`);
    await expectRefusal(runBuild({ subjectChecksums: 'MANY-SUMS' }), 'TOO_MANY_SUBJECTS', '1025 subjects');
  });

  it('when a matched file cannot be read, naming it', async () => {
    // /proc/self/mem opens but every read at offset 0 fails (EIO), even as root: a file the job cannot read.
    await expectRefusal(
      runBuild({ subjectPath: 'dist/app-linux-amd64.tar.gz, /proc/self/mem' }),
      'SUBJECT_UNREADABLE',
      '/proc/self/mem',
    );
  });

  it('when the checksums file cannot be read, naming it', async () => {
    await expectRefusal(runBuild({ subjectChecksums: 'NO-SUCH-SUMS' }), 'SUBJECT_UNREADABLE', 'NO-SUCH-SUMS');
  });

  it('without any subject input, or with a digest but no name', async () => {
    await expectRefusal(runBuild({}), 'SUBJECT_INPUT_MISSING', 'subject-path');
    await expectRefusal(
      runBuild({ subjectDigest: `sha256:${artifacts['app-linux-amd64.tar.gz']}` }),
      'SUBJECT_NAME_MISSING',
    );
  });
});
