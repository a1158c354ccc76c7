// `npm run test:slow` (CI runs it after `npm test`): what costs minutes, not what is rare. Artifacts over 2 GiB signed
// and built streaming, in bounded memory; the whole signing and build flows repeated 20 times against the loopback
// stack (the TSA clock, the log, the certificate authority) without a flake.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseProvenance } from '@twokey/core';
import { buildStep } from '@twokey/github';
import {
  BundleVerifier,
  type ExpectedIdentity,
  type KeylessSigningOptions,
  loadTrustedRoot,
  parseBundleJSON,
  readBundleFile,
  signArtifact,
  signStatement,
} from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const COMMIT = '5e1f0c2d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d';
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', COMMIT);
const BUILD: ExpectedIdentity = {
  san: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};
/** `sha256sum` of a sparse file of 2.5 GiB of zeros followed by `end`. */
const BIG_SHA256 = '10a19d4566494c8d4fb38c65e835f4ee51c7f5a788a891cc90fbc63dd7ceb97b';

let stack: SigstoreStack;
let issuer: OidcIssuer;
let verifier: BundleVerifier;
let options: KeylessSigningOptions;
let workspace: string;
let artifactPath: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  verifier = new BundleVerifier(loadTrustedRoot(stack.trustedRootPath));
  options = {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  };
  workspace = mkdtempSync(join(tmpdir(), 'twokey-slow-'));
  artifactPath = join(workspace, 'app.tar.gz');
  writeFileSync(artifactPath, 'the artifact\n');
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** A sparse file of 2.5 GiB: no disk, and over 2 GiB, so a whole-file read (fs.readFile) could not even hold it. */
function bigFile(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.from('end'), 0, 3, 2.5 * 1024 ** 3);
  closeSync(fd);
  return path;
}

function buildOnce(subjectPath: string) {
  return buildStep({
    subjectPath,
    subjectDigest: '',
    subjectName: '',
    subjectChecksums: '',
    endpoints: options.endpoints,
    workspace,
    outputDirectory: mkdtempSync(join(tmpdir(), 'twokey-runner-')),
    serverUrl: 'https://github.com',
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  });
}

describe('artifacts over 2 GiB, streaming', () => {
  it('signs a 2.5 GiB artifact without reading it into memory', async () => {
    const big = bigFile(join(workspace, 'sign', 'big.iso'));
    try {
      const before = process.memoryUsage().rss;
      const bundle = await signArtifact({ file: big }, options);
      expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 ** 2);
      const verified = verifier.verify(parseBundleJSON(bundle, 'big'), { artifact: { file: big }, identity: BUILD });
      expect(verified.messageDigest).toEqual({ algorithm: 'sha256', hex: BIG_SHA256 });
    } finally {
      rmSync(dirname(big), { recursive: true, force: true });
    }
  }, 300_000);

  it('builds a 2.5 GiB artifact: hashed streaming, and its provenance verifies against the file', async () => {
    const big = bigFile(join(workspace, 'big', 'disk.img'));
    try {
      const peakBefore = process.resourceUsage().maxRSS * 1024;
      const outcome = await buildOnce('big/disk.img');
      // This process's peak resident memory: a whole-file read would have raised it by gigabytes.
      expect(process.resourceUsage().maxRSS * 1024 - peakBefore).toBeLessThan(512 * 1024 ** 2);
      expect(outcome.failure, outcome.summary).toBeUndefined();
      expect(JSON.parse(outcome.outputs.subjects!)).toEqual([{ name: 'disk.img', digest: { sha256: BIG_SHA256 } }]);
      const verified = verifier.verify(readBundleFile(outcome.outputs['bundle-path']!), { identity: BUILD });
      expect(parseProvenance(verified.statement).subjects).toEqual(JSON.parse(outcome.outputs.subjects!));
    } finally {
      rmSync(dirname(big), { recursive: true, force: true });
    }
  }, 300_000);
});

describe('20 times in a row, without a flake', () => {
  it('signs and verifies a statement and an artifact (the TSA clock, the log)', async () => {
    const hex = createHash('sha256').update('the artifact\n').digest('hex');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'app.tar.gz', digest: { sha256: hex } }],
      predicateType: 'https://example.com/test/v1',
      predicate: {},
    };
    for (let i = 0; i < 20; i++) {
      const signed = await signStatement(statement, options);
      verifier.verify(parseBundleJSON(signed, `statement ${i}`), { artifact: { file: artifactPath }, identity: BUILD });
      const artifact = await signArtifact({ file: artifactPath }, options);
      verifier.verify(parseBundleJSON(artifact, `artifact ${i}`), {
        artifact: { file: artifactPath },
        identity: BUILD,
      });
    }
  }, 300_000);

  it('runs the whole build flow', async () => {
    for (let i = 0; i < 20; i++) {
      const outcome = await buildOnce('app.tar.gz');
      expect(outcome.failure, `run ${i}`).toBeUndefined();
      const verified = verifier.verify(readBundleFile(outcome.outputs['bundle-path']!), {
        identity: BUILD,
        artifact: { file: artifactPath },
      });
      expect(verified.signer.san, `run ${i}`).toBe(BUILD.san);
    }
  }, 300_000);
});
