import { createHash } from 'node:crypto';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  bundleFromJSON,
} from '@sigstore/bundle';
import { describeCause, SigstoreInputError } from './error';
import { readBoundedFile } from './files';
import { MAX_BUNDLE_BYTES } from './limits';

/**
 * The bundle media types twokey reads. An unknown version — newer or older — is refused rather than read
 * as the nearest known shape: a verifier that guesses at a format it does not know can be made to skip a check.
 */
export const BUNDLE_MEDIA_TYPES: readonly string[] = [
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
];

/** A bundle as read: its source and the parsed protobuf form; from a file, the SHA-256 of the bytes that were read. */
export interface ParsedBundle {
  source: string;
  bundle: Bundle;
  sha256?: string;
}

export function readBundleFile(path: string): ParsedBundle {
  const bytes = readBoundedFile(path, MAX_BUNDLE_BYTES, 'BUNDLE_UNREADABLE', 'bundle');
  return { ...parseBundle(bytes.toString('utf8'), path), sha256: createHash('sha256').update(bytes).digest('hex') };
}

export function parseBundle(text: string, source: string): ParsedBundle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SigstoreInputError('BUNDLE_NOT_JSON', `${source}: bundle is not JSON: ${describeCause(error)}`);
  }
  return parseBundleJSON(json, source);
}

export function parseBundleJSON(json: unknown, source: string): ParsedBundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SigstoreInputError('BUNDLE_MALFORMED', `${source}: a bundle is a JSON object`);
  }
  const record = json as Record<string, unknown>;
  const mediaType = record.mediaType;
  if (mediaType === undefined) {
    throw new SigstoreInputError('BUNDLE_MALFORMED', `${source}: mediaType: missing; this is not a Sigstore bundle`);
  }
  if (typeof mediaType !== 'string' || !BUNDLE_MEDIA_TYPES.includes(mediaType)) {
    throw new SigstoreInputError(
      'BUNDLE_MEDIA_TYPE',
      `${source}: mediaType: unsupported ${JSON.stringify(mediaType)} (expected one of ${BUNDLE_MEDIA_TYPES.join(', ')})`,
    );
  }
  checkBase64Fields(record, source, '');
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(record);
  } catch (error) {
    throw new SigstoreInputError('BUNDLE_MALFORMED', `${source}: invalid bundle: ${describeCause(error)}`);
  }
  // An inclusion proof is verified against its checkpoint; without one sigstore-js fails with a TypeError.
  bundle.verificationMaterial.tlogEntries.forEach((entry, i) => {
    if (entry.inclusionProof && !entry.inclusionProof.checkpoint?.envelope) {
      throw new SigstoreInputError(
        'BUNDLE_MALFORMED',
        `${source}: verificationMaterial.tlogEntries[${i}].inclusionProof.checkpoint: missing (an inclusion proof needs its checkpoint)`,
      );
    }
  });
  return { source, bundle };
}

// Fields the protobuf JSON mapping holds as base64 `bytes`. Node's decoder skips what it cannot read, so a
// truncated or corrupted value would silently become other bytes: such a value is refused as malformed input.
const BASE64_FIELDS = new Set([
  'rawBytes',
  'signature',
  'digest',
  'keyId',
  'signedEntryTimestamp',
  'canonicalizedBody',
  'rootHash',
  'hashes',
  'signedTimestamp',
  'payload',
  'sig',
]);

function checkBase64Fields(value: unknown, source: string, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (typeof item === 'string' && BASE64_FIELDS.has(lastKey(path))) checkBase64(item, source, `${path}[${i}]`);
      else checkBase64Fields(item, source, `${path}[${i}]`);
    });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (typeof child === 'string' && BASE64_FIELDS.has(key)) checkBase64(child, source, childPath);
    else checkBase64Fields(child, source, childPath);
  }
}

function lastKey(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function checkBase64(text: string, source: string, path: string): void {
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  const unpadded = standard.replace(/={1,2}$/, '');
  const wellFormed =
    /^[A-Za-z0-9+/]*$/.test(unpadded) &&
    unpadded.length % 4 !== 1 &&
    (standard.length === unpadded.length || standard.length % 4 === 0) &&
    Buffer.from(unpadded, 'base64').toString('base64').replace(/=+$/, '') === unpadded;
  if (!wellFormed) {
    throw new SigstoreInputError('BUNDLE_MALFORMED', `${source}: ${path}: not valid base64 (truncated or corrupted)`);
  }
}
