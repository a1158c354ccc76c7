// One signed event, one encoding. sigstore-js verifies what was signed and reads the bytes around it leniently: a
// certificate's bytes outside its TBSCertificate, a timestamp token's wrapping and the certificates embedded in it,
// an inclusion proof's root hash and tree size (never compared with the signed checkpoint), text after a
// checkpoint's signatures, int64 fields spelled `+N` or `N.0`, a message digest without an algorithm, a media type
// that does not match the content. None of that changes who signed what, but anything that counted evidence by its
// bytes could be fooled by re-encoding it. So a bundle is evidence only in its canonical form: each rule below
// refuses one way to re-encode it, with its own code, naming the field. (What the evidence is keyed by is
// evidenceKey in verify.ts: what was signed, never the file's bytes.)
import { X509Certificate as OpenSSLCertificate } from 'node:crypto';
import { BUNDLE_V03_LEGACY_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE, type Bundle } from '@sigstore/bundle';
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import type { ParsedBundle } from './bundle';
import { BundleVerificationError, describeCause, type VerificationFailureCode } from './error';
import type { TrustedRootMaterial } from './trust';

/** Refuses a bundle that is not in its canonical encoding: the rules in the order a reader meets the fields. */
export function checkCanonical(parsed: ParsedBundle, trust: TrustedRootMaterial): void {
  const { json, bundle, source } = parsed;
  checkMediaType(bundle, source);
  checkInt64Spellings(json, source);
  checkMessageDigestAlgorithm(json, bundle, source);
  checkSignatureKeyIds(bundle, source);
  checkCertificates(bundle, trust, source);
  checkTimestampTokens(bundle, trust, source);
  checkInclusionProofs(bundle, source);
}

// ── media type ──────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The media type must be one whose version can carry the content. @sigstore/bundle already refuses a v0.3 bundle
 * with an `x509CertificateChain`, a v0.1 log entry without an inclusion promise and a v0.2+ entry without an
 * inclusion proof and checkpoint; what it leaves is `certificate`, which came with v0.3: a v0.1 or v0.2 label on
 * such a bundle is a relabelling. (A v0.2 bundle whose entries also carry promises is valid v0.1 content, and the
 * two spellings of v0.3 name one format: those relabellings change nothing the content says.)
 */
function checkMediaType(bundle: Bundle, source: string): void {
  const v03 = bundle.mediaType === BUNDLE_V03_MEDIA_TYPE || bundle.mediaType === BUNDLE_V03_LEGACY_MEDIA_TYPE;
  if (bundle.verificationMaterial.content.$case === 'certificate' && !v03) {
    fail(
      'MEDIA_TYPE_MISMATCH',
      source,
      `mediaType: ${bundle.mediaType} has no verificationMaterial.certificate (a v0.3 field); expected ${BUNDLE_V03_MEDIA_TYPE}`,
    );
  }
}

// ── DSSE key ids ────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A DSSE signature's `keyid` is not signed: on an envelope a certificate signs it names nothing (the certificate
 * does), and every keyless signer — sigstore-js, cosign, actions/attest — leaves it empty. Any other value would make
 * other bytes of the same signed event (decision records and the report name bundles by their bytes' SHA-256). With
 * a public key (`--key`) it may hint at the key, and is left as it is.
 */
function checkSignatureKeyIds(bundle: Bundle, source: string): void {
  if (bundle.content.$case !== 'dsseEnvelope') return;
  const material = bundle.verificationMaterial.content.$case;
  if (material !== 'certificate' && material !== 'x509CertificateChain') return;
  bundle.content.dsseEnvelope.signatures.forEach((signature, i) => {
    if (signature.keyid !== '') {
      fail(
        'KEYID_NOT_CANONICAL',
        source,
        `dsseEnvelope.signatures[${i}].keyid: expected none on an envelope a certificate signs (it is not signed: any value reads the same), found ${JSON.stringify(signature.keyid)}`,
      );
    }
  });
}

// ── int64 fields ────────────────────────────────────────────────────────────────────────────────────────────────

/** The protobuf JSON spelling of a non-negative int64, as every producer writes it: a decimal string, no sign. */
const INT64_SPELLING = /^(0|[1-9][0-9]{0,18})$/;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A log index, an integrated time and a tree size are decimal strings. The protobuf reader takes anything and
 * sigstore-js reads it with Number() or BigInt(), so `+5`, `5.0`, `0x5`, `05` and the number 5 would all be 5:
 * refused. None of them is ever negative (sigstore-conformance `bundle-negative-log-index_fail`).
 */
function checkInt64Spellings(json: Readonly<Record<string, unknown>>, source: string): void {
  const entries = field(field(json, 'verificationMaterial'), 'tlogEntries');
  if (!Array.isArray(entries)) return;
  entries.forEach((entry, i) => {
    const at = `verificationMaterial.tlogEntries[${i}]`;
    const proof = field(entry, 'inclusionProof');
    for (const [path, value] of [
      [`${at}.logIndex`, field(entry, 'logIndex')],
      [`${at}.integratedTime`, field(entry, 'integratedTime')],
      [`${at}.inclusionProof.logIndex`, field(proof, 'logIndex')],
      [`${at}.inclusionProof.treeSize`, field(proof, 'treeSize')],
    ] as const) {
      if (value === undefined) continue;
      if (typeof value !== 'string' || !INT64_SPELLING.test(value) || BigInt(value) > INT64_MAX) {
        fail(
          'INTEGER_NOT_CANONICAL',
          source,
          `${path}: expected a decimal string (the protobuf JSON spelling of an int64, e.g. "42"), found ${shown(value)}`,
        );
      }
    }
  });
}

// ── message digest ──────────────────────────────────────────────────────────────────────────────────────────────

/** The digest algorithms of a message signature, by their protobuf JSON names, with their digest lengths. */
const MESSAGE_DIGEST_LENGTHS: Record<string, number> = { SHA2_256: 32, SHA2_384: 48, SHA2_512: 64 };

/**
 * A message signature names its digest's algorithm, by name, and the digest has that algorithm's length. A missing
 * or unknown algorithm would otherwise be read as SHA-256.
 */
function checkMessageDigestAlgorithm(json: Readonly<Record<string, unknown>>, bundle: Bundle, source: string): void {
  if (bundle.content.$case !== 'messageSignature') return;
  const algorithm = field(field(field(json, 'messageSignature'), 'messageDigest'), 'algorithm');
  const length = typeof algorithm === 'string' ? MESSAGE_DIGEST_LENGTHS[algorithm] : undefined;
  if (length === undefined) {
    fail(
      'DIGEST_ALGORITHM_UNKNOWN',
      source,
      `messageSignature.messageDigest.algorithm: expected one of ${Object.keys(MESSAGE_DIGEST_LENGTHS).join(', ')}, found ${shown(algorithm)}`,
    );
  }
  const digest = bundle.content.messageSignature.messageDigest?.digest ?? Buffer.alloc(0);
  if (digest.length !== length) {
    fail(
      'DIGEST_ALGORITHM_UNKNOWN',
      source,
      `messageSignature.messageDigest.digest: expected ${length} bytes of ${algorithm}, found ${digest.length}`,
    );
  }
}

// ── certificates ────────────────────────────────────────────────────────────────────────────────────────────────

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const NULL = 0x05;
const OID = 0x06;
const GENERALIZED_TIME = 0x18;
const CONTEXT_0 = 0xa0;
const CONTEXT_1 = 0xa1;

/**
 * The signing certificate, and every certificate of a v0.1/v0.2 chain, is strict DER. The certificates after the
 * leaf are never read by the verifier (it chains the leaf to the trusted root's own certificates), so each must be
 * one of those, byte for byte, and together they are nothing or the leaf's path to its root — the two forms
 * clients write (the leaf alone; sigstore-js 1.x the whole chain).
 */
function checkCertificates(bundle: Bundle, trust: TrustedRootMaterial, source: string): void {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'certificate') {
    checkCertificateDER(material.certificate.rawBytes, 'verificationMaterial.certificate', source);
  }
  if (material.$case !== 'x509CertificateChain') return;
  const chain = material.x509CertificateChain.certificates;
  const trusted = trust.root.certificateAuthorities.flatMap((ca) => ca.certChain?.certificates ?? []);
  chain.forEach((certificate, i) => {
    const at = `verificationMaterial.x509CertificateChain.certificates[${i}]`;
    checkCertificateDER(certificate.rawBytes, at, source);
    if (i > 0 && !trusted.some((t) => t.rawBytes.equals(certificate.rawBytes))) {
      fail(
        'CERTIFICATE_CHAIN_UNTRUSTED',
        source,
        `${at}: expected a certificate of the trusted root's certificate authorities (the verifier chains to those, never to this one)`,
      );
    }
  });
  const [leaf, ...rest] = chain;
  if (leaf && rest.length > 0) checkIssuingChain(leaf.rawBytes, rest, trust, source);
}

/**
 * The certificates after a v0.1/v0.2 leaf: exactly the leaf's path to its root within one of the trusted root's
 * certificate authorities — its issuer, that one's issuer, … the self-signed root — as clients write it (sigstore-js
 * 1.x; whatever order the trusted root lists the authority's certificates in). Any other list of trusted
 * certificates (fewer, more, reordered, repeated) verifies the same, so it would be another encoding.
 */
function checkIssuingChain(
  leafDER: Buffer,
  rest: readonly { rawBytes: Buffer }[],
  trust: TrustedRootMaterial,
  source: string,
): void {
  const leaf = X509Certificate.parse(leafDER as Buffer<ArrayBuffer>);
  const paths = trust.root.certificateAuthorities
    .map((ca) => pathToRoot(leaf, ca.certChain?.certificates ?? []))
    .filter((path) => path.length > 0);
  const same = (path: readonly Buffer[]) =>
    path.length === rest.length && path.every((der, i) => der.equals(rest[i]!.rawBytes));
  if (!paths.some(same)) {
    const expected = paths[0]
      ? `the ${paths[0].length} certificates from the leaf's issuer to its root`
      : 'none (no trusted certificate authority issued the leaf)';
    fail(
      'CERTIFICATE_CHAIN_UNTRUSTED',
      source,
      `verificationMaterial.x509CertificateChain.certificates[1..]: expected nothing after the leaf, or ${expected}; found ${rest.length} other certificates`,
    );
  }
}

/** The certificates of one authority's chain from the leaf's issuer up: each issued the one before, to a self-signed root. */
function pathToRoot(leaf: X509Certificate, chain: readonly { rawBytes: Buffer }[]): Buffer[] {
  const certificates = chain.flatMap(({ rawBytes }) => {
    try {
      return [{ der: rawBytes, certificate: X509Certificate.parse(rawBytes as Buffer<ArrayBuffer>) }];
    } catch {
      return []; // unreadable in the trusted root: it issued nothing the verifier will accept
    }
  });
  const path: Buffer[] = [];
  for (let current = leaf; path.length < certificates.length; ) {
    const issuer = certificates.find(({ certificate }) => issued(certificate, current));
    if (!issuer || path.some((der) => der.equals(issuer.der))) break;
    path.push(issuer.der);
    if (issuer.certificate.subject.equals(issuer.certificate.issuer)) break; // the root
    current = issuer.certificate;
  }
  return path;
}

/** Whether `issuer` issued `certificate`: it names it as issuer and its key signed it. */
function issued(issuer: X509Certificate, certificate: X509Certificate): boolean {
  try {
    return issuer.subject.equals(certificate.issuer) && certificate.verify(issuer);
  } catch {
    return false;
  }
}

function checkCertificateDER(der: Buffer, at: string, source: string): void {
  const problem = strictCertificateProblem(der);
  if (problem) fail('CERTIFICATE_NOT_DER', source, `${at}: ${problem}`);
}

/**
 * Why a certificate is not strict DER, or undefined. Strict means both readers accept all of it — OpenSSL (Node's
 * X509Certificate) and @sigstore/core, which verifies it — and the bytes outside the signed TBSCertificate have
 * their one form: SEQUENCE { tbsCertificate, signatureAlgorithm (the same as the TBSCertificate's signature field,
 * RFC 5280 4.1.1.2), BIT STRING with no unused bits }. (@sigstore/core's reader refuses non-minimal and indefinite
 * lengths, long-form tags and trailing bytes, so each element it accepts has one tag-and-length encoding.)
 */
function strictCertificateProblem(der: Buffer): string | undefined {
  let root: ASN1Obj;
  try {
    // The bytes sigstore-js parses next: parsed once for both (der-cache.ts).
    root = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
  } catch (error) {
    return `not DER: ${describeCause(error)}`;
  }
  try {
    new OpenSSLCertificate(der);
  } catch (error) {
    return `OpenSSL does not read it as a certificate: ${describeCause(error)}`;
  }
  if (!hasTags(root, [SEQUENCE, SEQUENCE, BIT_STRING]) || root.tag.toDER() !== SEQUENCE) {
    return 'expected SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }';
  }
  const [tbs, algorithm, signature] = root.subs as [ASN1Obj, ASN1Obj, ASN1Obj];
  const signedAlgorithm = tbs.subs[tbs.subs[0]?.tag.toDER() === CONTEXT_0 ? 2 : 1];
  if (!signedAlgorithm || !sameElement(algorithm, signedAlgorithm)) {
    return "signatureAlgorithm: expected the TBSCertificate's own signature algorithm";
  }
  if (signature.value[0] !== 0) return 'signatureValue: expected a BIT STRING with no unused bits';
  return unreadableBySigstore(root);
}

/** What @sigstore/core reads of a certificate while verifying it: all of it must read, here rather than mid-check. */
function unreadableBySigstore(root: ASN1Obj): string | undefined {
  try {
    const certificate = new X509Certificate(root);
    void [certificate.version, certificate.serialNumber, certificate.issuer, certificate.subject];
    void [certificate.notBefore.getTime(), certificate.notAfter.getTime(), certificate.publicKey];
    void [certificate.signatureAlgorithm, certificate.subjectAltName, certificate.isCA];
    void [certificate.extAuthorityKeyID?.keyIdentifier, certificate.extSubjectKeyID?.keyIdentifier];
    void certificate.extSCT?.signedCertificateTimestamps;
    if (Number.isNaN(certificate.notBefore.getTime()) || Number.isNaN(certificate.notAfter.getTime())) {
      return 'validity: not a valid time';
    }
    return undefined;
  } catch (error) {
    return `@sigstore/core cannot read it: ${describeCause(error)}`;
  }
}

// ── RFC 3161 timestamp tokens ───────────────────────────────────────────────────────────────────────────────────

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
/** The digests @sigstore/core computes for a token (its SHA2_HASH_ALGOS). */
const HASH_ALGORITHMS = new Set(['2.16.840.1.101.3.4.2.1', '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3']);
/**
 * The token signatures @sigstore/core verifies: ECDSA with SHA-2. For any other OID it passes no digest to
 * OpenSSL, which then picks its default: the OID is outside the signed attributes, so it must be one it knows.
 */
const SIGNATURE_ALGORITHMS = new Set(['1.2.840.10045.4.3.2', '1.2.840.10045.4.3.3', '1.2.840.10045.4.3.4']);

/**
 * Every RFC 3161 token is a well-formed TimeStampResp (else TIMESTAMP_INVALID: sigstore-js would stumble on it
 * with a TypeError) in its one encoding (else TIMESTAMP_NOT_CANONICAL): what is signed is the TSTInfo and the
 * signed attributes; everything around them has the single form the timestamp authorities write.
 */
function checkTimestampTokens(bundle: Bundle, trust: TrustedRootMaterial, source: string): void {
  const tokens = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
  if (tokens.length === 0) return;
  const trusted = trustedTimestampCertificates(trust);
  tokens.forEach((token, i) => {
    const at = `verificationMaterial.timestampVerificationData.rfc3161Timestamps[${i}].signedTimestamp`;
    const problem = timestampTokenProblem(token.signedTimestamp, trusted);
    if (problem) fail(problem.code, source, `${at}: ${problem.message}`);
  });
}

/** The trusted root's timestamp authority certificates: all of them, and each authority's signing certificate. */
interface TrustedTimestampCertificates {
  all: ASN1Obj[];
  /** The first certificate of each authority's chain (the one whose key signs tokens), with its issuer and serial. */
  signers: { certificate: ASN1Obj; issuer: ASN1Obj; serialNumber: ASN1Obj }[];
}

/** Read once per trusted root. */
const timestampCertificates = new WeakMap<TrustedRootMaterial, TrustedTimestampCertificates>();

function trustedTimestampCertificates(trust: TrustedRootMaterial): TrustedTimestampCertificates {
  let read = timestampCertificates.get(trust);
  if (!read) {
    const chains = trust.root.timestampAuthorities.map((tsa) =>
      (tsa.certChain?.certificates ?? []).flatMap((certificate) => {
        try {
          return [ASN1Obj.parseBuffer(Buffer.from(certificate.rawBytes))];
        } catch {
          return []; // unreadable in the trusted root: no token's certificate can be it
        }
      }),
    );
    read = {
      all: chains.flat(),
      signers: chains.flatMap(([certificate]) => {
        // TBSCertificate { [0] version, serialNumber, signature, issuer, … }
        const tbs = certificate?.subs[0];
        const at = tbs?.subs[0]?.tag.toDER() === CONTEXT_0 ? 1 : 0;
        const [serialNumber, , issuer] = tbs?.subs.slice(at, at + 3) ?? [];
        return certificate && serialNumber && issuer ? [{ certificate, issuer, serialNumber }] : [];
      }),
    };
    timestampCertificates.set(trust, read);
  }
  return read;
}

interface TokenProblem {
  code: 'TIMESTAMP_INVALID' | 'TIMESTAMP_NOT_CANONICAL';
  message: string;
}

/** Thrown inside timestampTokenProblem only, so that each step reads as a list of expectations. */
class TokenRefused extends Error {
  constructor(readonly problem: TokenProblem) {
    super(problem.message);
  }
}

function invalid(message: string): never {
  throw new TokenRefused({ code: 'TIMESTAMP_INVALID', message });
}

function notCanonical(message: string): never {
  throw new TokenRefused({ code: 'TIMESTAMP_NOT_CANONICAL', message });
}

/**
 * TimeStampResp { status PKIStatusInfo, timeStampToken ContentInfo { signedData, [0] SignedData } }
 * (RFC 3161 2.4.2, RFC 5652 5): why a token is malformed or not canonical, or undefined.
 */
function timestampTokenProblem(bytes: Buffer, trusted: TrustedTimestampCertificates): TokenProblem | undefined {
  try {
    let response: ASN1Obj;
    try {
      response = ASN1Obj.parseBuffer(bytes as Buffer<ArrayBuffer>);
    } catch (error) {
      invalid(`not DER: ${describeCause(error)}`);
    }
    const [status, token] = expectChildren(response, [SEQUENCE, SEQUENCE], 'TimeStampResp');
    // Only `granted` (0) comes with a token; statusString and failInfo belong to refusals.
    const [code] = expectChildren(status, [INTEGER], 'status');
    if (!code.value.equals(Buffer.from([0]))) notCanonical(`status: expected 0 (granted), found 0x${hex(code.value)}`);
    const [contentType, content] = expectChildren(token, [OID, CONTEXT_0], 'timeStampToken');
    if (contentType.toOID() !== OID_SIGNED_DATA) invalid(`timeStampToken.contentType: expected signedData`);
    const [signedData] = expectChildren(content, [SEQUENCE], 'timeStampToken.content');
    checkSignedData(signedData, trusted);
    expectSequence(response, 'TimeStampResp');
    return undefined;
  } catch (error) {
    if (error instanceof TokenRefused) return error.problem;
    return { code: 'TIMESTAMP_INVALID', message: `not a timestamp token: ${describeCause(error)}` };
  }
}

/**
 * SignedData { version 3, digestAlgorithms SET (exactly the signer's), encapContentInfo (the TSTInfo),
 * certificates [0] (empty, or the signing certificate alone), signerInfos SET (one signer) } — no CRLs.
 */
function checkSignedData(signedData: ASN1Obj, trusted: TrustedTimestampCertificates): void {
  const tags = signedData.subs.map((sub) => sub.tag.toDER());
  if (tags.includes(CONTEXT_1)) notCanonical('signedData.crls: expected none (a timestamp authority writes none)');
  const certificates = tags.length === 5 ? signedData.subs[3] : undefined;
  const layout = certificates ? [INTEGER, SET, SEQUENCE, CONTEXT_0, SET] : [INTEGER, SET, SEQUENCE, SET];
  expectChildren(signedData, layout, 'signedData');
  const [version, digestAlgorithms, encapsulated] = signedData.subs as [ASN1Obj, ASN1Obj, ASN1Obj];
  if (!version.value.equals(Buffer.from([3]))) {
    notCanonical(`signedData.version: expected 3, found 0x${hex(version.value)}`);
  }
  checkTSTInfo(encapsulated);
  const signerInfos = signedData.subs[signedData.subs.length - 1]!;
  if (signerInfos.subs.length !== 1) {
    invalid(`signedData.signerInfos: expected one signer, found ${signerInfos.subs.length}`);
  }
  const { sid, digestAlgorithm } = checkSignerInfo(signerInfos.subs[0]!);
  if (digestAlgorithms.subs.length !== 1 || !sameElement(digestAlgorithms.subs[0]!, digestAlgorithm)) {
    notCanonical("signedData.digestAlgorithms: expected exactly the signer's digest algorithm");
  }
  checkEmbeddedCertificates(certificates, sid, trusted);
}

/**
 * certificates [0] is what the request's certReq asked for, which nothing signs: authorities write it empty, or
 * holding the signing certificate alone (timestamp-authority and @sigstore/mock alike; no genuine token in the
 * suites omits the field or carries the rest of the chain; OpenSSL omits it, but the OpenSSL authority in them,
 * FreeTSA, signs with RSA, refused above). The verifier never reads it — it takes the authority's
 * chain from the trusted root — so those two are the only forms: the signing certificate is the trusted authority's
 * first certificate, byte for byte, with the issuer and serial number the signer identifier names (as sigstore-js
 * picks the authority). Anything else names an untrusted authority, or is one token in other bytes.
 */
function checkEmbeddedCertificates(
  certificates: ASN1Obj | undefined,
  sid: ASN1Obj,
  trusted: TrustedTimestampCertificates,
): void {
  certificates?.subs.forEach((certificate, i) => {
    if (!trusted.all.some((t) => sameElement(t, certificate))) {
      invalid(
        `signedData.certificates[${i}]: expected a certificate of the trusted root's timestamp authorities, found another`,
      );
    }
  });
  if (!certificates) {
    notCanonical('signedData.certificates: expected [0], empty or with the signing certificate; found none');
  }
  if (certificates.subs.length === 0) return;
  const [issuer, serialNumber] = sid.subs as [ASN1Obj, ASN1Obj];
  const signer = trusted.signers.find(
    (s) => sameElement(s.issuer, issuer) && sameElement(s.serialNumber, serialNumber),
  )?.certificate;
  if (certificates.subs.length !== 1 || !signer || !sameElement(certificates.subs[0]!, signer)) {
    notCanonical(
      `signedData.certificates: expected none, or the signing certificate alone (the trusted authority's certificate the signer identifier names); found ${certificates.subs.length} certificates, not that one alone`,
    );
  }
}

/** encapContentInfo { id-ct-TSTInfo, [0] OCTET STRING { TSTInfo } }, with the fields sigstore-js reads. */
function checkTSTInfo(encapsulated: ASN1Obj): void {
  const [contentType, content] = expectChildren(encapsulated, [OID, CONTEXT_0], 'encapContentInfo');
  if (contentType.toOID() !== OID_TST_INFO) invalid('encapContentInfo.eContentType: expected id-ct-TSTInfo');
  const [octets] = expectChildren(content, [OCTET_STRING], 'encapContentInfo.eContent');
  const [tstInfo] = expectChildren(octets, [SEQUENCE], 'encapContentInfo.eContent (TSTInfo)');
  // TSTInfo { version, policy, messageImprint, serialNumber, genTime, … }
  const [, , imprint, , genTime] = expectLeading(
    tstInfo,
    [INTEGER, OID, SEQUENCE, INTEGER, GENERALIZED_TIME],
    'TSTInfo',
  );
  const [algorithm] = expectChildren(imprint, [SEQUENCE, OCTET_STRING], 'TSTInfo.messageImprint');
  checkHashAlgorithm(algorithm, 'TSTInfo.messageImprint.hashAlgorithm');
  let time: Date;
  try {
    time = genTime.toDate();
  } catch (error) {
    invalid(`TSTInfo.genTime: ${describeCause(error)}`);
  }
  if (Number.isNaN(time.getTime())) invalid('TSTInfo.genTime: not a valid time');
}

/**
 * SignerInfo { version 1, sid IssuerAndSerialNumber, digestAlgorithm, [0] signedAttrs (with messageDigest),
 * signatureAlgorithm, signature } — no unsigned attributes. Returns the signer identifier and digest algorithm.
 */
function checkSignerInfo(signerInfo: ASN1Obj): { sid: ASN1Obj; digestAlgorithm: ASN1Obj } {
  if (signerInfo.subs[6]?.tag.toDER() === CONTEXT_1) notCanonical('signerInfo.unsignedAttrs: expected none');
  const [version, sid, digestAlgorithm, signedAttrs, signatureAlgorithm] = expectChildren(
    signerInfo,
    [INTEGER, SEQUENCE, SEQUENCE, CONTEXT_0, SEQUENCE, OCTET_STRING],
    'signerInfo',
  );
  if (!version.value.equals(Buffer.from([1]))) {
    notCanonical(`signerInfo.version: expected 1, found 0x${hex(version.value)}`);
  }
  expectChildren(sid, [SEQUENCE, INTEGER], 'signerInfo.sid');
  checkHashAlgorithm(digestAlgorithm, 'signerInfo.digestAlgorithm');
  const digests = signedAttrs.subs.filter((attribute) => {
    const [type] = expectChildren(attribute, [OID, SET], 'signerInfo.signedAttrs[]');
    return type.toOID() === OID_MESSAGE_DIGEST;
  });
  if (digests.length !== 1) invalid('signerInfo.signedAttrs: expected one messageDigest attribute');
  expectChildren(digests[0]!.subs[1]!, [OCTET_STRING], 'signerInfo.signedAttrs.messageDigest');
  const [oid] = expectChildren(signatureAlgorithm, [OID], 'signerInfo.signatureAlgorithm');
  if (!SIGNATURE_ALGORITHMS.has(oid.toOID())) {
    invalid(`signerInfo.signatureAlgorithm: expected ECDSA with SHA-256, -384 or -512, found ${oid.toOID()}`);
  }
  // Its elements are read whatever tag wraps them (the SET of signers does not say), and nothing signs this one.
  expectSequence(signerInfo, 'signerInfo');
  return { sid, digestAlgorithm };
}

/**
 * AlgorithmIdentifier { a SHA-2 OID, NULL or no parameters }: RFC 5754 (2) lets a writer use either, and real
 * authorities do (Sigstore's and GitHub's timestamp-authority write the signed messageImprint's with NULL and the
 * signer's without; @sigstore/mock the reverse). The signer's is not signed, so a token's signer info may be read in
 * either form: a latitude kept rather than refuse an authority that writes another combination, bounded to those two
 * (digestAlgorithms must be exactly the signer's), and one signed event either way (its evidence key is the same).
 */
function checkHashAlgorithm(algorithm: ASN1Obj, at: string): void {
  const withNull = algorithm.subs.length === 2;
  const [oid] = expectChildren(algorithm, withNull ? [OID, NULL] : [OID], at);
  if (withNull && algorithm.subs[1]!.value.length !== 0) invalid(`${at}.parameters: expected NULL`);
  if (!HASH_ALGORITHMS.has(oid.toOID())) invalid(`${at}: expected SHA-256, -384 or -512, found ${oid.toOID()}`);
}

/** A wrapper nothing signs and sigstore-js reads whatever its tag: a SEQUENCE, as DER writers write it. */
function expectSequence(element: ASN1Obj, at: string): void {
  const tag = element.tag.toDER();
  if (tag !== SEQUENCE) notCanonical(`${at}: expected a SEQUENCE, found ${tagName(tag)}`);
}

/** The element's children, which must be exactly these tags. */
function expectChildren(element: ASN1Obj, tags: readonly number[], at: string): ASN1Obj[] {
  if (!hasTags(element, tags)) invalid(`${at}: expected ${tags.length} elements (${tags.map(tagName).join(', ')})`);
  return element.subs;
}

/** The element's first children, which must have these tags (more may follow). */
function expectLeading(element: ASN1Obj, tags: readonly number[], at: string): ASN1Obj[] {
  const leading = element.subs.slice(0, tags.length);
  if (leading.length !== tags.length || leading.some((sub, i) => sub.tag.toDER() !== tags[i])) {
    invalid(`${at}: expected ${tags.map(tagName).join(', ')} first`);
  }
  return leading;
}

/** Two elements with one encoding: the same tag and the same content bytes (lengths are minimal, so equal too). */
function sameElement(a: ASN1Obj, b: ASN1Obj): boolean {
  return a.tag.toDER() === b.tag.toDER() && a.value.equals(b.value);
}

function hasTags(element: ASN1Obj, tags: readonly number[]): boolean {
  return element.subs.length === tags.length && element.subs.every((sub, i) => sub.tag.toDER() === tags[i]);
}

const TAG_NAMES: Record<number, string> = {
  [SEQUENCE]: 'SEQUENCE',
  [SET]: 'SET',
  [INTEGER]: 'INTEGER',
  [BIT_STRING]: 'BIT STRING',
  [OCTET_STRING]: 'OCTET STRING',
  [NULL]: 'NULL',
  [OID]: 'OID',
  [GENERALIZED_TIME]: 'GeneralizedTime',
  [CONTEXT_0]: '[0]',
  [CONTEXT_1]: '[1]',
};

function tagName(tag: number): string {
  return TAG_NAMES[tag] ?? `tag 0x${tag.toString(16)}`;
}

// ── inclusion proofs and checkpoints ────────────────────────────────────────────────────────────────────────────

/** One signature line of a signed note: an em dash, the key name, the base64 of key hint and signature. */
const SIGNATURE_LINE = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/]+={0,2})$/;
const ROOT_HASH_BYTES = 32;

/**
 * An inclusion proof's tree size and root hash are the signed checkpoint's, which the proof is verified against
 * (sigstore-js never reads the proof's own copies), and the checkpoint is a signed note with nothing outside it.
 */
function checkInclusionProofs(bundle: Bundle, source: string): void {
  bundle.verificationMaterial.tlogEntries.forEach((entry, i) => {
    const proof = entry.inclusionProof;
    if (!proof?.checkpoint) return;
    const at = `verificationMaterial.tlogEntries[${i}].inclusionProof`;
    const checkpoint = readCheckpoint(proof.checkpoint.envelope, `${at}.checkpoint.envelope`, source);
    if (proof.treeSize !== checkpoint.treeSize) {
      fail(
        'INCLUSION_PROOF_MISMATCH',
        source,
        `${at}.treeSize: expected the checkpoint's tree size ${checkpoint.treeSize}, found ${proof.treeSize}`,
      );
    }
    // Compared by length first: a junk root hash of megabytes is refused without being read.
    if (proof.rootHash.length !== checkpoint.rootHash.length || !proof.rootHash.equals(checkpoint.rootHash)) {
      const found =
        proof.rootHash.length === ROOT_HASH_BYTES
          ? proof.rootHash.toString('base64')
          : `${proof.rootHash.length} bytes`;
      fail(
        'INCLUSION_PROOF_MISMATCH',
        source,
        `${at}.rootHash: expected the checkpoint's root hash ${checkpoint.rootHash.toString('base64')}, found ${found}`,
      );
    }
  });
}

/**
 * A log entry's index and integrated time are signed by its inclusion promise (Rekor v1's signed entry timestamp).
 * An entry without one — every Rekor v2 entry — has no integrated time (Rekor v2 has none; an unsigned one must not
 * look like a time the log vouched for), and its index is the one its inclusion proof proves. Otherwise both
 * fields could hold any number and the bundle would still verify. Checked once the bundle has verified, so that a
 * bundle with no time source at all is refused for that (TIMESTAMP_INVALID), as the conformance suites expect.
 */
export function checkUnsignedLogFields(bundle: Bundle, source: string): void {
  bundle.verificationMaterial.tlogEntries.forEach((entry, i) => {
    if (entry.inclusionPromise) return;
    const at = `verificationMaterial.tlogEntries[${i}]`;
    if (entry.integratedTime !== '0') {
      fail(
        'INTEGER_NOT_CANONICAL',
        source,
        `${at}.integratedTime: ${entry.integratedTime} with no inclusion promise to sign it (expected none, or "0")`,
      );
    }
    if (entry.inclusionProof && entry.logIndex !== entry.inclusionProof.logIndex) {
      fail(
        'INCLUSION_PROOF_MISMATCH',
        source,
        `${at}.logIndex: expected the index the inclusion proof proves, ${entry.inclusionProof.logIndex}, found ${entry.logIndex} (no inclusion promise signs it)`,
      );
    }
  });
}

/**
 * A checkpoint (c2sp.org/tlog-checkpoint) as a signed note (c2sp.org/signed-note): the note — origin, decimal tree
 * size, base64 root hash, extension lines — a blank line, then only signature lines, each once, in canonical base64.
 * sigstore-js picks signature lines out of whatever follows the blank line and ignores the rest. A checkpoint
 * without those parts is invalid (TLOG_INVALID); one with other bytes around them is not canonical.
 */
function readCheckpoint(envelope: string, at: string, source: string): { treeSize: string; rootHash: Buffer } {
  const invalidCheckpoint = (problem: string): never => fail('TLOG_INVALID', source, `${at}: ${problem}`);
  const notCanonicalCheckpoint = (problem: string): never =>
    fail('CHECKPOINT_NOT_CANONICAL', source, `${at}: ${problem}`);
  const split = envelope.indexOf('\n\n');
  if (split < 0) invalidCheckpoint('expected a signed note: the note, a blank line, signature lines');
  // The note holds no empty line: the first one ends it.
  const [origin, treeSize, rootHash] = envelope.slice(0, split).split('\n');
  if (!origin || !treeSize || !rootHash) invalidCheckpoint('expected the origin, the tree size and the root hash');
  if (!/^[0-9]+$/.test(treeSize)) invalidCheckpoint(`tree size: expected a decimal number, found ${shown(treeSize)}`);
  if (!INT64_SPELLING.test(treeSize)) {
    notCanonicalCheckpoint(`tree size: expected no leading zeros, found ${shown(treeSize)}`);
  }
  const root = Buffer.from(rootHash, 'base64');
  if (root.length !== ROOT_HASH_BYTES) {
    invalidCheckpoint(`root hash: expected ${ROOT_HASH_BYTES} bytes, found ${shown(rootHash)}`);
  }
  if (root.toString('base64') !== rootHash) {
    notCanonicalCheckpoint(`root hash: expected canonical base64, found ${shown(rootHash)}`);
  }
  const signatures = envelope.slice(split + 2);
  if (signatures === '') invalidCheckpoint('expected at least one signature line after the note');
  if (!signatures.endsWith('\n')) notCanonicalCheckpoint('expected the signature lines to end with a newline');
  const seen = new Set<string>();
  signatures
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const match = SIGNATURE_LINE.exec(line);
      const signature = match ? Buffer.from(match[2]!, 'base64') : undefined;
      if (!signature || signature.toString('base64') !== match![2] || signature.length < 5) {
        notCanonicalCheckpoint(
          `signature line ${i + 1}: expected "\u2014 <name> <base64 key hint and signature>", found ${shown(line)}`,
        );
      }
      if (seen.has(line)) notCanonicalCheckpoint(`signature line ${i + 1}: the same signature twice`);
      seen.add(line);
    });
  return { treeSize, rootHash: root };
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** A field of a JSON object, or undefined when the value is not an object. */
function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** A value as a message shows it: JSON, cut short. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  // A long string is cut before it is quoted: a field may hold megabytes.
  const text = JSON.stringify(typeof value === 'string' ? value.slice(0, 100) : value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function hex(bytes: Buffer): string {
  return bytes.subarray(0, 16).toString('hex');
}

function fail(code: VerificationFailureCode, source: string, message: string): never {
  throw new BundleVerificationError(code, `${source}: ${message}`);
}
