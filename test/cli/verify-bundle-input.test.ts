// `twokey verify-bundle` as a user runs it (the built CLI, a subprocess): bad input is exit 2 with one line naming
// the error code and the file or field, never a stack trace; the real npm provenance of sigstore@2.1.0 verifies
// offline for its signer and is refused for a lookalike.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_BUNDLE_BYTES } from '@twokey/sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derElement } from '../canonical/evidence';
import { conformanceRoot, realdataRoot, repoRoot } from '../conformance/paths';
import { type CliResult, runCli } from '../conformance/run-cli';

const BUNDLE = join(realdataRoot, 'sigstore-js-2.1.0-bundle.json');
const SAN = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
// DIGESTS.txt: the tarball's sha512 is the in-toto subject digest; its sha256 is not in the statement.
const SHA512 =
  'sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f';
const SHA256 = 'sha256:f0c641fce0310cb43208f4272dc1423153630e44ba8cdc0b5ce8466f724e0eed';
/** The npm tarball of sigstore@2.1.0, as gh's test data carries it (byte-identical to `npm pack sigstore@2.1.0`). */
const TARBALL = join(conformanceRoot, 'gh-cli-attestation', 'pkg/cmd/attestation/test/data/sigstore-js-2.1.0.tgz');

let dir: string;

function twokey(...args: string[]): Promise<CliResult> {
  return runCli(['verify-bundle', ...args], repoRoot);
}

/** verify-bundle with the right signer, and the given bundle and artifact. */
function verify(bundle: string, artifact = SHA512, ...extra: string[]): Promise<CliResult> {
  return twokey(
    '--bundle',
    bundle,
    '--certificate-identity',
    SAN,
    '--certificate-oidc-issuer',
    ISSUER,
    ...extra,
    artifact,
  );
}

/** A usage or input error: exit 2, one line on stderr with the code and the file or field, no stack trace. */
function expectInputError(result: CliResult, code: string, ...named: string[]): void {
  const context = `${result.stdout}${result.stderr}`;
  expect(result.status, context).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at |Error:/);
  expect(result.stderr.trimEnd().split('\n'), context).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^error ${code}: `));
  for (const name of named) expect(result.stderr).toContain(name);
}

/** A usage error: exit 2, one `twokey:` line naming the flag, no stack trace. */
function expectUsageError(result: CliResult, ...named: string[]): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).toMatch(/^twokey: /);
  for (const name of named) expect(result.stderr).toContain(name);
}

/** A refusal: exit 1, one line with the code and what was expected versus found. */
function expectRefusal(result: CliResult, code: string, ...named: string[]): void {
  expect(result.status, `${result.stdout}${result.stderr}`).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^error ${code}: `));
  for (const name of named) expect(result.stderr).toContain(name);
}

/** The fields of the real bundle the tests change. */
interface BundleJSON {
  mediaType: string;
  verificationMaterial: { certificate: { rawBytes: string } };
  dsseEnvelope: { signatures: { sig: string }[] };
}

/** The real bundle with one field changed, written to the temp dir. */
function mutatedBundle(name: string, mutate: (bundle: BundleJSON) => void): string {
  const bundle = JSON.parse(readFileSync(BUNDLE, 'utf8')) as BundleJSON;
  mutate(bundle);
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(bundle));
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twokey-verify-bundle-input-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('twokey verify-bundle: the real npm provenance of sigstore@2.1.0', () => {
  it('verifies by sha512 digest, offline, and prints the signer', async () => {
    const result = await verify(BUNDLE);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Verified OK: ${BUNDLE}`);
    expect(result.stdout).toContain(`Identity (SAN):     ${SAN}`);
    expect(result.stdout).toContain(`OIDC issuer:        ${ISSUER}`);
    expect(result.stdout).toContain('Source repository:  https://github.com/sigstore/sigstore-js');
    expect(result.stdout).toContain('Source digest:      26d16513386ffaa790b1c32f927544f1322e4194');
    expect(result.stdout).toContain('Source ref:         refs/heads/main');
    expect(result.stdout).toContain(`Build signer URI:   ${SAN}`);
    expect(result.stdout).toContain(
      'Run invocation URI: https://github.com/sigstore/sigstore-js/actions/runs/6014488666/attempts/1',
    );
    expect(result.stdout).toContain('Signed at:          2023-08-29T15:40:23.000Z');
  });

  it('verifies the tarball itself by path', async () => {
    const result = await verify(BUNDLE, TARBALL);
    expect(result.status, result.stderr).toBe(0);
  });

  it('verifies with an anchored identity pattern that covers the whole SAN', async () => {
    const result = await twokey(
      '--bundle',
      BUNDLE,
      '--certificate-identity-regexp',
      'https://github\\.com/sigstore/sigstore-js/\\.github/workflows/release\\.yml@refs/heads/.*',
      '--certificate-oidc-issuer',
      ISSUER,
      SHA512,
    );
    expect(result.status, result.stderr).toBe(0);
  });

  it.each([
    ['a -evil suffix on the ref', `${SAN}-evil`],
    ['a ref cut short (a prefix of the SAN)', SAN.slice(0, -1)],
    ['a fork of the repository', SAN.replace('sigstore/sigstore-js/', 'sigstore/sigstore-js-fork/')],
    ['the repository URL alone', 'https://github.com/sigstore/sigstore-js'],
  ])('refuses a lookalike identity: %s', async (_name, identity) => {
    const result = await twokey(
      '--bundle',
      BUNDLE,
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      ISSUER,
      SHA512,
    );
    expectRefusal(result, 'IDENTITY_MISMATCH', `expected identity ${identity}`, `found ${SAN}`);
  });

  it('refuses a pattern that only matches a prefix of the SAN (patterns are anchored)', async () => {
    const result = await twokey(
      '--bundle',
      BUNDLE,
      '--certificate-identity-regexp',
      'https://github.com/sigstore/',
      '--certificate-oidc-issuer',
      ISSUER,
      SHA512,
    );
    expectRefusal(result, 'IDENTITY_MISMATCH', '^(?:https://github.com/sigstore/)$');
  });

  it('refuses a lookalike issuer', async () => {
    const result = await twokey(
      '--bundle',
      BUNDLE,
      '--certificate-identity',
      SAN,
      '--certificate-oidc-issuer',
      `${ISSUER}.evil.example`,
      SHA512,
    );
    expectRefusal(result, 'ISSUER_MISMATCH', `found ${ISSUER}`);
  });

  it('refuses another artifact, and a digest the statement does not list (the tarball sha256)', async () => {
    const other = `sha512:${'0'.repeat(128)}`;
    expectRefusal(await verify(BUNDLE, other), 'ARTIFACT_MISMATCH', other);
    expectRefusal(await verify(BUNDLE, SHA256), 'ARTIFACT_MISMATCH', SHA256);
  });
});

describe.concurrent('twokey verify-bundle: the real npm provenance in another encoding is refused (exit 1)', () => {
  it("refuses its certificate with the signature's unused-bits byte set (OpenSSL refuses it; it read as Verified OK)", async () => {
    const path = mutatedBundle('unused-bits.json', (b) => {
      const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
      // SEQUENCE { tbsCertificate, signatureAlgorithm, BIT STRING { unused bits, signature } }
      const tbsEnd = derElement(der, derElement(der).header).end;
      const signatureStart = derElement(der, tbsEnd).end;
      der[signatureStart + derElement(der, signatureStart).header] = 0x01;
      b.verificationMaterial.certificate.rawBytes = der.toString('base64');
    });
    expectRefusal(await verify(path), 'CERTIFICATE_NOT_DER', path, 'verificationMaterial.certificate');
  });

  it('refuses it relabelled as a v0.2 bundle, which has no certificate field', async () => {
    const path = mutatedBundle('relabelled-v0.2.json', (b) => {
      b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
    });
    expectRefusal(await verify(path), 'MEDIA_TYPE_MISMATCH', path, 'mediaType');
  });

  it('refuses its log entry with the integrated time spelled "+N"', async () => {
    const path = mutatedBundle('plus-integrated-time.json', (b) => {
      const entry = (b as unknown as { verificationMaterial: { tlogEntries: { integratedTime: string }[] } })
        .verificationMaterial.tlogEntries[0]!;
      entry.integratedTime = `+${entry.integratedTime}`;
    });
    expectRefusal(await verify(path), 'INTEGER_NOT_CANONICAL', path, 'tlogEntries[0].integratedTime');
  });
});

describe.concurrent('twokey verify-bundle: bad input is exit 2 with the code and the file or field', () => {
  it('a bundle file that does not exist', async () => {
    const path = join(dir, 'no-such-bundle.json');
    expectInputError(await verify(path), 'BUNDLE_UNREADABLE', path, 'no such file');
  });

  it('a bundle path that is a directory', async () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path, { recursive: true });
    expectInputError(await verify(path), 'BUNDLE_UNREADABLE', path, 'directory');
  });

  it('a bundle that is not JSON', async () => {
    const path = join(dir, 'not-json.sigstore.json');
    writeFileSync(path, 'this is not JSON\n');
    expectInputError(await verify(path), 'BUNDLE_NOT_JSON', path);
  });

  it('a bundle file cut short in the middle', async () => {
    const path = join(dir, 'cut-short.sigstore.json');
    const text = readFileSync(BUNDLE, 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
    expectInputError(await verify(path), 'BUNDLE_NOT_JSON', path);
  });

  it.each([
    // No mediaType: JSON that does not even claim to be a bundle (a directory's other files are skipped for it).
    ['an object without a mediaType', '{"payload": "aGVsbG8="}', 'mediaType', 'NOT_A_BUNDLE'],
    ['an array', '[1, 2, 3]', 'JSON object', 'BUNDLE_MALFORMED'],
    ['a string', '"a bundle"', 'JSON object', 'BUNDLE_MALFORMED'],
  ])('JSON that is not a bundle: %s', async (name, text, field, code) => {
    const path = join(dir, `not-a-bundle-${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(path, text);
    expectInputError(await verify(path), code, path, field);
  });

  it('a real bundle whose mediaType was taken out: malformed, not "no bundle" (skipped from a directory)', async () => {
    const path = mutatedBundle('no-media-type.json', (b) => {
      Reflect.deleteProperty(b, 'mediaType');
    });
    expectInputError(
      await verify(path),
      'BUNDLE_MALFORMED',
      path,
      'mediaType: missing, though it holds a Sigstore bundle',
    );
  });

  it('a real bundle with its keys spelled as protobuf names them (media_type…): malformed, not "no bundle"', async () => {
    const path = mutatedBundle('snake-case-keys.json', (b) => {
      const record = b as unknown as Record<string, unknown>;
      for (const [from, to] of [
        ['mediaType', 'media_type'],
        ['verificationMaterial', 'verification_material'],
        ['dsseEnvelope', 'dsse_envelope'],
      ] as const) {
        record[to] = record[from];
        Reflect.deleteProperty(record, from);
      }
    });
    expectInputError(
      await verify(path),
      'BUNDLE_MALFORMED',
      path,
      'mediaType: missing, though it holds a Sigstore bundle',
    );
  });

  it('an unknown bundle media type', async () => {
    const mediaType = 'application/vnd.dev.sigstore.bundle.v0.4+json';
    const path = mutatedBundle('unknown-media-type.json', (b) => {
      b.mediaType = mediaType;
    });
    expectInputError(await verify(path), 'BUNDLE_MEDIA_TYPE', path, 'mediaType', mediaType);
  });

  it('a real bundle whose certificate base64 was truncated', async () => {
    const path = mutatedBundle('truncated-certificate.json', (b) => {
      const raw = b.verificationMaterial.certificate.rawBytes;
      // Cut to a length no base64 text can have (4n + 1).
      b.verificationMaterial.certificate.rawBytes = raw.slice(0, raw.length - 3);
    });
    expectInputError(await verify(path), 'BUNDLE_MALFORMED', path, 'verificationMaterial.certificate.rawBytes');
  });

  it('a real bundle whose signature lost a padding character', async () => {
    const path = mutatedBundle('truncated-signature.json', (b) => {
      const signature = b.dsseEnvelope.signatures[0]!;
      signature.sig = signature.sig.slice(0, -1);
    });
    expectInputError(await verify(path), 'BUNDLE_MALFORMED', path, 'dsseEnvelope.signatures[0].sig');
  });

  it('a bundle over the size limit, refused before it is read', async () => {
    const path = join(dir, 'huge.sigstore.json');
    writeFileSync(path, '');
    // Sparse: the file claims MAX_BUNDLE_BYTES + 1 bytes without taking the space.
    truncateSync(path, MAX_BUNDLE_BYTES + 1);
    expectInputError(await verify(path), 'BUNDLE_TOO_LARGE', path, `${MAX_BUNDLE_BYTES} bytes`);
  });

  it('an artifact that does not exist', async () => {
    const path = join(dir, 'no-such-artifact.tgz');
    expectInputError(await verify(BUNDLE, path), 'ARTIFACT_UNREADABLE', path, 'no such file');
  });

  it('an artifact path that is a directory', async () => {
    expectInputError(await verify(BUNDLE, dir), 'ARTIFACT_UNREADABLE', dir, 'directory');
  });

  it('an artifact path under a file', async () => {
    const path = join(BUNDLE, 'artifact');
    expectInputError(await verify(BUNDLE, path), 'ARTIFACT_UNREADABLE', path);
  });

  it.each([
    ['a sha256 digest that is too short', `sha256:${'a'.repeat(63)}`, '64 hex digits'],
    ['a sha512 digest that is not hex', `sha512:${'g'.repeat(128)}`, 'sha512:HEX'],
    ['an empty sha256 digest', 'sha256:', 'sha256:HEX'],
  ])('a bad digest reference: %s', async (_name, reference, expected) => {
    expectInputError(await verify(BUNDLE, reference), 'DIGEST_MALFORMED', reference, expected);
  });

  it('a trusted root that does not exist, or is not a trusted root', async () => {
    const missing = join(dir, 'no-such-root.json');
    expectInputError(await verify(BUNDLE, SHA512, '--trusted-root', missing), 'TRUSTED_ROOT_UNREADABLE', missing);
    expectInputError(
      await verify(BUNDLE, SHA512, '--trusted-root', BUNDLE),
      'TRUSTED_ROOT_INVALID',
      BUNDLE,
      'mediaType',
    );
  });

  it('a key file that does not exist, or is not a PEM public key', async () => {
    const missing = join(dir, 'no-such-key.pem');
    expectInputError(await twokey('--bundle', BUNDLE, '--key', missing, SHA512), 'KEY_UNREADABLE', missing);
    expectInputError(await twokey('--bundle', BUNDLE, '--key', BUNDLE, SHA512), 'KEY_UNREADABLE', BUNDLE, 'PEM');
  });
});

describe.concurrent("twokey verify-bundle --key: the conformance suite's managed-key bundle", () => {
  const assets = join(conformanceRoot, 'sigstore-conformance', 'test', 'assets', 'bundle-verify');
  const keyed = join(assets, 'managed-key-happy-path', 'bundle.sigstore.json');
  const artifact = join(assets, 'a.txt');
  const root = join(conformanceRoot, 'production-trust-root', 'trusted_root.json');

  it('verifies with the key that signed it', async () => {
    const key = join(assets, 'managed-key-happy-path', 'key.pub');
    const result = await twokey('--bundle', keyed, '--key', key, '--trusted-root', root, artifact);
    expect(result.status, result.stderr).toBe(0);
  });

  it('refuses it with another valid key', async () => {
    const other = join(dir, 'other-key.pem');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(other, publicKey.export({ type: 'spki', format: 'pem' }));
    expectRefusal(
      await twokey('--bundle', keyed, '--key', other, '--trusted-root', root, artifact),
      'SIGNATURE_INVALID',
    );
  });
});

describe.concurrent('twokey verify-bundle: missing or contradictory flags are usage errors (exit 2)', () => {
  it.each([
    ['no --bundle', ['--certificate-identity', SAN, '--certificate-oidc-issuer', ISSUER, SHA512], '--bundle'],
    ['no identity and no key', ['--bundle', BUNDLE, SHA512], '--certificate-identity'],
    [
      'an identity without its issuer',
      ['--bundle', BUNDLE, '--certificate-identity', SAN, SHA512],
      '--certificate-oidc-issuer',
    ],
    [
      'an issuer without an identity',
      ['--bundle', BUNDLE, '--certificate-oidc-issuer', ISSUER, SHA512],
      '--certificate-identity',
    ],
    [
      'both an identity and a pattern',
      [
        '--bundle',
        BUNDLE,
        '--certificate-identity',
        SAN,
        '--certificate-identity-regexp',
        '.*',
        '--certificate-oidc-issuer',
        ISSUER,
        SHA512,
      ],
      '--certificate-identity-regexp',
    ],
    [
      'an invalid pattern',
      ['--bundle', BUNDLE, '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', ISSUER, SHA512],
      '--certificate-identity-regexp',
    ],
    [
      'no artifact',
      ['--bundle', BUNDLE, '--certificate-identity', SAN, '--certificate-oidc-issuer', ISSUER],
      'one artifact',
    ],
    [
      'two artifacts',
      ['--bundle', BUNDLE, '--certificate-identity', SAN, '--certificate-oidc-issuer', ISSUER, SHA512, SHA256],
      'one artifact',
    ],
    [
      'an unknown flag',
      ['--bundle', BUNDLE, '--certificate-identity', SAN, '--certificate-oidc-issuer', ISSUER, '--offline', SHA512],
      '--offline',
    ],
    [
      'an empty identity (it would match a certificate without a SAN)',
      ['--bundle', BUNDLE, '--certificate-identity', '', '--certificate-oidc-issuer', ISSUER, SHA512],
      '--certificate-identity: empty',
    ],
    [
      'an empty issuer',
      ['--bundle', BUNDLE, '--certificate-identity', SAN, '--certificate-oidc-issuer', '', SHA512],
      '--certificate-oidc-issuer: empty',
    ],
    [
      '--bundle without its value',
      ['--certificate-identity', SAN, '--certificate-oidc-issuer', ISSUER, SHA512, '--bundle'],
      '--bundle',
    ],
  ])('%s', async (_name, args, named) => {
    expectUsageError(await twokey(...args), named);
  });

  it('both a key and an identity', async () => {
    const key = join(dir, 'key.pem');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(key, publicKey.export({ type: 'spki', format: 'pem' }));
    const result = await twokey(
      '--bundle',
      BUNDLE,
      '--key',
      key,
      '--certificate-identity',
      SAN,
      '--certificate-oidc-issuer',
      ISSUER,
      SHA512,
    );
    expectUsageError(result, '--key', '--certificate-identity');
  });
});
