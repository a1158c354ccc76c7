import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  BundleVerifier,
  type KeylessSigningOptions,
  parseBundleJSON,
  type SerializedBundle,
  signArtifact,
  signStatement,
  trustedRootFromJSON,
} from '@twokey/sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle';
import { identity, type OidcIssuer, startOidcIssuer } from './oidc-issuer';
import type { RekorConsistencyProof, RekorLogEntry, RekorLogInfo } from './rekor-log';
import { type SigstoreStack, startSigstoreStack } from './sigstore-stack';

let stack: SigstoreStack;
let issuer: OidcIssuer;
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', 'c'.repeat(40));
const BUILD_IDENTITY = {
  san: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};
const ARTIFACT_HEX = createHash('sha256').update('the artifact\n').digest('hex');

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
});
afterAll(async () => {
  await stack?.close();
  await issuer?.close();
});

async function requestCertificate(token: string): Promise<Response> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return fetch(`${stack.fulcioURL}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ format: 'pem', type: 'spki' }).toString() },
        proofOfPossession: '',
      },
    }),
  });
}

describe('the loopback Sigstore stack', () => {
  it('publishes a trusted root with a validity start on every authority, the same on disk', () => {
    const material = trustedRootFromJSON(stack.trustedRoot, 'testkit');
    expect(material.root.certificateAuthorities).toHaveLength(1);
    expect(material.root.tlogs).toHaveLength(1);
    expect(material.root.ctlogs).toHaveLength(1);
    expect(material.root.timestampAuthorities).toHaveLength(1);
    expect(JSON.parse(readFileSync(stack.trustedRootPath, 'utf8'))).toEqual(stack.trustedRoot);
    expect(stack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('certifies a token signed by the issuer', async () => {
    const response = await requestCertificate(await issuer.mint(build, { audience: 'sigstore' }));
    expect(response.status).toBe(201);
  });

  it('refuses a token for another audience, an expired token and a forged one, as Fulcio does', async () => {
    const wrongAudience = await requestCertificate(await issuer.mint(build, { audience: 'https://github.com/acme' }));
    const expired = await requestCertificate(await issuer.mint(build, { audience: 'sigstore', lifetimeSeconds: -60 }));
    const other = await startOidcIssuer();
    const forged = await requestCertificate(await other.mint(build, { audience: 'sigstore' }));
    await other.close();
    expect([wrongAudience.status, expired.status, forged.status]).toEqual([401, 401, 401]);
    expect(await wrongAudience.text()).toContain('not sigstore');
  });

  it('answers unknown routes with 404', async () => {
    expect((await fetch(`${stack.url}/api/v1/nothing`, { method: 'POST' })).status).toBe(404);
  });
});

function signingOptions(on: SigstoreStack): KeylessSigningOptions {
  return {
    endpoints: { fulcioURL: on.fulcioURL, rekorURL: on.rekorURL, tsaURL: on.tsaURL },
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  };
}

function statement() {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app.tar.gz', digest: { sha256: ARTIFACT_HEX } }],
    predicateType: 'https://example.com/test/v1',
    predicate: {},
  };
}

/** A bundle's one log entry as the bundle's JSON holds it (proto3 JSON: a field at its default value is left out). */
interface BundleLogEntry {
  logIndex?: string;
  canonicalizedBody: string;
  integratedTime: string;
  inclusionProof: {
    logIndex?: string;
    treeSize: string;
    rootHash: string;
    hashes?: string[];
    checkpoint: { envelope: string };
  };
}

function logEntryOf(bundle: SerializedBundle): BundleLogEntry {
  const entries = bundle.verificationMaterial.tlogEntries as unknown as BundleLogEntry[];
  expect(entries).toHaveLength(1);
  return entries[0]!;
}

/** The proof in a bundle as numbers and bytes (absent proto3 fields are their defaults: 0 and no hashes). */
function proofOf(entry: BundleLogEntry) {
  const proof = entry.inclusionProof;
  return {
    index: Number(proof.logIndex ?? '0'),
    size: Number(proof.treeSize),
    root: Buffer.from(proof.rootHash, 'base64'),
    hashes: (proof.hashes ?? []).map((h) => Buffer.from(h, 'base64')),
    leaf: leafHash(Buffer.from(entry.canonicalizedBody, 'base64')),
  };
}

/** A checkpoint's note, parsed, and whether its signature verifies with the trusted root's tlog key and key hint. */
function readCheckpoint(envelope: string, on: SigstoreStack) {
  const [note, signatureLines] = [
    envelope.slice(0, envelope.indexOf('\n\n') + 1),
    envelope.slice(envelope.indexOf('\n\n') + 2),
  ];
  const [origin, size, root, ...rest] = note.trimEnd().split('\n');
  const match = /^\u2014 (\S+) (\S+)\n$/.exec(signatureLines);
  const tlog = (on.trustedRoot.tlogs as { publicKey: { rawBytes: string }; logId: { keyId: string } }[])[0]!;
  const key = createPublicKey({ key: Buffer.from(tlog.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
  const hintAndSignature = Buffer.from(match?.[2] ?? '', 'base64');
  return {
    origin,
    size: Number(size),
    root: Buffer.from(root ?? '', 'base64'),
    rest,
    name: match?.[1],
    keyHint: hintAndSignature.subarray(0, 4),
    signed: verify('sha256', Buffer.from(note, 'utf8'), key, hintAndSignature.subarray(4)),
    logId: Buffer.from(tlog.logId.keyId, 'base64'),
  };
}

async function getJSON<T>(on: SigstoreStack, path: string): Promise<T> {
  const response = await fetch(`${on.rekorURL}${path}`);
  expect(response.status, `${path}: ${response.status}`).toBe(200);
  return (await response.json()) as T;
}

async function entryAt(on: SigstoreStack, index: number): Promise<RekorLogEntry> {
  const answer = await getJSON<Record<string, RekorLogEntry>>(on, `/api/v1/log/entries?logIndex=${index}`);
  return Object.values(answer)[0]!;
}

function flipFirstBit(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0]! ^= 0x01;
  return bytes.toString('base64');
}

describe('the loopback Rekor: one growing Merkle tree', () => {
  let signature: SerializedBundle;
  let attestation: SerializedBundle;

  beforeAll(async () => {
    signature = await signArtifact({ digest: { algorithm: 'sha256', hex: ARTIFACT_HEX } }, signingOptions(stack));
    attestation = await signStatement(statement(), signingOptions(stack));
  });

  it('appends each entry as the next leaf and proves it in the tree as it stands after it', () => {
    const first = proofOf(logEntryOf(signature));
    const second = proofOf(logEntryOf(attestation));
    // The log opened with an entry of its own, so no signed entry is leaf 0 of a one-leaf tree.
    expect(first.index).toBeGreaterThanOrEqual(1);
    expect(second.index).toBe(first.index + 1);
    expect([first.size, second.size]).toEqual([first.index + 1, second.index + 1]);
    expect(Number(logEntryOf(signature).logIndex)).toBe(first.index);
    expect(Number(logEntryOf(attestation).logIndex)).toBe(second.index);
    // An audit path, not an empty one: at least one sibling on the way to the root.
    expect(first.hashes.length).toBeGreaterThanOrEqual(1);
    expect(second.hashes.length).toBeGreaterThanOrEqual(1);
    expect(stack.rekor.size).toBeGreaterThanOrEqual(second.size);
  });

  it("carries in each bundle a path from the entry's leaf to the root its signed checkpoint names", () => {
    for (const bundle of [signature, attestation]) {
      const entry = logEntryOf(bundle);
      const proof = proofOf(entry);
      const checkpoint = readCheckpoint(entry.inclusionProof.checkpoint.envelope, stack);
      expect(checkpoint.signed).toBe(true);
      expect(checkpoint.keyHint.equals(checkpoint.logId.subarray(0, 4))).toBe(true);
      // Named as @sigstore/verify finds its log: the name is inside the log's URL, the origin `<name> - <tree ID>`.
      expect(stack.rekorURL).toContain(checkpoint.name);
      expect(checkpoint.origin).toBe(`${checkpoint.name} - ${stack.rekor.treeID}`);
      expect(checkpoint.rest).toEqual([]);
      expect(checkpoint.size).toBe(proof.size);
      expect(checkpoint.root.equals(proof.root)).toBe(true);
      expect(verifyInclusion(proof.index, proof.size, proof.leaf, proof.hashes, checkpoint.root)).toBe(true);
    }
  });

  it('shares one checkpoint of the grown tree between two entries, consistent with the ones they were logged under', async () => {
    const logged = [signature, attestation].map((bundle) => proofOf(logEntryOf(bundle)));
    const now = await entryAt(stack, logged[0]!.index);
    const later = await entryAt(stack, logged[1]!.index);
    const info = await getJSON<RekorLogInfo>(stack, '/api/v1/log');
    // Both entries fetched again are proven against the same, current tree head.
    expect(now.verification.inclusionProof.checkpoint).toBe(later.verification.inclusionProof.checkpoint);
    expect(now.verification.inclusionProof.checkpoint).toBe(info.signedTreeHead);
    expect(now.verification.inclusionProof.treeSize).toBe(info.treeSize);
    const head = readCheckpoint(info.signedTreeHead, stack);
    expect(head.signed).toBe(true);
    expect(head.root.toString('hex')).toBe(info.rootHash);
    for (const [fetched, bundle] of [
      [now, signature],
      [later, attestation],
    ] as const) {
      const before = proofOf(logEntryOf(bundle));
      const proof = fetched.verification.inclusionProof;
      expect(fetched.body).toBe(logEntryOf(bundle).canonicalizedBody);
      const hashes = proof.hashes.map((h) => Buffer.from(h, 'hex'));
      expect(verifyInclusion(proof.logIndex, proof.treeSize, before.leaf, hashes, head.root)).toBe(true);
      // The tree each entry was logged under is a prefix of the current one: the log only grew.
      const consistency = await getJSON<RekorConsistencyProof>(
        stack,
        `/api/v1/log/proof?firstSize=${before.size}&lastSize=${info.treeSize}`,
      );
      expect(consistency.rootHash).toBe(info.rootHash);
      const path = consistency.hashes.map((h) => Buffer.from(h, 'hex'));
      expect(verifyConsistency(before.size, info.treeSize, before.root, head.root, path)).toBe(true);
      const otherRoot = Buffer.from(flipFirstBit(before.root.toString('base64')), 'base64');
      expect(verifyConsistency(before.size, info.treeSize, otherRoot, head.root, path)).toBe(false);
    }
    // And the first entry's checkpoint is consistent with the second's.
    const between = await getJSON<RekorConsistencyProof>(
      stack,
      `/api/v1/log/proof?firstSize=${logged[0]!.size}&lastSize=${logged[1]!.size}`,
    );
    const hashes = between.hashes.map((h) => Buffer.from(h, 'hex'));
    expect(verifyConsistency(logged[0]!.size, logged[1]!.size, logged[0]!.root, logged[1]!.root, hashes)).toBe(true);
  });

  it("lengthens an early entry's audit path as the tree grows past powers of two, the old proof still holding", async () => {
    const early = proofOf(logEntryOf(signature));
    // Sign until the tree passes the next power of two and one more leaf: 2^k + 1 leaves.
    const target = 2 ** Math.ceil(Math.log2(stack.rekor.size + 2)) + 1;
    while (stack.rekor.size < target) {
      await signArtifact({ digest: { algorithm: 'sha256', hex: ARTIFACT_HEX } }, signingOptions(stack));
    }
    const size = stack.rekor.size;
    const now = (await entryAt(stack, early.index)).verification.inclusionProof;
    expect(now.treeSize).toBe(size);
    // Leaf i < 2^k of a tree of 2^k + 1 leaves: k siblings inside the left complete subtree, then the last leaf.
    expect(now.hashes).toHaveLength(Math.ceil(Math.log2(size)));
    expect(now.hashes.length).toBeGreaterThan(early.hashes.length);
    const root = Buffer.from(now.rootHash, 'hex');
    const hashes = now.hashes.map((h) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(early.index, size, early.leaf, hashes, root)).toBe(true);
    expect(verifyInclusion(early.index, early.size, early.leaf, early.hashes, early.root)).toBe(true);
    expect(root.equals(early.root)).toBe(false);
  });

  it('has bundles that fail when a hash of the audit path is flipped: by the tree verifier and by @sigstore/verify', () => {
    const verifier = new BundleVerifier(trustedRootFromJSON(stack.trustedRoot, 'testkit'));
    const artifact = { digest: { algorithm: 'sha256' as const, hex: ARTIFACT_HEX } };
    for (const bundle of [signature, attestation]) {
      expect(
        verifier.verify(parseBundleJSON(bundle, 'as signed'), { artifact, identity: BUILD_IDENTITY }).kind,
      ).toBeTruthy();
      const entry = logEntryOf(bundle);
      for (let i = 0; i < (entry.inclusionProof.hashes ?? []).length; i++) {
        const spoiled = structuredClone(bundle);
        const spoiledEntry = logEntryOf(spoiled);
        spoiledEntry.inclusionProof.hashes![i] = flipFirstBit(spoiledEntry.inclusionProof.hashes![i]!);
        const proof = proofOf(spoiledEntry);
        expect(verifyInclusion(proof.index, proof.size, proof.leaf, proof.hashes, proof.root)).toBe(false);
        expect(() =>
          verifier.verify(parseBundleJSON(spoiled, `hash ${i} flipped`), { artifact, identity: BUILD_IDENTITY }),
        ).toThrow(/inclusion|root hash/i);
      }
    }
  });

  it("answers Rekor's read API: an entry by UUID (its leaf hash), 404 for what it does not hold, 400 for bad requests", async () => {
    const entry = logEntryOf(signature);
    const uuid = leafHash(Buffer.from(entry.canonicalizedBody, 'base64')).toString('hex');
    const byUUID = await getJSON<Record<string, RekorLogEntry>>(stack, `/api/v1/log/entries/${uuid}`);
    expect(Object.keys(byUUID)).toEqual([uuid]);
    expect(byUUID[uuid]!.logIndex).toBe(Number(entry.logIndex));
    expect((await fetch(`${stack.rekorURL}/api/v1/log/entries/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${stack.rekorURL}/api/v1/log/entries?logIndex=${stack.rekor.size}`)).status).toBe(404);
    expect((await fetch(`${stack.rekorURL}/api/v1/log/entries?logIndex=-1`)).status).toBe(400);
    expect((await fetch(`${stack.rekorURL}/api/v1/log/proof?firstSize=3&lastSize=2`)).status).toBe(400);
    const posted = await fetch(`${stack.rekorURL}/api/v1/log/entries`, {
      method: 'POST',
      body: '{"kind":"hashedrekord"}',
    });
    expect(posted.status).toBe(400);
    expect(((await posted.json()) as { message: string }).message).toContain('kind, apiVersion and spec');
  });
});

describe('a loopback Rekor that starts empty', () => {
  let empty: SigstoreStack;
  beforeAll(async () => {
    empty = await startSigstoreStack({ logStartsEmpty: true });
  });
  afterAll(async () => {
    await empty?.close();
  });

  it('logs its first entry as leaf 0 of a one-leaf tree (no index, no hashes in the JSON), which @sigstore/verify accepts', async () => {
    const bundle = await signArtifact({ digest: { algorithm: 'sha256', hex: ARTIFACT_HEX } }, signingOptions(empty));
    const entry = logEntryOf(bundle);
    expect(entry.logIndex).toBeUndefined();
    expect(entry.inclusionProof.logIndex).toBeUndefined();
    expect(entry.inclusionProof.hashes).toBeUndefined();
    expect(entry.inclusionProof.treeSize).toBe('1');
    const proof = proofOf(entry);
    expect(proof.root.equals(proof.leaf)).toBe(true);
    const verifier = new BundleVerifier(trustedRootFromJSON(empty.trustedRoot, 'empty log'));
    const artifact = { digest: { algorithm: 'sha256' as const, hex: ARTIFACT_HEX } };
    expect(verifier.verify(parseBundleJSON(bundle, 'leaf 0'), { artifact, identity: BUILD_IDENTITY }).kind).toBe(
      'message-signature',
    );
    const next = logEntryOf(await signStatement(statement(), signingOptions(empty)));
    expect([next.logIndex, next.inclusionProof.treeSize, next.inclusionProof.hashes?.length]).toEqual(['1', '2', 1]);
  });
});
