import { ASN1Obj, type X509Certificate } from '@sigstore/core';

/**
 * Fulcio's certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md), by the names
 * Fulcio's documentation gives them. 1.8 onwards hold a DER UTF8String; 1.1–1.6 are deprecated raw strings.
 */
export const FULCIO_EXTENSIONS: Record<string, string> = {
  '1.3.6.1.4.1.57264.1.8': 'issuer',
  '1.3.6.1.4.1.57264.1.9': 'buildSignerURI',
  '1.3.6.1.4.1.57264.1.10': 'buildSignerDigest',
  '1.3.6.1.4.1.57264.1.11': 'runnerEnvironment',
  '1.3.6.1.4.1.57264.1.12': 'sourceRepositoryURI',
  '1.3.6.1.4.1.57264.1.13': 'sourceRepositoryDigest',
  '1.3.6.1.4.1.57264.1.14': 'sourceRepositoryRef',
  '1.3.6.1.4.1.57264.1.15': 'sourceRepositoryIdentifier',
  '1.3.6.1.4.1.57264.1.16': 'sourceRepositoryOwnerURI',
  '1.3.6.1.4.1.57264.1.17': 'sourceRepositoryOwnerIdentifier',
  '1.3.6.1.4.1.57264.1.18': 'buildConfigURI',
  '1.3.6.1.4.1.57264.1.19': 'buildConfigDigest',
  '1.3.6.1.4.1.57264.1.20': 'buildTrigger',
  '1.3.6.1.4.1.57264.1.21': 'runInvocationURI',
  '1.3.6.1.4.1.57264.1.22': 'sourceRepositoryVisibilityAtSigning',
};

const LEGACY_ISSUER_OID = '1.3.6.1.4.1.57264.1.1';

/** Reads the Fulcio extensions present in a certificate, decoding the DER UTF8String each one holds. */
export function fulcioExtensions(certificate: X509Certificate): Record<string, string> {
  // One pass over the extensions, the first of each OID counting, as X509Certificate.extension finds them (and
  // throwing, as it does, on an extension without an OID).
  const byOid = new Map<string, ASN1Obj>();
  for (const extension of certificate.extensions) {
    const oid = extension.subs[0]!.toOID();
    if (!byOid.has(oid)) byOid.set(oid, extension);
  }
  const found: Record<string, string> = {};
  for (const [oid, name] of Object.entries(FULCIO_EXTENSIONS)) {
    const extension = byOid.get(oid);
    if (!extension) continue;
    const value = stringIn(extension);
    if (value !== undefined) found[name] = value;
  }
  if (!found.issuer) {
    const legacy = byOid.get(LEGACY_ISSUER_OID);
    if (legacy) found.issuer = extensionValue(legacy).toString('utf8');
  }
  return found;
}

/** An extension's extnValue: the OCTET STRING's content, its last element (as X509Extension.value reads it). */
function extensionValue(extension: ASN1Obj): Buffer {
  return extension.subs[extension.subs.length - 1]!.value;
}

/**
 * The string an extension's value holds: the content of the one DER element in its extnValue, as reading that value
 * on its own (decodeUtf8String) gives it. The reader already read it, nested in the OCTET STRING, when it is one whole
 * element; two or more are not one (trailing data); when it read none, the value is read on its own.
 */
function stringIn(extension: ASN1Obj): string | undefined {
  const extnValue = extension.subs[extension.subs.length - 1]!;
  if (extnValue.subs.length === 1) return extnValue.subs[0]!.value.toString('utf8');
  if (extnValue.subs.length > 1) return undefined;
  return decodeUtf8String(extnValue.value);
}

function decodeUtf8String(der: Buffer): string | undefined {
  try {
    const obj = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
    return obj.value.toString('utf8');
  } catch {
    return undefined;
  }
}
