import { hash, type KeyObject, X509Certificate as NodeX509Certificate, verify as verifyMessage } from 'node:crypto';
import type { Bundle, MessageSignature } from '@sigstore/bundle';
import { dsse, crypto as sigstoreCrypto, type X509Certificate } from '@sigstore/core';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { type SignedEntity, toSignedEntity, VerificationError, Verifier, type VerifierOptions } from '@sigstore/verify';
import {
  compileIdentityPattern,
  type IdentityPattern,
  IN_TOTO_PAYLOAD_TYPE,
  type SignerIdentity,
  type VerifiedBundle,
} from '@twokey/core';
import { MAX_JSON_DEPTH, type ParsedBundle, scanJSON } from './bundle';
import { checkCanonical, checkUnsignedLogFields } from './canonical';
import { fulcioExtensions } from './certificate';
import { cacheDerEncodings } from './der-cache';
import {
  type ArtifactDigest,
  DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  digestBytes,
  digestFile,
  smallFileContent,
} from './digest';
import {
  asKnownError,
  BundleVerificationError,
  describeCause,
  SigstoreInputError,
  type VerificationFailureCode,
} from './error';
import { verifyPrehashed } from './prehash';
import { memoizeSignatureChecks } from './signature-memo';
import { type TrustedRootMaterial, withPublicKey } from './trust';

/** What the signer must be: an exact SAN or an anchored pattern, an exact issuer, and optional exact extensions. */
export interface ExpectedIdentity {
  issuer: string;
  san?: string;
  /** Exact SANs, any one of them (a policy identity listing two pinned versions). */
  sans?: readonly string[];
  /** Matched against the whole SAN: `^(?:pattern)$`. */
  sanPattern?: string;
  /** Fulcio extensions (by the names in FULCIO_EXTENSIONS) that must equal these values exactly. */
  extensions?: Record<string, string>;
}

/**
 * The artifact a bundle is checked against: a file (with its bytes when the caller already read a small one, so it is
 * not read again), or a digest.
 */
export type ArtifactInput = { file: string; content?: Buffer } | { digest: ArtifactDigest };

export interface VerifyOptions {
  artifact?: ArtifactInput;
  /** Required unless the verifier was built with a public key, or `anyIdentity` is set. */
  identity?: ExpectedIdentity;
  /**
   * Verify the signature, chain, log and timestamps only, and return whoever signed: the caller (the deploy
   * evaluation in packages/core) decides which policy identity, if any, the signer is.
   */
  anyIdentity?: boolean;
}

export interface BundleVerifierOptions extends VerifierOptions {
  /** Verify bundles signed by this public key (`--key`) instead of a Fulcio certificate. */
  publicKey?: KeyObject;
}

/**
 * What a Sigstore instance guarantees, by what its trusted root holds. The public-good instance logs every entry and
 * its Fulcio embeds SCTs: a bundle needs a log entry and an SCT (sigstore-js's defaults). GitHub's instance (private
 * repositories; fulcio.githubapp.com, timestamp.githubapp.com) has neither a transparency log nor a CT log — a root
 * with none — and stamps every signature with its timestamp authority instead: a bundle needs that timestamp.
 */
export function instanceThresholds(trust: TrustedRootMaterial): VerifierOptions {
  const { tlogs, ctlogs, timestampAuthorities } = trust.root;
  if (tlogs.length === 0 && ctlogs.length === 0 && timestampAuthorities.length > 0) {
    return { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 };
  }
  return {};
}

function definedOnly(options: VerifierOptions): VerifierOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** sigstore-python's bound on RFC 3161 timestamps in one bundle: more is refused, not verified one by one. */
const MAX_SIGNED_TIMESTAMPS = 32;
/**
 * The same bound on transparency log entries (a real bundle has one): each costs signature checks, and sigstore-js
 * compares every pair.
 */
const MAX_TLOG_ENTRIES = 32;

/**
 * Verifies Sigstore bundles against one trusted root. Trust material is built once, when the verifier is made;
 * each bundle then goes through @sigstore/verify (timestamps → signing key → tlog → signature), and the checks
 * sigstore-js leaves to its caller are made here: the artifact (by file or digest), the exact or anchored
 * identity, the issuer and extensions.
 */
export class BundleVerifier {
  private readonly verifier: Verifier;
  /** Verifies one RFC 3161 timestamp on its own: the bundle's signature and key at that time, no log needed. */
  private readonly timestampVerifier: Verifier;
  private readonly publicKey?: KeyObject;
  /** Of a trusted root of several (JSON Lines): a verifier per root, each with its instance's guarantees. */
  private readonly delegates?: BundleVerifier[];

  constructor(
    readonly trust: TrustedRootMaterial,
    options: BundleVerifierOptions = {},
  ) {
    cacheDerEncodings();
    memoizeSignatureChecks();
    if (trust.components && trust.components.length > 1) {
      this.delegates = trust.components.map((component) => new BundleVerifier(component, options));
    }
    const { publicKey, ...given } = options;
    const thresholds = { ...instanceThresholds(trust), ...definedOnly(given) };
    this.publicKey = publicKey;
    const material = publicKey ? withPublicKey(trust, () => ({ publicKey, validFor: () => true })) : trust.material;
    this.verifier = new Verifier(material, thresholds);
    this.timestampVerifier = new Verifier(material, {
      ctlogThreshold: thresholds.ctlogThreshold,
      tlogThreshold: 0,
      timestampThreshold: 1,
    });
  }

  /**
   * The bundle in its canonical encoding → verified by sigstore-js → the signer checked → what it is about. Throws
   * BundleVerificationError (a refusal) or SigstoreInputError; an exception no check anticipated is an InternalError
   * naming the bundle, never a refusal and never a pass.
   */
  verify(parsed: ParsedBundle, options: VerifyOptions = {}): VerifiedBundle {
    try {
      if (this.delegates) return this.delegateFor(parsed).verifyBundle(parsed, options);
      return this.verifyBundle(parsed, options);
    } catch (error) {
      throw asKnownError(error, parsed.source);
    }
  }

  /** The verifier of the root whose certificate authority issued the bundle's certificate (a key: the first). */
  private delegateFor(parsed: ParsedBundle): BundleVerifier {
    const delegates = this.delegates!;
    let entity: SignedEntity;
    try {
      entity = toSignedEntity(parsed.bundle);
    } catch {
      return delegates[0]!; // the first root's verifier refuses it, with the reason
    }
    if (entity.key.$case !== 'certificate') return delegates[0]!;
    const certificate = entity.key.certificate;
    const issuer = delegates.find((delegate) => issuedByAnAuthorityOf(delegate.trust, certificate));
    if (issuer) return issuer;
    throw new BundleVerificationError(
      'CERTIFICATE_CHAIN_UNTRUSTED',
      `${parsed.source}: ${chainsToNoAuthority(this.trust, certificate).replace(/of the trusted root /, 'of the trusted roots ')}`,
    );
  }

  private verifyBundle(parsed: ParsedBundle, options: VerifyOptions): VerifiedBundle {
    const { bundle, source } = parsed;
    if (!this.publicKey && !options.identity && !options.anyIdentity) {
      throw new SigstoreInputError('KEY_UNREADABLE', 'an expected identity or a public key is required to verify');
    }
    checkBounds(bundle, source);
    checkCanonical(parsed, this.trust);
    const entity = this.signedEntity(bundle, source, options.artifact);

    // Key material: with --key the bundle must be signed by that key, never by a certificate, and vice versa.
    if (this.publicKey && entity.key.$case !== 'public-key') {
      fail('PUBLIC_KEY_INVALID', source, 'expected a bundle signed by the given public key, found a certificate');
    }
    if (!this.publicKey && entity.key.$case !== 'certificate') {
      fail('IDENTITY_MISMATCH', source, 'expected a bundle signed by a Fulcio certificate, found a public key hint');
    }

    const counted = this.verifyChained(checkpointsNamedByKey(entity, this.trust), source);
    checkUnsignedLogFields(bundle, source);

    const signer = entity.key.$case === 'certificate' ? signerOf(entity.key.certificate) : undefined;
    if (options.identity) {
      if (!signer) fail('IDENTITY_MISMATCH', source, 'the bundle is signed by a key, not by an identity');
      checkIdentity(signer, options.identity, source);
    }

    const verified: VerifiedBundle = {
      source,
      ...(parsed.sha256 && { sha256: parsed.sha256 }),
      kind: bundle.content.$case === 'dsseEnvelope' ? 'dsse' : 'message-signature',
      signer: signer ?? { san: '', issuer: '', extensions: {} },
      signedAt: signedTimes(counted),
      evidenceKey: this.evidenceKey(bundle, entity),
    };
    if (bundle.content.$case === 'messageSignature') {
      verified.messageDigest = messageDigestOf(bundle.content.messageSignature);
    } else {
      this.checkPayload(bundle, verified, source, options.artifact);
    }
    return verified;
  }

  /**
   * verifyEntity, with a failure named for its root cause when the signing certificate was issued by no certificate
   * authority of the trusted root: a bundle of another Sigstore instance (a private one, the loopback stack of the
   * tests) fails every later check, and the fix is to give its trusted root, not to read each failure.
   */
  private verifyChained(entity: SignedEntity, source: string): SignedEntity {
    try {
      return this.verifyEntity(entity, source);
    } catch (error) {
      if (!(error instanceof BundleVerificationError) || entity.key.$case !== 'certificate') throw error;
      const certificate = entity.key.certificate;
      if (issuedByAnAuthorityOf(this.trust, certificate)) throw error;
      throw new BundleVerificationError(
        'CERTIFICATE_CHAIN_UNTRUSTED',
        `${source}: ${chainsToNoAuthority(this.trust, certificate)}`,
        { cause: error },
      );
    }
  }

  /**
   * Timestamps → signing key → tlog → signature, by @sigstore/verify. sigstore-js refuses the whole bundle when one
   * RFC 3161 timestamp does not verify; sigstore-go and sigstore-python leave such a timestamp uncounted and let
   * the thresholds decide (sigstore-python `tsa/bundle`). So after a timestamp failure the bundle is verified
   * again with only the timestamps that verify on their own. Returns the entity whose timestamps were counted.
   */
  private verifyEntity(entity: SignedEntity, source: string): SignedEntity {
    const signed = entity.timestamps.filter((t) => t.$case === 'timestamp-authority');
    // A copy must not count twice, whether or not it verifies (sigstore-python `tsa/duplicate-timestamps`), nor a
    // copy in other bytes: a timestamp is what its authority signed, its TSTInfo.
    const stamped = signed.map((t) => sha256Hex(t.timestamp.tstInfo.raw));
    if (new Set(stamped).size !== stamped.length) {
      fail('TIMESTAMP_INVALID', source, 'the same RFC 3161 timestamp (TSTInfo) is in the bundle twice');
    }
    try {
      this.verifier.verify(entity);
      return entity;
    } catch (error) {
      if (!(error instanceof VerificationError && error.code === 'TIMESTAMP_ERROR') || signed.length === 0) {
        fail(failureCode(error), source, describeCause(error), error);
      }
      const verified = signed.filter((timestamp) => {
        try {
          this.timestampVerifier.verify({ ...entity, timestamps: [timestamp], tlogEntries: [] });
          return true;
        } catch (timestampError) {
          if (timestampError instanceof VerificationError) return false;
          throw timestampError;
        }
      });
      if (verified.length === signed.length) fail(failureCode(error), source, describeCause(error), error);
      const counted = {
        ...entity,
        timestamps: [...entity.timestamps.filter((t) => t.$case !== 'timestamp-authority'), ...verified],
      };
      try {
        this.verifier.verify(counted);
        return counted;
      } catch (retryError) {
        const uncounted = `${signed.length - verified.length} of ${signed.length} RFC 3161 timestamps did not verify`;
        fail(failureCode(retryError), source, `${describeCause(retryError)} (${uncounted})`, retryError);
      }
    }
  }

  /**
   * What was signed, whatever bytes carried it: the signer (its certificate's TBSCertificate, or the key) and the
   * signed content (the DSSE pre-authentication encoding, or the message digest). Not the signature: an ECDSA
   * signature has a second valid form, (r, n - s), that anyone can compute, and a second signing of the same content
   * by the same certificate or key is the same evidence.
   */
  private evidenceKey(bundle: Bundle, entity: SignedEntity): string {
    const signer =
      entity.key.$case === 'certificate'
        ? `certificate ${sha256Hex(entity.key.certificate.tbsCertificate.toDER())}`
        : `key ${sha256Hex(this.publicKey?.export({ type: 'spki', format: 'der' }) ?? Buffer.alloc(0))}`;
    let content: string;
    if (bundle.content.$case === 'dsseEnvelope') {
      const { payloadType, payload } = bundle.content.dsseEnvelope;
      content = `dsse ${sha256Hex(dsse.preAuthEncoding(payloadType, payload))}`;
    } else {
      const { algorithm, hex } = messageDigestOf(bundle.content.messageSignature);
      content = `message ${algorithm}:${hex}`;
    }
    return sha256Hex(Buffer.from(`twokey evidence v1\n${signer}\n${content}\n`));
  }

  /** The entity sigstore-js verifies; for a message signature, bound to the artifact's digest. */
  private signedEntity(bundle: Bundle, source: string, artifact: ArtifactInput | undefined): SignedEntity {
    let entity: SignedEntity;
    try {
      entity = toSignedEntity(bundle);
    } catch (error) {
      throw new SigstoreInputError('BUNDLE_MALFORMED', `${source}: invalid bundle: ${describeCause(error)}`);
    }
    if (bundle.content.$case !== 'messageSignature') return entity;
    const messageSignature = bundle.content.messageSignature;
    if (!artifact) fail('ARTIFACT_MISMATCH', source, 'a message signature can only be verified against an artifact');
    const algorithm = messageDigestOf(messageSignature).algorithm;
    const content = 'file' in artifact ? (artifact.content ?? smallFileContent(artifact.file)) : undefined;
    const digest =
      'digest' in artifact
        ? artifact.digest
        : content
          ? digestBytes(content, [algorithm])[0]!
          : digestFile(artifact.file, [algorithm])[0]!;
    const signed = messageDigestOf(messageSignature);
    if (digest.algorithm !== signed.algorithm || digest.hex !== signed.hex) {
      fail(
        'ARTIFACT_MISMATCH',
        source,
        `the bundle signs ${signed.algorithm}:${signed.hex}, the artifact is ${digest.algorithm}:${digest.hex}`,
      );
    }
    return {
      ...entity,
      signature: new PrehashedMessageSignature(messageSignature, Buffer.from(digest.hex, 'hex'), source, content),
    };
  }

  /** A DSSE envelope must be about the artifact: an in-toto subject with its digest, or the payload itself. */
  private checkPayload(
    bundle: Bundle,
    verified: VerifiedBundle,
    source: string,
    artifact: ArtifactInput | undefined,
  ): void {
    if (bundle.content.$case !== 'dsseEnvelope') return;
    const envelope = bundle.content.dsseEnvelope;
    verified.payloadType = envelope.payloadType;
    if (envelope.payloadType === IN_TOTO_PAYLOAD_TYPE) {
      const text = envelope.payload.toString('utf8');
      // Everything that reads a statement after JSON.parse (the evaluation, a worker's structured clone) recurses.
      const scanned = scanJSON(text, MAX_JSON_DEPTH);
      if (scanned.deepAt !== undefined) {
        fail(
          'PAYLOAD_INVALID',
          source,
          `the in-toto payload nests deeper than ${MAX_JSON_DEPTH} levels (at offset ${scanned.deepAt})`,
        );
      }
      try {
        verified.statement = JSON.parse(text);
      } catch (error) {
        fail('PAYLOAD_INVALID', source, `the in-toto payload is not JSON: ${describeCause(error)}`);
      }
      // JSON.parse keeps a key's last value, other readers (protojson) refuse the statement or keep the first: one
      // signed statement must not read as two (`"subject"` written twice names two sets of artifacts).
      if (scanned.repeatedKey !== undefined) {
        fail(
          'PAYLOAD_INVALID',
          source,
          `the in-toto payload: ${scanned.repeatedKey}: written twice (JSON readers differ on which one counts)`,
        );
      }
      // Go's encoding/json (in-toto-golang, cosign) matches a field's name whatever its case and keeps the last:
      // `"subject"` then `"Subject"` is one statement to twokey and another to them.
      const variant = caseVariantKey(verified.statement);
      if (variant !== undefined) fail('PAYLOAD_INVALID', source, `the in-toto payload: ${variant}`);
    }
    if (!artifact) return;
    if (verified.statement !== undefined) {
      const subjects = subjectDigests(verified.statement);
      const algorithms = [...new Set(subjects.flatMap((s) => Object.keys(s)))].filter(isDigestAlgorithm);
      const digests = digestsOf(artifact, algorithms);
      // Exactly the digest, in the lowercase hex in-toto's digest sets hold (as the evaluation reads them): a value
      // that is not a string, or in another spelling, names no artifact.
      const matched = digests.some((d) => subjects.some((s) => s[d.algorithm] === d.hex));
      if (!matched) {
        const shown = digests.map((d) => `${d.algorithm}:${d.hex}`).join(', ') || '(no comparable digest)';
        fail('ARTIFACT_MISMATCH', source, `no subject of the statement has the artifact's digest ${shown}`);
      }
      return;
    }
    // Any other payload is the signed content itself: the artifact must be those bytes.
    const payloadDigest = sigstoreCrypto.digest('sha256', envelope.payload).toString('hex');
    const digest = digestsOf(artifact, ['sha256'])[0]!;
    if (digest.algorithm !== 'sha256' || digest.hex !== payloadDigest) {
      fail('ARTIFACT_MISMATCH', source, `the envelope's payload is sha256:${payloadDigest}, not the artifact`);
    }
  }
}

/** The artifact's digests: the one given, else over the bytes already read, else over the file (streaming). */
function digestsOf(artifact: ArtifactInput, algorithms: readonly DigestAlgorithm[]): ArtifactDigest[] {
  if ('digest' in artifact) return [artifact.digest];
  return artifact.content ? digestBytes(artifact.content, algorithms) : digestFile(artifact.file, algorithms);
}

/**
 * A message signature checked against the artifact: over its bytes by OpenSSL when they are at hand (a small file),
 * else over the prehashed digest, so a multi-GiB artifact is hashed once, streaming, and never held in memory.
 */
class PrehashedMessageSignature {
  readonly signature: Buffer;
  private readonly messageDigest: Buffer;
  private readonly algorithm: DigestAlgorithm;

  constructor(
    messageSignature: MessageSignature,
    private readonly artifactDigest: Buffer,
    private readonly source: string,
    private readonly content?: Buffer,
  ) {
    this.signature = messageSignature.signature;
    this.messageDigest = messageSignature.messageDigest?.digest ?? Buffer.alloc(0);
    this.algorithm = hashAlgorithmName(messageSignature.messageDigest?.algorithm);
  }

  compareSignature(signature: Buffer): boolean {
    return sigstoreCrypto.bufferEqual(signature, this.signature);
  }

  compareDigest(digest: Buffer): boolean {
    return sigstoreCrypto.bufferEqual(digest, this.messageDigest);
  }

  compareSignedDigest(digest: Buffer): boolean {
    return this.compareDigest(digest);
  }

  verifySignature(key: KeyObject): boolean {
    // sigstore-js hands over the key it has verified: the certificate's (chained to the root) or the trusted key.
    if (this.content && key.asymmetricKeyType === 'ec') {
      try {
        return verifyMessage(this.algorithm, this.content, key, this.signature);
      } catch {
        return false;
      }
    }
    return verifyPrehashed(key, this.artifactDigest, this.signature, this.source);
  }
}

/** The digest a message signature signs, with its algorithm's name. */
export function messageDigestOf(messageSignature: MessageSignature): { algorithm: DigestAlgorithm; hex: string } {
  const md = messageSignature.messageDigest;
  const algorithm = hashAlgorithmName(md?.algorithm);
  return { algorithm, hex: (md?.digest ?? Buffer.alloc(0)).toString('hex') };
}

/** A message digest's algorithm; none or another is refused, never read as SHA-256 (canonical.ts says which). */
function hashAlgorithmName(algorithm: HashAlgorithm | undefined): DigestAlgorithm {
  switch (algorithm) {
    case HashAlgorithm.SHA2_256:
      return 'sha256';
    case HashAlgorithm.SHA2_384:
      return 'sha384';
    case HashAlgorithm.SHA2_512:
      return 'sha512';
    default:
      throw new BundleVerificationError(
        'DIGEST_ALGORITHM_UNKNOWN',
        `messageSignature.messageDigest.algorithm: expected SHA2_256, SHA2_384 or SHA2_512, found ${algorithm === undefined ? 'nothing' : (HashAlgorithm[algorithm] ?? algorithm)}`,
      );
  }
}

function sha256Hex(bytes: Buffer): string {
  return hash('sha256', bytes, 'hex');
}

function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return (DIGEST_ALGORITHMS as readonly string[]).includes(name);
}

function subjectDigests(statement: unknown): Record<string, unknown>[] {
  const subject = (statement as { subject?: unknown } | null)?.subject;
  if (!Array.isArray(subject)) return [];
  return subject
    .map((s) => (s as { digest?: unknown } | null)?.digest)
    .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null);
}

/**
 * The first field of a statement's envelope — its top level, each subject and each subject's digests, what every
 * reader binds an artifact by — that an object has twice in letters of another case, as a path; or undefined. The
 * predicate is left as it is: its maps may hold names that differ in case (environment variables, inputs).
 */
function caseVariantKey(statement: unknown): string | undefined {
  const variant = (value: unknown, path: string): string | undefined => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const seen = new Set<string>();
    for (const key of Object.keys(value)) {
      const at = path ? `${path}.${key}` : key;
      // Go folds letters beyond ASCII too (`ſubject` is `Subject` to it: U+017F), and every in-toto field name is
      // ASCII: any other is refused rather than folded one way here and another there.
      if (!/^[\x20-\x7e]*$/.test(key)) return `${at}: a field name beyond ASCII (readers fold such names differently)`;
      const lower = key.toLowerCase();
      if (seen.has(lower)) return `${at}: written twice in other cases (JSON readers differ on which one counts)`;
      seen.add(lower);
    }
    return undefined;
  };
  const found = variant(statement, '');
  if (found !== undefined) return found;
  const subject = (statement as { subject?: unknown } | null)?.subject;
  if (!Array.isArray(subject)) return undefined;
  for (const [i, entry] of subject.entries()) {
    const at = `subject[${i}]`;
    const inEntry = variant(entry, at) ?? variant((entry as { digest?: unknown } | null)?.digest, `${at}.digest`);
    if (inEntry !== undefined) return inEntry;
  }
  return undefined;
}

/** How many timestamps and log entries a bundle may carry, checked before any of them is read. */
function checkBounds(bundle: Bundle, source: string): void {
  const timestamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0;
  if (timestamps > MAX_SIGNED_TIMESTAMPS) {
    fail(
      'TIMESTAMP_INVALID',
      source,
      `expected at most ${MAX_SIGNED_TIMESTAMPS} RFC 3161 timestamps, found ${timestamps}`,
    );
  }
  const entries = bundle.verificationMaterial.tlogEntries.length;
  if (entries > MAX_TLOG_ENTRIES) {
    fail('TLOG_INVALID', source, `expected at most ${MAX_TLOG_ENTRIES} transparency log entries, found ${entries}`);
  }
}

/** Fulcio's otherName SAN (a username identity, e.g. `foo!oidc.local`): an identity like a URI or an e-mail. */
const OTHERNAME_SAN_OID = '1.3.6.1.4.1.57264.1.7';

function signerOf(certificate: X509Certificate): SignerIdentity {
  const extensions = fulcioExtensions(certificate);
  const san = certificate.subjectAltName ?? certificate.extSubjectAltName?.otherName(OTHERNAME_SAN_OID) ?? '';
  return { san, issuer: extensions.issuer ?? '', extensions };
}

/**
 * A checkpoint's log, found by its key as sigstore-go finds it: a signature line whose key hint names a log of the
 * trusted root and whose signature verifies under that log's key is that log's, whatever name it is written under.
 * sigstore-js also wants the name inside the log's URL (a private instance's log name often is not), so such a line
 * is handed to it under the log's host. The note itself, which the signature covers, is unchanged; a line no trusted
 * key verifies is left as it is (and fails there as before).
 */
function checkpointsNamedByKey(entity: SignedEntity, trust: TrustedRootMaterial): SignedEntity {
  const tlogs = trust.material.tlogs;
  const replaced = new Map<SignedEntity['tlogEntries'][number], SignedEntity['tlogEntries'][number]>();
  const tlogEntries = entity.tlogEntries.map((entry) => {
    const envelope = entry.inclusionProof?.checkpoint?.envelope;
    const split = envelope?.indexOf('\n\n') ?? -1;
    if (!envelope || split < 0) return entry;
    const note = Buffer.from(envelope.slice(0, split + 1), 'utf8');
    const renamed = envelope.replace(/\u2014 (\S+) (\S+)\n/g, (line, name: string, encoded: string) => {
      const bytes = Buffer.from(encoded, 'base64');
      if (bytes.length < 5) return line;
      const hinted = tlogs.filter((t) => sigstoreCrypto.bufferEqual(t.logID.subarray(0, 4), bytes.subarray(0, 4)));
      // Named as sigstore-js expects (every public-good checkpoint): left to sigstore-js, verified once, there.
      if (hinted.some((t) => t.baseURL.includes(name))) return line;
      const log = hinted.find((t) => sigstoreCrypto.verify(note, t.publicKey, bytes.subarray(4)));
      if (!log) return line;
      let host: string;
      try {
        host = new URL(log.baseURL).host;
      } catch {
        return line;
      }
      return `\u2014 ${host} ${encoded}\n`;
    });
    if (renamed === envelope) return entry;
    const named = { ...entry, inclusionProof: { ...entry.inclusionProof!, checkpoint: { envelope: renamed } } };
    replaced.set(entry, named);
    return named;
  });
  if (replaced.size === 0) return entity;
  // The log entries that date the signature are the same entries: handed over renamed too.
  const timestamps = entity.timestamps.map((timestamp) =>
    timestamp.$case === 'transparency-log' && replaced.has(timestamp.tlogEntry)
      ? { ...timestamp, tlogEntry: replaced.get(timestamp.tlogEntry)! }
      : timestamp,
  );
  return { ...entity, tlogEntries, timestamps };
}

function signedTimes(entity: SignedEntity): Date[] {
  const times: Date[] = [];
  for (const timestamp of entity.timestamps) {
    if (timestamp.$case === 'timestamp-authority') times.push(timestamp.timestamp.signingTime);
    else if (timestamp.tlogEntry.inclusionPromise) {
      times.push(new Date(Number(timestamp.tlogEntry.integratedTime) * 1000));
    }
  }
  return times;
}

/** Exact SAN or anchored pattern; exact issuer; exact extensions. A prefix never matches. */
export function checkIdentity(signer: SignerIdentity, expected: ExpectedIdentity, source: string): void {
  // An identity that names no SAN matches none, never every SAN of the issuer.
  if (expected.san === undefined && expected.sanPattern === undefined && !expected.sans?.length) {
    fail('IDENTITY_MISMATCH', source, 'the expected identity names neither a SAN nor a SAN pattern');
  }
  if (expected.san !== undefined && signer.san !== expected.san) {
    fail('IDENTITY_MISMATCH', source, `expected identity ${expected.san}, found ${signer.san || '(none)'}`);
  }
  if (expected.sans !== undefined && !expected.sans.includes(signer.san)) {
    fail(
      'IDENTITY_MISMATCH',
      source,
      `expected identity one of ${expected.sans.join(', ')}, found ${signer.san || '(none)'}`,
    );
  }
  if (expected.sanPattern !== undefined && !anchored(expected.sanPattern).matches(signer.san)) {
    fail('IDENTITY_MISMATCH', source, `expected identity matching ^(?:${expected.sanPattern})$, found ${signer.san}`);
  }
  if (signer.issuer !== expected.issuer) {
    fail('ISSUER_MISMATCH', source, `expected issuer ${expected.issuer}, found ${signer.issuer || '(none)'}`);
  }
  for (const [name, value] of Object.entries(expected.extensions ?? {})) {
    if (signer.extensions[name] !== value) {
      fail(
        'EXTENSION_MISMATCH',
        source,
        `expected ${name} ${value}, found ${signer.extensions[name] ?? '(not in the certificate)'}`,
      );
    }
  }
}

/** The whole SAN against the pattern, in linear time (RE2 semantics, as cosign): core's identity-pattern.ts. */
export function anchored(pattern: string): IdentityPattern {
  return compileIdentityPattern(pattern);
}

/** A refusal's code; an exception that is not a verification failure is rethrown, to become an InternalError. */
/** Whether some certificate of one of the trusted root's certificate authorities signed this certificate. */
function issuedByAnAuthorityOf(trust: TrustedRootMaterial, certificate: X509Certificate): boolean {
  return trust.material.certificateAuthorities.some((authority) =>
    authority.certChain.some((candidate) => {
      try {
        return certificate.verify(candidate);
      } catch {
        return false;
      }
    }),
  );
}

/**
 * The cause, without the bundle's name, so that bundles of one other instance read the same:
 * `the signing certificate (issued by CN=…, O=…) chains to no certificate authority of the public-good trusted root`.
 */
function chainsToNoAuthority(trust: TrustedRootMaterial, certificate: X509Certificate): string {
  let issuer: string;
  try {
    issuer = new NodeX509Certificate(certificate.root.toDER()).issuer.split('\n').join(', ');
  } catch {
    issuer = 'an unreadable name';
  }
  return `the signing certificate (issued by ${issuer}) chains to no certificate authority of ${trustedRootName(trust)}`;
}

/** `the public-good trusted root`, or `the trusted root FILE`. */
function trustedRootName(trust: TrustedRootMaterial): string {
  return trust.source === 'public-good' ? 'the public-good trusted root' : `the trusted root ${trust.source}`;
}

function failureCode(error: unknown): VerificationFailureCode {
  if (error instanceof BundleVerificationError) return error.code;
  if (!(error instanceof VerificationError)) throw error;
  switch (error.code) {
    case 'CERTIFICATE_ERROR':
      return 'CERTIFICATE_INVALID';
    case 'PUBLIC_KEY_ERROR':
      return 'PUBLIC_KEY_INVALID';
    case 'SIGNATURE_ERROR':
      return 'SIGNATURE_INVALID';
    case 'TIMESTAMP_ERROR':
      return 'TIMESTAMP_INVALID';
    case 'NOT_IMPLEMENTED_ERROR':
      return 'UNSUPPORTED';
    default:
      return error.code.startsWith('TLOG') ? 'TLOG_INVALID' : 'VERIFICATION_FAILED';
  }
}

function fail(code: VerificationFailureCode, source: string, message: string, cause?: unknown): never {
  if (cause instanceof BundleVerificationError) throw cause;
  throw new BundleVerificationError(code, `${source}: ${message}`, { cause });
}
