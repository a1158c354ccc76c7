// Evidence for the canonical-encoding tests: real bundles signed on the loopback Sigstore stack (as the demo signs
// them), the JSON fields the attacks re-encode, and the verdict of one verification as a code.
import { createHash } from 'node:crypto';
import {
  type ArtifactDigest,
  BundleVerificationError,
  BundleVerifier,
  type KeylessSigningOptions,
  parseBundleJSON,
  SigstoreInputError,
  signArtifact,
  signStatement,
  type TrustedRootMaterial,
  trustedRootFromJSON,
} from '@twokey/sigstore';
import { identity, type OidcIssuer, type SigstoreStack, startOidcIssuer, startSigstoreStack } from '@twokey/testkit';

/** The fields of a bundle's JSON the attacks change; int64 and algorithm fields are `unknown` to spell them freely. */
export interface BundleJSON {
  mediaType: string;
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    tlogEntries: TlogEntryJSON[];
    timestampVerificationData?: { rfc3161Timestamps: { signedTimestamp: string }[] };
  };
  messageSignature?: { messageDigest: { algorithm?: unknown; digest: string }; signature: string };
  dsseEnvelope?: { payload: string; payloadType: string; signatures: { sig: string }[] };
}

export interface TlogEntryJSON {
  logIndex?: unknown;
  integratedTime?: unknown;
  inclusionProof?: {
    logIndex?: unknown;
    rootHash: string;
    treeSize?: unknown;
    hashes?: string[];
    checkpoint: { envelope: string };
  };
}

export interface LoopbackEvidence {
  stack: SigstoreStack;
  issuer: OidcIssuer;
  trust: TrustedRootMaterial;
  verifier: BundleVerifier;
  /** A message signature over `artifact` (v0.3, certificate, Rekor entry with proof and checkpoint, RFC 3161). */
  signature: BundleJSON;
  /** An in-toto statement about `artifact`, in a DSSE envelope. */
  statement: BundleJSON;
  artifact: ArtifactDigest;
  /** The signer's SAN, as the certificate names it. */
  san: string;
  options: KeylessSigningOptions;
  close(): Promise<void>;
}

export const ISSUER = 'https://token.actions.githubusercontent.com';
const SHA = 'c'.repeat(40);

export async function signLoopbackEvidence(): Promise<LoopbackEvidence> {
  const issuer = await startOidcIssuer();
  const stack = await startSigstoreStack({ verifyIdentityToken: (token) => issuer.verify(token) });
  const build = identity('acme/app', '.github/workflows/build.yml', 'refs/heads/main', SHA);
  const options: KeylessSigningOptions = {
    endpoints: { fulcioURL: stack.fulcioURL, rekorURL: stack.rekorURL, tsaURL: stack.tsaURL },
    identityToken: () => issuer.mint(build, { audience: 'sigstore' }),
  };
  const hex = createHash('sha256').update('app 1.0\n').digest('hex');
  const artifact: ArtifactDigest = { algorithm: 'sha256', hex };
  const signature = (await signArtifact({ digest: artifact }, options)) as unknown as BundleJSON;
  const statement = (await signStatement(
    {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'app.tar.gz', digest: { sha256: hex } }],
      predicateType: 'https://example.com/test/v1',
      predicate: {},
    },
    options,
  )) as unknown as BundleJSON;
  const trust = trustedRootFromJSON(stack.trustedRoot, stack.trustedRootPath);
  const verifier = new BundleVerifier(trust);
  const san = verifier.verify(parseBundleJSON(signature, 'signature'), {
    artifact: { digest: artifact },
    anyIdentity: true,
  }).signer.san;
  return {
    stack,
    issuer,
    trust,
    verifier,
    signature,
    statement,
    artifact,
    san,
    options,
    close: async () => {
      await stack.close();
      await issuer.close();
    },
  };
}

/** A deep copy of a bundle's JSON with `change` applied. */
export function changed(bundle: BundleJSON, change: (copy: BundleJSON) => void): BundleJSON {
  const copy = structuredClone(bundle);
  change(copy);
  return copy;
}

/** The verdict of one verification: `verified`, or the code of the refusal or input error. Anything else throws. */
export function outcomeOf(verify: () => unknown): string {
  try {
    verify();
    return 'verified';
  } catch (error) {
    if (error instanceof BundleVerificationError || error instanceof SigstoreInputError) return error.code;
    throw error;
  }
}

/** The bytes with one bit flipped (bit 0 is the most significant bit of the first byte). */
export function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 0x80 >> (bit & 7);
  return copy;
}

/** A DER element at `at`: the size of its tag and length octets, and of its content. */
export function derElement(bytes: Buffer, at = 0): { header: number; length: number; end: number } {
  const first = bytes[at + 1]!;
  const count = first < 0x80 ? 0 : first & 0x7f;
  const length = count === 0 ? first : bytes.readUIntBE(at + 2, count);
  return { header: 2 + count, length, end: at + 2 + count + length };
}

/** How many times each outcome occurred, for a failure message that shows what got through. */
export function tally(outcomes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}
