// Each distinct certificate signature is checked once per process, and each public key is built once.
//
// sigstore-js checks a bundle's certificate chain once per timestamp, and the trusted root's own certificates (the
// Fulcio root's and the timestamp authority's self-signatures, the TSA's certificate) on every bundle: 12 signature
// checks for a bundle that needs 6 (certificate, SCT, SET, checkpoint, timestamp token, the signature). And it builds
// a public key from DER on every check, which costs about as much as the check itself.
//
// A certificate's signature verdict is remembered under what was signed and by whom: the SHA-256 of the exact
// TBSCertificate bytes, the signature, its algorithm and the issuer's SubjectPublicKeyInfo — never a file, a path or
// an object's identity. A certificate that differs in any signed byte, in its signature, or is checked under another
// key is checked afresh; a verdict is only ever the one OpenSSL gave for those exact inputs, true or false.
import { createPublicKey, hash, type KeyObject } from 'node:crypto';
import { crypto as sigstoreCrypto, X509Certificate } from '@sigstore/core';
import { CertificateChainVerifier } from '@sigstore/verify/dist/key/certificate.js';

/** Bounds, so that a batch of any size holds a few hundred kilobytes at most: trust keys are hit on every bundle. */
const MAX_KEYS = 256;
const MAX_VERDICTS = 4096;

const keys = new Map<string, KeyObject>();
const verdicts = new Map<string, boolean>();
const counts = { checked: 0, remembered: 0, keysBuilt: 0 };
let installed = false;

/** The SubjectPublicKeyInfo prefixes of uncompressed P-256 and P-384 keys (id-ecPublicKey, the named curve). */
const EC_SPKI_PREFIXES = [
  { prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), length: 91 },
  { prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), length: 120 },
];

/**
 * Routes @sigstore/core's certificate checks and public keys through the memo (idempotent): X509Certificate.verify
 * checks each distinct (TBSCertificate, signature, algorithm, issuer key) once; crypto.createPublicKey builds each key
 * once; crypto.digest hashes in one call.
 */
export function memoizeSignatureChecks(): void {
  if (installed) return;
  installed = true;
  const core = sigstoreCrypto as {
    createPublicKey: (key: string | Buffer, type?: string) => KeyObject;
    digest: (algorithm: string, ...data: Buffer[]) => Buffer;
  };
  const create = core.createPublicKey;
  core.createPublicKey = function cachedPublicKey(key: string | Buffer, type = 'spki'): KeyObject {
    return typeof key === 'string' ? create(key, type) : publicKeyOf(key, type);
  };
  // The same digest of the same bytes in one call to OpenSSL (crypto.hash) instead of a Hash object's three: a
  // bundle's inclusion proof alone takes ~20 digests of 33–65 bytes, where the calls cost more than the hashing.
  core.digest = function oneShotDigest(algorithm: string, ...data: Buffer[]): Buffer {
    return hash(algorithm, data.length === 1 ? data[0]! : Buffer.concat(data), 'buffer');
  };
  X509Certificate.prototype.verify = function verifyOnce(this: X509Certificate, issuer?: X509Certificate): boolean {
    // As @sigstore/core: the issuer's key, or for a self-signed certificate its own.
    const spki = issuer?.publicKey || this.publicKey;
    return verifyCertificateSignature(this.tbsCertificate.toDER(), this.signatureValue, this.signatureAlgorithm, spki);
  };
  memoizeCertificatePaths();
}

/** What CertificateChainVerifier keeps (private in its declaration): the certificate and the ones it may chain to. */
interface ChainVerifier {
  untrustedCert: X509Certificate;
  trustedCerts: X509Certificate[];
}

/**
 * sigstore-js builds a certificate's path to its trusted root again for each timestamp of a bundle (the signing
 * certificate twice a bundle), and the timestamp authority's path on every bundle. The path — which certificates
 * signed which, up to a trusted one — depends only on the certificates: it is built once for each distinct
 * certificate (by the SHA-256 of all its bytes) and list of trusted certificates (theirs); what depends on the time,
 * each certificate's validity at the timestamp, and the path's CA and length constraints, is checked on every call
 * as before. A certificate with no trusted path is looked for again each time (and fails as before).
 */
function memoizeCertificatePaths(): void {
  const verifier = CertificateChainVerifier.prototype as unknown as { sort(this: ChainVerifier): X509Certificate[] };
  const sort = verifier.sort;
  // The path after the certificate itself: trusted certificates, or the certificate itself again (UNTRUSTED).
  const paths = new Map<string, (X509Certificate | typeof UNTRUSTED)[]>();
  verifier.sort = function sortOnce(this: ChainVerifier): X509Certificate[] {
    const key = [this.untrustedCert, ...this.trustedCerts].map((c) => digestOf(c.root.toDER())).join(' ');
    const known = paths.get(key);
    if (known) return [this.untrustedCert, ...known.map((c) => (c === UNTRUSTED ? this.untrustedCert : c))];
    const path = sort.call(this);
    paths.set(
      key,
      path.slice(1).map((c) => (c === this.untrustedCert ? UNTRUSTED : c)),
    );
    if (paths.size > MAX_PATHS) paths.delete(paths.keys().next().value!);
    return path;
  };
}

const UNTRUSTED = Symbol('the certificate whose path it is');
const MAX_PATHS = 1024;

/**
 * Whether `signature` over `tbs` verifies under the SubjectPublicKeyInfo `spki` with `algorithm`, as @sigstore/core's
 * crypto.verify answers it (an exception from OpenSSL is false) — checked once per distinct set of inputs. An
 * unusable key throws, as X509Certificate.verify did, and nothing is remembered.
 */
export function verifyCertificateSignature(tbs: Buffer, signature: Buffer, algorithm: string, spki: Buffer): boolean {
  const id = signedId(tbs, signature, algorithm, spki);
  const known = verdicts.get(id);
  if (known !== undefined) {
    counts.remembered += 1;
    verdicts.delete(id);
    verdicts.set(id, known);
    return known;
  }
  const key = publicKeyOf(spki, 'spki');
  counts.checked += 1;
  const verdict = sigstoreCrypto.verify(tbs, key, signature, algorithm);
  verdicts.set(id, verdict);
  if (verdicts.size > MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
  return verdict;
}

/** A public key from its DER (`spki` or `pkcs1`), built once per process. Throws as createPublicKey does. */
export function publicKeyOf(der: Buffer, type = 'spki'): KeyObject {
  const id = `${type}:${der.toString('base64')}`;
  const known = keys.get(id);
  if (known) {
    keys.delete(id);
    keys.set(id, known);
    return known;
  }
  const key = buildPublicKey(der, type);
  counts.keysBuilt += 1;
  keys.set(id, key);
  if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value!);
  return key;
}

/** Signature checks made, answered from the memo, and public keys built, in this thread (for tests and the bench). */
export function signatureCheckCounts(): Readonly<typeof counts> {
  return { ...counts };
}

function buildPublicKey(der: Buffer, type: string): KeyObject {
  // OpenSSL reads a PEM public key ~2.4× faster than the same bytes as DER (it tries fewer decoders). Only the two EC
  // shapes whose every byte but the point is fixed take that way; anything else is read as it was given.
  if (isFixedShapeECKey(der, type)) {
    return createPublicKey(`-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`);
  }
  return createPublicKey({ key: der, format: 'der', type: type as 'spki' | 'pkcs1' });
}

/** An uncompressed P-256 or P-384 SubjectPublicKeyInfo: every byte fixed but the point's. */
function isFixedShapeECKey(der: Buffer, type: string): boolean {
  return (
    type === 'spki' &&
    EC_SPKI_PREFIXES.some((p) => der.length === p.length && der.subarray(0, p.prefix.length).equals(p.prefix))
  );
}

/**
 * What a certificate signature covers and who is said to have made it: the SHA-256 of the TBSCertificate and of the
 * issuer's SubjectPublicKeyInfo, the signature itself and its algorithm.
 */
function signedId(tbs: Buffer, signature: Buffer, algorithm: string, spki: Buffer): string {
  return `${digestOf(tbs)} ${signature.toString('base64')} ${algorithm} ${digestOf(spki)}`;
}

/**
 * The SHA-256 of a parsed object's encoding, once per Buffer: toDER hands out the same view of a parsed object's bytes
 * each time (der-cache.ts), bytes that are the reader's own copy and that nothing writes to (the one caller that changes
 * what it gets, the timestamp retag, gets a copy: a new Buffer).
 */
const digests = new WeakMap<Buffer, string>();

function digestOf(bytes: Buffer): string {
  let digest = digests.get(bytes);
  if (digest === undefined) {
    digest = hash('sha256', bytes, 'base64');
    digests.set(bytes, digest);
  }
  return digest;
}
