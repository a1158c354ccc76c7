// The latitude the Sigstore formats leave a bundle outside everything that is signed, which twokey cannot refuse
// without refusing bundles that Sigstore's own clients write and the conformance suites expect to pass. A mutation
// made only of these operations is not a finding when accepted: each is named here with the evidence for it, and
// none changes what twokey keys evidence by (the signer's TBSCertificate or key, and the signed content; see
// evidenceKey in packages/sigstore/src/verify.ts), which latitude.test.ts shows for each.
// Everything else a mutation changes — any byte of a certificate or a signature other than these, any JSON spelling,
// any unsigned log field — must be refused.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BundleOp } from './bundle-mutations';
import { type DerNode, encodeElement, parseDer, replaceNode } from './der';
import { type BundleSeed, repoRoot } from './seeds';

export interface Latitude {
  name: string;
  why: string;
  /**
   * Whether an operation on the seed stays within it (some hold only for some seeds: a key hint, with --key; some
   * only for what the mutated bundle's tokens are: `timestamps`, judgeTimestamps on the mutated bundle, asked only
   * of an operation on its tokens).
   */
  applies: (op: BundleOp, seed?: BundleSeed, timestamps?: () => TimestampJudgement) => boolean;
}

const under = (op: BundleOp, ...prefix: string[]) => 'path' in op && prefix.every((part, i) => op.path[i] === part);
const onTimestamps = (op: BundleOp) =>
  under(op, 'verificationMaterial', 'timestampVerificationData') ||
  (op.op === 'add-key' && op.path.length === 1 && op.key === 'timestampVerificationData');

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
      'not verify adds no time, and a bundle whose only time source is damaged is refused. Only such tokens (and ' +
      'tokens left out): a token changed so that it still verifies (judgeTimestamps asks sigstore-js) is a change',
    applies: (op, _seed, timestamps) => onTimestamps(op) && timestamps?.() === 'uncounted',
  },
  {
    name: "an RFC 3161 token's certificates [0] (empty, or the signing certificate alone) and its signer's digest algorithm (with or without NULL parameters)",
    why:
      "a token carries its authority's signing certificate when its request's certReq asked for it, which nothing " +
      'signs: timestamp-authority and @sigstore/mock write [0] empty or with that certificate (conformance ' +
      'rekor2-timestamp-with-embedded-cert and rekor2-timestamp-without-embedded-cert both pass), so a seed token ' +
      "in its other form verifies; any other certificates [0] is refused (TIMESTAMP_NOT_CANONICAL). The signer's " +
      'digest algorithm is not signed either, and RFC 5754 lets a writer give SHA-2 NULL parameters or none: ' +
      'timestamp-authority writes none there, @sigstore/mock NULL; digestAlgorithms must be the same',
    applies: (op, _seed, timestamps) => onTimestamps(op) && timestamps?.() === 'certificates',
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
export function latitudeOf(
  op: BundleOp,
  seed?: BundleSeed,
  timestamps?: () => TimestampJudgement,
): Latitude | undefined {
  return LATITUDES.find((latitude) => latitude.applies(op, seed, timestamps));
}

// ── RFC 3161 tokens ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * What a mutated bundle's tokens are beside the seed's: each one the seed's (each seed token at most as often as
 * the seed has it), or not one that verifies — `uncounted`; or besides those, a seed token in its other genuine
 * certificates [0] form — `certificates`; or a token that verifies and is neither — `counted`, a change.
 */
export type TimestampJudgement = 'uncounted' | 'certificates' | 'counted';

export function judgeTimestamps(bytes: Buffer, seed: BundleSeed): TimestampJudgement {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'counted';
  }
  const reference = referenceOf(seed);
  const unmatched = [...reference.tokens];
  let judgement: TimestampJudgement = 'uncounted';
  for (const token of tokensOf(json)) {
    const text = (token as { signedTimestamp?: unknown } | null)?.signedTimestamp;
    const mine = typeof text === 'string' ? unmatched.indexOf(text) : -1;
    if (mine >= 0) {
      unmatched.splice(mine, 1);
      continue;
    }
    const der = typeof text === 'string' ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (!reference.verifies(der, signatureOf(json) ?? signatureOf(seed.json))) continue;
    if (typeof text === 'string' && der.toString('base64') === text && reference.otherForms.has(text)) {
      judgement = 'certificates';
      continue;
    }
    return 'counted';
  }
  return judgement;
}

function tokensOf(json: unknown): unknown[] {
  const data = (json as { verificationMaterial?: { timestampVerificationData?: { rfc3161Timestamps?: unknown } } })
    ?.verificationMaterial?.timestampVerificationData;
  const tokens = (data as { rfc3161Timestamps?: unknown } | null | undefined)?.rfc3161Timestamps;
  return Array.isArray(tokens) ? tokens : [];
}

/** The signature a token stamps, as sigstore-js gives it: a message signature's, or the envelope's first. */
function signatureOf(json: unknown): Buffer | undefined {
  const bundle = json as {
    messageSignature?: { signature?: unknown };
    dsseEnvelope?: { signatures?: { sig?: unknown }[] };
  } | null;
  const text = bundle?.messageSignature?.signature ?? bundle?.dsseEnvelope?.signatures?.[0]?.sig;
  return typeof text === 'string' ? Buffer.from(text, 'base64') : undefined;
}

interface TimestampReference {
  tokens: string[];
  /** The seed's tokens in their other certificates [0] and digest-algorithm forms, in canonical base64. */
  otherForms: Set<string>;
  verifies: (token: Buffer, signature: Buffer | undefined) => boolean;
}

const references = new Map<string, TimestampReference>();

/**
 * The seed's tokens, and sigstore-js's own check of a token (@sigstore/verify, as packages/sigstore resolves it, not
 * twokey's rules): whether it verifies for the signature against one of the trusted root's authorities.
 */
function referenceOf(seed: BundleSeed): TimestampReference {
  const key = `${seed.path}\0${seed.trustedRoot}`;
  let reference = references.get(key);
  if (reference) return reference;
  const require = createRequire(join(repoRoot, 'packages', 'sigstore', 'package.json'));
  const { RFC3161Timestamp, X509Certificate } = require('@sigstore/core') as SigstoreCore;
  const { getTSATimestamp } = require('@sigstore/verify/dist/timestamp') as {
    getTSATimestamp: (token: unknown, data: Buffer, authorities: unknown[]) => unknown;
  };
  const { toTrustMaterial } = require('@sigstore/verify') as {
    toTrustMaterial: (root: unknown) => { timestampAuthorities: unknown[] };
  };
  const { TrustedRoot } = require('@sigstore/protobuf-specs') as { TrustedRoot: { fromJSON: (j: unknown) => unknown } };
  const rootJSON = JSON.parse(readFileSync(seed.trustedRoot, 'utf8')) as {
    timestampAuthorities?: { certChain?: { certificates?: { rawBytes: string }[] } }[];
  };
  const authorities = toTrustMaterial(TrustedRoot.fromJSON(rootJSON)).timestampAuthorities;
  const signingCertificates = (rootJSON.timestampAuthorities ?? []).flatMap((tsa) => {
    const first = tsa.certChain?.certificates?.[0];
    return first ? [Buffer.from(first.rawBytes, 'base64')] : [];
  });
  const tokens = tokensOf(seed.json).flatMap((token) => {
    const text = (token as { signedTimestamp?: unknown } | null)?.signedTimestamp;
    return typeof text === 'string' ? [text] : [];
  });
  const otherForms = new Set<string>();
  for (const text of tokens) {
    const der = Buffer.from(text, 'base64');
    const parsed = RFC3161Timestamp.parse(der);
    const signing = signingCertificates.find((certificate) => {
      const x509 = X509Certificate.parse(certificate);
      return x509.serialNumber.equals(parsed.signerSerialNumber) && x509.issuer.equals(parsed.signerIssuer);
    });
    const forms: Buffer[] = [der];
    for (const form of [Buffer.alloc(0), signing]) {
      if (form === undefined) continue;
      const other = withCertificates(der, form);
      if (other && !other.equals(der)) forms.push(other);
    }
    for (const form of forms) {
      const flipped = withNullParametersFlipped(form);
      if (flipped) forms.push(flipped);
      if (forms.length > 8) break;
    }
    for (const form of forms) if (!form.equals(der)) otherForms.add(form.toString('base64'));
  }
  reference = {
    tokens,
    otherForms,
    verifies: (token, signature) => {
      if (!signature) return false;
      try {
        getTSATimestamp(RFC3161Timestamp.parse(token), signature, authorities);
        return true;
      } catch {
        return false;
      }
    },
  };
  references.set(key, reference);
  return reference;
}

interface SigstoreCore {
  RFC3161Timestamp: {
    parse: (der: Buffer) => { signerSerialNumber: Buffer; signerIssuer: Buffer };
  };
  X509Certificate: { parse: (der: Buffer) => { serialNumber: Buffer; issuer: Buffer } };
}

/**
 * The token with the signer's digest algorithm (and digestAlgorithms', which must be the same) in its other form: NULL
 * parameters dropped, or added when it has none (RFC 5754 allows both; nothing signs them).
 */
function withNullParametersFlipped(token: Buffer): Buffer | undefined {
  const find = (bytes: Buffer) => {
    const root = parseDer(bytes);
    const signedData = root?.children[1]?.children[1]?.children[0];
    const inSet = signedData?.children[1]?.children[0];
    const inSigner = signedData?.children.at(-1)?.children[0]?.children[2];
    return root && inSet && inSigner ? { root, nodes: [inSet, inSigner] } : undefined;
  };
  const flip = (bytes: Buffer, node: DerNode): Buffer => {
    const oid = bytes.subarray(node.children[0]!.start, node.children[0]!.end);
    return encodeElement(0x30, node.children.length === 2 ? oid : Buffer.concat([oid, Buffer.of(0x05, 0x00)]));
  };
  let bytes = token;
  for (const index of [0, 1]) {
    const found = find(bytes);
    if (!found) return undefined;
    bytes = replaceNode(bytes, found.root, found.nodes[index]!, flip(bytes, found.nodes[index]!));
  }
  return bytes;
}

/** The token with certificates [0] holding exactly `content` (the certificates' DER, one after the other). */
function withCertificates(token: Buffer, content: Buffer): Buffer | undefined {
  const root = parseDer(token);
  const signedData = root?.children[1]?.children[1]?.children[0];
  const certificates = signedData?.children.find((child) => child.tag === 0xa0);
  return root && certificates ? replaceNode(token, root, certificates, encodeElement(0xa0, content)) : undefined;
}
