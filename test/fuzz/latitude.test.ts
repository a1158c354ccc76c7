// The formats' latitude (latitude.ts), shown case by case: a seed changed by one operation within a latitude still
// verifies, its bytes differ, and its evidence key — what anything that counts evidence keys it by — is the seed's.
// And the fuzzer's oracle does not count such a change as a finding, but does count the same kind of change outside
// the latitude.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BundleVerifier, loadTrustedRoot, parseBundle, parseDigestReference } from '@twokey/sigstore';
import { describe, expect, it } from 'vitest';
import { applyBundleMutation, type BundleOp } from './bundle-mutations';
import { encodeElement, parseDer, replaceNode, withTag } from './der';
import { judgeTimestamps, LATITUDES, latitudeOf } from './latitude';
import { type BundleSeed, bundleSeeds } from './seeds';

const seeds = bundleSeeds();

function evidenceKeyOf(seed: BundleSeed, text: string): string | undefined {
  const publicKey = seed.key ? createPublicKey(readFileSync(seed.key, 'utf8')) : undefined;
  const verifier = new BundleVerifier(loadTrustedRoot(seed.trustedRoot), { publicKey });
  const artifact = /^sha(256|384|512):/.test(seed.artifact)
    ? { digest: parseDigestReference(seed.artifact) }
    : { file: seed.artifact };
  return verifier.verify(parseBundle(text, seed.name), { artifact, identity: seed.identity }).evidenceKey;
}

const proof = ['verificationMaterial', 'tlogEntries', 0, 'inclusionProof'];
const firstToken = ['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'];

/** A seed's first RFC 3161 token, changed by `change` (its DER tree in hand), as the base64 the bundle holds. */
function tokenOf(name: string, change: (token: Buffer) => Buffer): string {
  const seed = seeds.find((s) => s.name === name)!;
  const json = seed.json as {
    verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: { signedTimestamp: string }[] } };
  };
  const token = Buffer.from(
    json.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0]!.signedTimestamp,
    'base64',
  );
  return change(token).toString('base64');
}

/** The token with certificates [0] emptied. */
function withoutCertificates(token: Buffer): Buffer {
  const root = parseDer(token)!;
  const certificates = root.children[1]!.children[1]!.children[0]!.children.find((child) => child.tag === 0xa0)!;
  return replaceNode(token, root, certificates, encodeElement(0xa0, Buffer.alloc(0)));
}

const CASES: { latitude: string; seed: string; op: BundleOp }[] = [
  {
    latitude: 'ECDSA (r, n - s)',
    seed: 'loopback/message-signature',
    op: {
      op: 'der',
      path: ['verificationMaterial', 'certificate', 'rawBytes'],
      how: 'high-s',
      region: 'outside',
      pick: 0,
      bit: 0,
    },
  },
  {
    latitude: 'RFC 3161 timestamps that do not verify are uncounted',
    seed: 'conformance/managed-key-happy-path',
    op: { op: 'drop', path: ['verificationMaterial', 'timestampVerificationData'] },
  },
  {
    latitude:
      "an RFC 3161 token's certificates [0] (empty, or the signing certificate alone) and its signer's digest algorithm (with or without NULL parameters)",
    seed: 'conformance/rekor2-timestamp-with-embedded-cert',
    op: {
      op: 'retype',
      path: firstToken,
      value: tokenOf('conformance/rekor2-timestamp-with-embedded-cert', withoutCertificates),
    },
  },
  {
    latitude: 'the media type is a label',
    seed: 'conformance/happy-path-v0.3',
    op: { op: 'enum', path: ['mediaType'], value: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
  },
  {
    latitude: "a checkpoint's signature lines: order, and cosignatures of witnesses the root does not name",
    seed: 'conformance/rekor2-checkpoint-cosigned',
    op: { op: 'checkpoint', path: [...proof, 'checkpoint', 'envelope'], how: 'reorder-signatures', pick: 0 },
  },
  {
    latitude: 'the public-key hint, with --key',
    seed: 'conformance/managed-key-happy-path',
    op: { op: 'retype', path: ['verificationMaterial', 'publicKey', 'hint'], value: 'another hint' },
  },

  {
    latitude: "a v0.1 entry's inclusion proof beside its promise",
    seed: 'conformance/happy-path-v0.1',
    op: { op: 'drop', path: proof },
  },
];

describe("the formats' latitude: accepted, keyed as the seed, not a finding", () => {
  it('has a case for each latitude', () => {
    expect(CASES.map((c) => c.latitude).sort()).toEqual(LATITUDES.map((l) => l.name).sort());
  });

  it.each(CASES)('$latitude ($seed)', ({ latitude, seed: name, op }) => {
    const index = seeds.findIndex((s) => s.name === name);
    const seed = seeds[index]!;
    const mutated = applyBundleMutation({ seed: index, ops: [op] }, seeds);
    expect(latitudeOf(op, seed, () => judgeTimestamps(mutated.bytes, seed))?.name).toBe(latitude);
    expect(mutated.bytes.toString('utf8')).not.toBe(seed.text);
    expect(mutated.changed).toBe(false);
    expect(mutated.latitudes).toEqual([latitude]);
    const key = evidenceKeyOf(seed, seed.text);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(evidenceKeyOf(seed, mutated.bytes.toString('utf8'))).toBe(key);
  });

  it('counts the same kind of change outside the latitude as a change: a bit flipped in a certificate signature', () => {
    const index = seeds.findIndex((s) => s.name === 'loopback/message-signature');
    const op: BundleOp = {
      op: 'der',
      path: ['verificationMaterial', 'certificate', 'rawBytes'],
      how: 'flip',
      region: 'outside',
      pick: 0,
      bit: 3,
    };
    expect(latitudeOf(op)).toBeUndefined();
    expect(applyBundleMutation({ seed: index, ops: [op] }, seeds).changed).toBe(true);
  });

  // A token is exempt only while it does not verify: every byte of it that no signature covers and sigstore-js
  // reads leniently (its wrapping tags, the digest algorithm's parameters, certificates [0]) made another encoding of
  // the same timestamp, which the exemption of everything under timestampVerificationData hid from the fuzzer.
  it.each([
    {
      change: 'the TimeStampResp retagged SET',
      seed: 'realdata/hello-world.rekor-v2-hashedrekord',
      token: (der: Buffer) => withTag(der, parseDer(der)!, 0x31),
    },
    {
      change: 'the SignerInfo retagged SET',
      seed: 'loopback/message-signature',
      token: (der: Buffer) => {
        const root = parseDer(der)!;
        const signerInfo = root.children[1]!.children[1]!.children[0]!.children.at(-1)!.children[0]!;
        return replaceNode(der, root, signerInfo, withTag(der, signerInfo, 0x31));
      },
    },
    {
      change: 'certificates [0] left out',
      seed: 'conformance/rekor2-dsse-happy-path',
      token: (der: Buffer) => {
        const root = parseDer(der)!;
        const signedData = root.children[1]!.children[1]!.children[0]!;
        const certificates = signedData.children.find((child) => child.tag === 0xa0)!;
        const content = Buffer.concat(
          signedData.children
            .filter((child) => child !== certificates)
            .map((child) => der.subarray(child.start, child.end)),
        );
        return replaceNode(der, root, signedData, encodeElement(0x30, content));
      },
    },
  ])('counts a token changed so that it still verifies as a change: $change ($seed)', ({ seed: name, token }) => {
    const index = seeds.findIndex((s) => s.name === name);
    const seed = seeds[index]!;
    const op: BundleOp = { op: 'retype', path: firstToken, value: tokenOf(name, token) };
    const mutated = applyBundleMutation({ seed: index, ops: [op] }, seeds);
    expect(judgeTimestamps(mutated.bytes, seed)).toBe('counted');
    expect(latitudeOf(op, seed, () => judgeTimestamps(mutated.bytes, seed))).toBeUndefined();
    expect(mutated.changed).toBe(true);
    expect(mutated.latitudes).toBeUndefined();
  });

  it('counts a token that no longer verifies (a bit of its signature flipped) as within the latitude', () => {
    const name = 'realdata/hello-world.rekor-v2-hashedrekord';
    const index = seeds.findIndex((s) => s.name === name);
    const seed = seeds[index]!;
    const flipped = tokenOf(name, (der) => {
      const copy = Buffer.from(der);
      copy[copy.length - 1]! ^= 1; // the last byte of the ECDSA signature's s
      return copy;
    });
    const op: BundleOp = { op: 'retype', path: firstToken, value: flipped };
    const mutated = applyBundleMutation({ seed: index, ops: [op] }, seeds);
    expect(judgeTimestamps(mutated.bytes, seed)).toBe('uncounted');
    expect(mutated.changed).toBe(false);
    expect(mutated.latitudes).toEqual(['RFC 3161 timestamps that do not verify are uncounted']);
  });

  // Fuzzer run of seed 12: another bundle's empty timestampVerificationData spliced in as the key identifier (case
  // 130399), the identifier retyped to {} (274910), or duplicated as {} and its first stand dropped (259785): each
  // leaves the seed but for its hint, and was counted as a finding. Not a change; the identifier dropped outright, or
  // holding another field, is.
  it("counts a key's hint changed by any operations as within its latitude, and nothing else about the identifier", () => {
    const index = seeds.findIndex((s) => s.name === 'conformance/managed-key-happy-path');
    const seed = seeds[index]!;
    const keys = Object.keys((seed.json as { verificationMaterial: object }).verificationMaterial);
    const identifier = ['verificationMaterial', 'publicKey'];
    const duplicated = (other: unknown): BundleOp => ({
      op: 'dup-key',
      path: ['verificationMaterial'],
      pick: keys.indexOf('publicKey'),
      before: false,
      other,
    });
    const within: BundleOp[][] = [
      [{ op: 'splice', path: identifier, from: 2, pick: 1274800036 }],
      [{ op: 'retype', path: identifier, value: {} }],
      [duplicated({}), { op: 'drop', path: identifier }],
      [duplicated({ hint: 'another hint' }), { op: 'drop', path: identifier }],
    ];
    for (const ops of within) {
      const hinted = applyBundleMutation({ seed: index, ops }, seeds);
      expect(hinted.bytes.toString('utf8')).not.toBe(seed.text);
      expect(hinted.changed).toBe(false);
      expect(hinted.latitudes).toEqual(['the public-key hint, with --key']);
      expect(evidenceKeyOf(seed, hinted.bytes.toString('utf8'))).toBe(evidenceKeyOf(seed, seed.text));
    }
    const outside: BundleOp[][] = [
      [duplicated({ x: 1 }), { op: 'drop', path: identifier }],
      [{ op: 'retype', path: identifier, value: { hint: 1 } }],
      [{ op: 'drop', path: identifier }],
    ];
    for (const ops of outside) expect(applyBundleMutation({ seed: index, ops }, seeds).changed).toBe(true);
  });

  // Fuzzer run of seed 11, case 15189: a key added a second time with the same value, then its first stand dropped,
  // leaves the seed with its keys in another order. The oracle counted it as changed (a key twice) and the accept as
  // a finding; a key that is really twice is still a change.
  it('counts a key added twice then dropped once as no change, and a key that stands twice as one', () => {
    const index = seeds.findIndex((s) => s.name === 'loopback/dsse');
    const seed = seeds[index]!;
    const keys = Object.keys((seed.json as { verificationMaterial: object }).verificationMaterial);
    const twice: BundleOp = {
      op: 'dup-key',
      path: ['verificationMaterial'],
      pick: keys.indexOf('certificate'),
      before: true,
      other: undefined,
    };
    const dropped: BundleOp = { op: 'drop', path: ['verificationMaterial', 'certificate'] };
    const moved = applyBundleMutation({ seed: index, ops: [twice, dropped] }, seeds);
    expect(moved.bytes.toString('utf8').match(/"certificate":/g)).toHaveLength(1);
    expect(moved.changed).toBe(false);
    const kept = applyBundleMutation({ seed: index, ops: [twice] }, seeds);
    expect(kept.bytes.toString('utf8').match(/"certificate":/g)).toHaveLength(2);
    expect(kept.changed).toBe(true);
  });
});
