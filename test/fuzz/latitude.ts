// The latitude the Sigstore formats leave a bundle outside everything that is signed, which twokey cannot refuse
// without refusing bundles that Sigstore's own clients write and the conformance suites expect to pass. A mutation
// made only of these operations is not a finding when accepted: each is named here with the evidence for it, and
// none changes what twokey keys evidence by (the signer's TBSCertificate or key, and the signed content; see
// evidenceKey in packages/sigstore/src/verify.ts), which latitude.test.ts shows for each.
// Everything else a mutation changes — any byte of a certificate or a signature other than these, any JSON spelling,
// any unsigned log field — must be refused.
import type { BundleOp } from './bundle-mutations';
import type { BundleSeed } from './seeds';

export interface Latitude {
  name: string;
  why: string;
  /** Whether an operation on the seed stays within it (some hold only for some seeds: a key hint, with --key). */
  applies: (op: BundleOp, seed?: BundleSeed) => boolean;
}

const under = (op: BundleOp, ...prefix: string[]) => 'path' in op && prefix.every((part, i) => op.path[i] === part);

export const LATITUDES: readonly Latitude[] = [
  {
    name: 'ECDSA (r, n - s)',
    why:
      'an ECDSA signature has a second valid form anyone can compute; Fulcio, Rekor and timestamp authorities do not ' +
      'normalise s (64 of the 104 certificate signatures in ../shared are high-s), so neither form can be refused',
    applies: (op) => op.op === 'der' && op.how === 'high-s',
  },
  {
    name: 'RFC 3161 timestamps that do not verify are uncounted',
    why:
      'sigstore-python and sigstore-go count the timestamps that verify and let the threshold decide (conformance ' +
      'sigstore-python tsa/bundle expects a pass with one of two timestamps not verifying); a timestamp that does ' +
      'not verify adds no time, and a bundle whose only time source is damaged is refused',
    applies: (op) =>
      under(op, 'verificationMaterial', 'timestampVerificationData') ||
      (op.op === 'add-key' && op.path.length === 1 && op.key === 'timestampVerificationData'),
  },
  {
    name: 'the media type is a label',
    why:
      'both spellings of v0.3 are in bundles the suites expect to pass (sigstore-python bundle_v3_alt, sigstore-js ' +
      'fixtures), and a relabelling is accepted only when @sigstore/bundle finds the content valid for the new label',
    applies: (op) => under(op, 'mediaType'),
  },
  {
    name: "a checkpoint's signature lines: order, and cosignatures of witnesses the root does not name",
    why:
      'the order of a signed note’s signatures is not signed (conformance rekor2-checkpoint-origin-not-first passes) ' +
      'and a cosignature of a key the trusted root does not name is ignored (rekor2-checkpoint-multiple-cosigs passes)',
    applies: (op) => op.op === 'checkpoint' && (op.how === 'reorder-signatures' || op.how === 'drop-signature'),
  },
  {
    name: 'the public-key hint, with --key',
    why:
      'a hint only says which key to look up; given the key, no verifier reads it, and nothing signs it (whatever ' +
      'operations leave the identifier an object holding at most a hint are within it too: withinPublicKeyHint)',
    applies: (op, seed) =>
      seed?.key !== undefined &&
      (under(op, 'verificationMaterial', 'publicKey', 'hint') ||
        (op.op === 'add-key' && op.path.length === 1 && under(op, 'verificationMaterial') && op.key === 'publicKey')),
  },
  {
    name: "a v0.1 entry's inclusion proof beside its promise",
    why:
      'a v0.1 bundle needs only the inclusion promise (sigstore-js fixtures V1-MESSAGE_SIGNATURE-WITH_SIGNING_CERT and ' +
      'bundleV01-dsse-no-proof have no proof); a proof beside it is verified when present, and without it the ' +
      'promise still signs the entry',
    applies: (op) =>
      (op.op === 'drop' || op.op === 'retype') && op.path.length === 4 && op.path[3] === 'inclusionProof',
  },
];

/** The latitude an operation on a seed stays within, if any. */
export function latitudeOf(op: BundleOp, seed?: BundleSeed): Latitude | undefined {
  return LATITUDES.find((latitude) => latitude.applies(op, seed));
}
