// The pipeline's bundles, made on the loopback Sigstore stack, read by a verifier that shares no code with
// sigstore-js: @freedomofpress/sigstore-browser (its own ASN.1, X.509, SCT, Merkle, checkpoint, SET and RFC 3161
// code on WebCrypto and @noble/curves). It is given the stack's trusted root and nothing else (no TUF).
// What it cannot do, and why, is pinned at the end of the file.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AllOf,
  AnyOf,
  Identity,
  OIDCBuildSignerURI,
  OIDCIssuer,
  OIDCIssuerV2,
  OIDCSourceRepositoryDigest,
  OIDCSourceRepositoryRef,
  OIDCSourceRepositoryURI,
  SigstoreVerifier,
  type VerificationPolicy,
} from '@freedomofpress/sigstore-browser';
import { provenanceStatement, workflowProvenance, workflowRunClaims } from '@twokey/core';
import {
  BundleVerifier,
  type ExpectedIdentity,
  type KeylessSigningOptions,
  parseBundleJSON,
  type SerializedBundle,
  signArtifact,
  signStatement,
  trustedRootFromJSON,
} from '@twokey/sigstore';
import {
  identity,
  type OidcIssuer,
  type SigstoreStack,
  startOidcIssuer,
  startSigstoreStack,
  type WorkflowIdentity,
} from '@twokey/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ISSUER = 'https://token.actions.githubusercontent.com';
const COMMIT = '5b1c3d2e4f60718293a4b5c6d7e8f90a1b2c3d4e';
const SIGN_WORKFLOW_REF = 'acme/platform/.github/workflows/twokey-sign.yml@refs/heads/main';
const BUILD_SAN = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
const SIGN_SAN = `https://github.com/${SIGN_WORKFLOW_REF}`;
const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', COMMIT);
const sign = identity('acme/app', '.github/workflows/release.yml', 'refs/heads/main', COMMIT, {
  job_workflow_ref: SIGN_WORKFLOW_REF,
  job_workflow_sha: COMMIT,
});
const ARTIFACT = Buffer.from('the artifact, app.tar.gz\n');
const ARTIFACT_HEX = createHash('sha256').update(ARTIFACT).digest('hex');
const OTHER_ARTIFACT = Buffer.from('another artifact\n');

let issuer: OidcIssuer;
let stack: SigstoreStack;
let dir: string;
let artifactPath: string;
/** The build stage's SLSA provenance: a DSSE in-toto statement by the build identity (a Rekor `intoto` entry). */
let provenance: SerializedBundle;
/** The sign stage's artifact signature: a message signature by the sign identity (a Rekor `hashedrekord` entry). */
let signature: SerializedBundle;
let independent: SigstoreVerifier;
let sigstoreJS: BundleVerifier;

function signingAs(on: SigstoreStack, who: WorkflowIdentity): KeylessSigningOptions {
  return {
    endpoints: { fulcioURL: on.fulcioURL, rekorURL: on.rekorURL, tsaURL: on.tsaURL },
    identityToken: () => issuer.mint(who, { audience: 'sigstore' }),
  };
}

/** The independent verifier over a trusted root, every threshold at 1: a SCT, a log entry and a timestamp. */
async function independentVerifier(trustedRoot: Record<string, unknown>): Promise<SigstoreVerifier> {
  const verifier = new SigstoreVerifier({ ctlogThreshold: 1, tlogThreshold: 1, tsaThreshold: 1 });
  // It takes only authorities whose validity started strictly before "now": the stack's started a moment ago.
  await new Promise((resolve) => setTimeout(resolve, 2));
  await verifier.loadSigstoreRoot(trustedRoot as unknown as Parameters<SigstoreVerifier['loadSigstoreRoot']>[0]);
  return verifier;
}

/** The twokey policy for an identity, in the independent verifier's terms: SAN and issuer, the Fulcio extensions. */
function policyFor(san: string): VerificationPolicy {
  return new AllOf([
    new Identity({ identity: san }),
    new AnyOf([new OIDCIssuerV2(ISSUER), new OIDCIssuer(ISSUER)]),
    new OIDCBuildSignerURI(san),
    new OIDCSourceRepositoryURI('https://github.com/acme/app'),
    new OIDCSourceRepositoryDigest(COMMIT),
    new OIDCSourceRepositoryRef('refs/heads/main'),
  ]);
}

type IndependentBundle = Parameters<SigstoreVerifier['verifyArtifactPolicy']>[1];

/** Verifies with the independent verifier: resolves true, or rejects with its reason. */
function independently(
  bundle: SerializedBundle,
  san: string,
  data: Uint8Array,
  isDigestOnly = false,
  verifier = independent,
): Promise<boolean> {
  return verifier.verifyArtifactPolicy(policyFor(san), bundle as unknown as IndependentBundle, data, isDigestOnly);
}

/** Verifies with @sigstore/verify through @twokey/sigstore, as `twokey verify` does. */
function bySigstoreJS(bundle: SerializedBundle, san: string, artifact: Buffer, verifier = sigstoreJS): void {
  const expected: ExpectedIdentity = { san, issuer: ISSUER, extensions: { sourceRepositoryDigest: COMMIT } };
  const hex = createHash('sha256').update(artifact).digest('hex');
  verifier.verify(parseBundleJSON(bundle, 'bundle'), {
    artifact: { digest: { algorithm: 'sha256', hex } },
    identity: expected,
  });
}

/** A bundle's one log entry as its JSON holds it (proto3 JSON: a field at its default value is left out). */
interface LogEntryJSON {
  logIndex?: string;
  integratedTime: string;
  canonicalizedBody: string;
  inclusionPromise: { signedEntryTimestamp: string };
  inclusionProof: {
    logIndex?: string;
    treeSize: string;
    rootHash: string;
    hashes?: string[];
    checkpoint: { envelope: string };
  };
}

function logEntryOf(bundle: SerializedBundle): LogEntryJSON {
  return (bundle.verificationMaterial.tlogEntries as unknown as LogEntryJSON[])[0]!;
}

function flipped(base64: string, at = 0): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[at]! ^= 0x01;
  return bytes.toString('base64');
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  dir = mkdtempSync(join(tmpdir(), 'twokey-interop-'));
  artifactPath = join(dir, 'app.tar.gz');
  writeFileSync(artifactPath, ARTIFACT);
  const subjects = [{ name: 'app.tar.gz', digest: { sha256: ARTIFACT_HEX } }];
  // As the build action signs its provenance, then the sign action its signature over the artifact file.
  provenance = await signStatement(
    provenanceStatement(subjects, workflowProvenance(workflowRunClaims({ ...build }))),
    signingAs(stack, build),
  );
  signature = await signArtifact({ file: artifactPath }, signingAs(stack, sign));
  independent = await independentVerifier(stack.trustedRoot);
  sigstoreJS = new BundleVerifier(trustedRootFromJSON(stack.trustedRoot, 'loopback stack'));
});

afterAll(async () => {
  await stack?.close();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an independent verifier (@freedomofpress/sigstore-browser) on the pipeline bundles', () => {
  it('reads bundles whose log entries are proven by real audit paths in one growing tree', () => {
    const [first, second] = [provenance, signature].map((bundle) => logEntryOf(bundle).inclusionProof);
    expect(Number(first!.logIndex)).toBeGreaterThanOrEqual(1);
    expect(Number(second!.logIndex)).toBe(Number(first!.logIndex) + 1);
    expect(first!.hashes?.length).toBeGreaterThanOrEqual(1);
    expect(second!.hashes?.length).toBeGreaterThanOrEqual(1);
  });

  it('verifies the artifact signature (message signature, hashedrekord entry) by the bytes and by the digest', async () => {
    await expect(independently(signature, SIGN_SAN, ARTIFACT)).resolves.toBe(true);
    await expect(independently(signature, SIGN_SAN, Buffer.from(ARTIFACT_HEX, 'hex'), true)).resolves.toBe(true);
    bySigstoreJS(signature, SIGN_SAN, ARTIFACT);
  });

  it('verifies the build provenance (DSSE in-toto statement, intoto entry) for the artifact it names', async () => {
    await expect(independently(provenance, BUILD_SAN, ARTIFACT)).resolves.toBe(true);
    await expect(independently(provenance, BUILD_SAN, Buffer.from(ARTIFACT_HEX, 'hex'), true)).resolves.toBe(true);
    bySigstoreJS(provenance, BUILD_SAN, ARTIFACT);
  });

  it('verifies bundles logged later, when the tree has grown past a power of two', async () => {
    const later: SerializedBundle[] = [];
    while (stack.rekor.size < 9) later.push(await signArtifact({ file: artifactPath }, signingAs(stack, sign)));
    const last = later.at(-1)!;
    expect(logEntryOf(last).inclusionProof.treeSize).toBe('9');
    for (const bundle of later) {
      await expect(independently(bundle, SIGN_SAN, ARTIFACT)).resolves.toBe(true);
    }
  });

  // Each way of tampering is refused by the independent verifier and, as a check on the check, by @sigstore/verify.
  const tamperings: {
    what: string;
    bundle: () => SerializedBundle;
    san?: string;
    artifact?: Buffer;
    refusedWith: RegExp;
  }[] = [
    {
      what: 'the artifact signature, for another artifact',
      bundle: () => signature,
      artifact: OTHER_ARTIFACT,
      refusedWith: /Error verifying artifact signature/,
    },
    {
      what: 'the artifact signature, checked against the build identity',
      bundle: () => signature,
      san: BUILD_SAN,
      refusedWith: /SANs do not match/,
    },
    {
      what: 'a hash of its audit path flipped',
      bundle: () => {
        const spoiled = structuredClone(signature);
        const proof = logEntryOf(spoiled).inclusionProof;
        proof.hashes![0] = flipped(proof.hashes![0]!);
        return spoiled;
      },
      refusedWith: /Calculated root hash does not match inclusion proof/,
    },
    {
      what: 'its proof pointed at another leaf index',
      bundle: () => {
        const spoiled = structuredClone(signature);
        const proof = logEntryOf(spoiled).inclusionProof;
        proof.logIndex = String(Number(proof.logIndex) - 1);
        return spoiled;
      },
      refusedWith: /Invalid hash count in inclusion proof/,
    },
    {
      what: 'a forged one-leaf tree (the root its own leaf hash) under the real checkpoint signature',
      bundle: () => {
        // The audit path is right for the forged tree, so only the checkpoint's signature can catch it.
        const spoiled = structuredClone(signature);
        const entry = logEntryOf(spoiled);
        const leaf = createHash('sha256')
          .update(Buffer.from([0]))
          .update(Buffer.from(entry.canonicalizedBody, 'base64'))
          .digest('base64');
        entry.inclusionProof = {
          ...entry.inclusionProof,
          logIndex: '0',
          treeSize: '1',
          rootHash: leaf,
          hashes: [],
          checkpoint: {
            envelope: entry.inclusionProof.checkpoint.envelope.replace(/^(.*\n).*\n.*\n/, `$1${1}\n${leaf}\n`),
          },
        };
        return spoiled;
      },
      refusedWith: /Invalid checkpoint signature/,
    },
    {
      what: 'its checkpoint signature altered',
      bundle: () => {
        const spoiled = structuredClone(signature);
        const checkpoint = logEntryOf(spoiled).inclusionProof.checkpoint;
        checkpoint.envelope = checkpoint.envelope.replace(
          /^(\u2014 \S+ )(\S+)$/m,
          (_, head, sig) => head + flipped(sig, 10),
        );
        return spoiled;
      },
      refusedWith: /Invalid checkpoint signature/,
    },
    {
      what: 'its signed entry timestamp altered',
      bundle: () => {
        const spoiled = structuredClone(signature);
        const promise = logEntryOf(spoiled).inclusionPromise;
        promise.signedEntryTimestamp = flipped(promise.signedEntryTimestamp, 12);
        return spoiled;
      },
      refusedWith: /Failed to verify the inclusion promise/,
    },
    {
      what: 'its integrated time moved a day back',
      bundle: () => {
        const spoiled = structuredClone(signature);
        const entry = logEntryOf(spoiled);
        entry.integratedTime = String(Number(entry.integratedTime) - 86_400);
        return spoiled;
      },
      refusedWith: /Failed to verify the inclusion promise/,
    },
    {
      what: 'the build provenance with its subject changed to another artifact',
      bundle: () => {
        const spoiled = structuredClone(provenance);
        const envelope = spoiled.dsseEnvelope!;
        const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
        statement.subject[0].digest.sha256 = createHash('sha256').update(OTHER_ARTIFACT).digest('hex');
        envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
        return spoiled;
      },
      san: BUILD_SAN,
      artifact: OTHER_ARTIFACT,
      refusedWith: /Intoto payload hash mismatch/,
    },
    {
      what: "the build provenance, given the signature's log entry",
      bundle: () => {
        const spoiled = structuredClone(provenance);
        spoiled.verificationMaterial.tlogEntries = structuredClone(signature.verificationMaterial.tlogEntries);
        return spoiled;
      },
      san: BUILD_SAN,
      refusedWith: /Certificate in Rekor log does not match the signing certificate/,
    },
  ];

  it.each(tamperings)('refuses $what', async ({ bundle, san = SIGN_SAN, artifact = ARTIFACT, refusedWith }) => {
    const tampered = bundle();
    await expect(independently(tampered, san, artifact)).rejects.toThrow(refusedWith);
    expect(() => bySigstoreJS(tampered, san, artifact)).toThrow();
  });

  it('refuses a bundle made on another Sigstore stack (its CA, logs and TSA not in the trusted root)', async () => {
    const other = await startSigstoreStack();
    try {
      const foreign = await signArtifact({ file: artifactPath }, signingAs(other, sign));
      await expect(independently(foreign, SIGN_SAN, ARTIFACT)).rejects.toThrow();
      expect(() => bySigstoreJS(foreign, SIGN_SAN, ARTIFACT)).toThrow();
      // And the bundle is sound: the other stack's own root verifies it.
      const otherVerifier = await independentVerifier(other.trustedRoot);
      await expect(independently(foreign, SIGN_SAN, ARTIFACT, false, otherVerifier)).resolves.toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe('what the independent verifier cannot do', () => {
  it('verifyDsse() refuses every twokey DSSE bundle: it requires a Rekor dsse entry, and twokey logs intoto ones', async () => {
    // sigstore-browser's sigstore-python-shaped verifyDsse() accepts only `dsse` entries; twokey logs DSSE envelopes as
    // `intoto` 0.0.2 (sign.ts). Its verifyArtifactPolicy() verifies the same bundle, intoto entry included (above).
    await expect(
      independent.verifyDsse(provenance as unknown as IndependentBundle, policyFor(BUILD_SAN)),
    ).rejects.toThrow('Expected entry type dsse, got intoto');
  });

  it('cannot read leaf 0 of a one-leaf tree, whose bundle JSON leaves logIndex and hashes out (proto3 defaults)', async () => {
    // The loopback log opens with an entry of its own so that no signed entry is leaf 0; a log that starts empty
    // puts its first entry there. proto3 JSON omits "logIndex": "0" and "hashes": [], and sigstore-browser reads
    // them as present (BigInt(undefined), undefined.length): a TypeError, not a verdict.
    const empty = await startSigstoreStack({ logStartsEmpty: true, verifyIdentityToken: (t) => issuer.verify(t) });
    try {
      const first = await signArtifact({ file: artifactPath }, signingAs(empty, sign));
      const entry = logEntryOf(first);
      expect([entry.logIndex, entry.inclusionProof.logIndex, entry.inclusionProof.hashes]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      const verifier = await independentVerifier(empty.trustedRoot);
      await expect(independently(first, SIGN_SAN, ARTIFACT, false, verifier)).rejects.toThrow(TypeError);
      // @sigstore/verify reads the defaults and verifies it,
      bySigstoreJS(first, SIGN_SAN, ARTIFACT, new BundleVerifier(trustedRootFromJSON(empty.trustedRoot, 'empty log')));
      // and so does sigstore-browser once the defaults are written out: the bundle is sound, the reading is not.
      const explicit = structuredClone(first);
      const explicitEntry = logEntryOf(explicit);
      explicitEntry.logIndex = '0';
      explicitEntry.inclusionProof.logIndex = '0';
      explicitEntry.inclusionProof.hashes = [];
      await expect(independently(explicit, SIGN_SAN, ARTIFACT, false, verifier)).resolves.toBe(true);
    } finally {
      await empty.close();
    }
  });
});
