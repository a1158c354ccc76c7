import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BundleVerifier,
  type ExpectedIdentity,
  type KeylessSigningOptions,
  parseBundleJSON,
  SigningError,
  signArtifact,
  signStatement,
  trustedRootFromJSON,
} from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SHA = 'a'.repeat(40);
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA);
const BUILD_IDENTITY: ExpectedIdentity = {
  san: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};

let stack: SigstoreStack;
let issuer: OidcIssuer;
let verifier: BundleVerifier;
let options: KeylessSigningOptions;
let artifactPath: string;
let artifactHex: string;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  verifier = new BundleVerifier(trustedRootFromJSON(stack.trustedRoot, 'testkit'));
  options = {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'twokey-sign-'));
  artifactPath = join(dir, 'app.tar.gz');
  writeFileSync(artifactPath, 'the artifact\n');
  artifactHex = createHash('sha256').update('the artifact\n').digest('hex');
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

function statementFor(hex: string) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app.tar.gz', digest: { sha256: hex } }],
    predicateType: 'https://example.com/test/v1',
    predicate: {},
  };
}

describe('keyless signing against the loopback Sigstore', () => {
  it('signs a statement as a v0.3 DSSE bundle that verifies under the build identity', async () => {
    const bundle = await signStatement(statementFor(artifactHex), options);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.dsseEnvelope?.payloadType).toBe('application/vnd.in-toto+json');
    expect(bundle.verificationMaterial.tlogEntries[0]?.kindVersion?.kind).toBe('intoto');
    const verified = verifier.verify(parseBundleJSON(bundle, 'statement'), {
      artifact: { file: artifactPath },
      identity: BUILD_IDENTITY,
    });
    expect(verified.kind).toBe('dsse');
    expect(verified.signer.extensions.sourceRepositoryDigest).toBe(SHA);
    expect(verified.signer.extensions.buildSignerURI).toBe(BUILD_IDENTITY.san);
    expect(verified.signer.extensions.runInvocationURI).toBe(
      `https://github.com/acme/app/actions/runs/${build.run_id}/attempts/1`,
    );
    expect(verified.signedAt).toHaveLength(2);
  });

  it('signs an artifact file as a message signature over its streamed sha256', async () => {
    const bundle = await signArtifact({ file: artifactPath }, options);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(Buffer.from(bundle.messageSignature!.messageDigest!.digest, 'base64').toString('hex')).toBe(artifactHex);
    const verified = verifier.verify(parseBundleJSON(bundle, 'artifact'), {
      artifact: { file: artifactPath },
      identity: BUILD_IDENTITY,
    });
    expect(verified.messageDigest).toEqual({ algorithm: 'sha256', hex: artifactHex });
  });

  it('signs a digest without the file, and the signature does not verify for other bytes', async () => {
    const bundle = await signArtifact({ digest: { algorithm: 'sha256', hex: artifactHex } }, options);
    const parsed = parseBundleJSON(bundle, 'digest');
    expect(verifier.verify(parsed, { artifact: { file: artifactPath }, identity: BUILD_IDENTITY }).kind).toBe(
      'message-signature',
    );
    const other = createHash('sha256').update('other bytes\n').digest('hex');
    expect(() =>
      verifier.verify(parsed, { artifact: { digest: { algorithm: 'sha256', hex: other } }, identity: BUILD_IDENTITY }),
    ).toThrow(expect.objectContaining({ code: 'ARTIFACT_MISMATCH' }));
  });

  it('refuses to sign without an identity token, naming why', async () => {
    const failing = { ...options, identityToken: () => Promise.reject(new Error('no id-token permission')) };
    await expect(signStatement(statementFor(artifactHex), failing)).rejects.toThrow(
      expect.objectContaining({ code: 'OIDC_TOKEN_UNAVAILABLE', message: expect.stringContaining('no id-token') }),
    );
  });

  it('reports a token Fulcio refuses (forged: not signed by the issuer) as a certificate request failure', async () => {
    const other = await startOidcIssuer();
    try {
      const forged = { ...options, identityToken: () => other.mint(build, { audience: 'sigstore' }) };
      const error = await signStatement(statementFor(artifactHex), forged).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SigningError);
      expect(error).toMatchObject({ code: 'CERTIFICATE_REQUEST_FAILED' });
      expect((error as Error).message).toContain('HTTP 401');
    } finally {
      await other.close();
    }
  });

  it('refuses a sha512 digest: the signing key signs SHA-256 digests', async () => {
    await expect(
      signArtifact({ digest: { algorithm: 'sha512', hex: 'ab'.repeat(64) } }, options),
    ).rejects.toMatchObject({ code: 'DIGEST_UNSUPPORTED' });
  });
});
