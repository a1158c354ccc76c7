import { createHash } from 'node:crypto';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  bundleFromJSON,
} from '@sigstore/bundle';
import { asKnownError, describeCause, SigstoreInputError } from './error';
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

/**
 * A bundle as read: its source, the JSON as written (the canonical-encoding rules read its spelling) and the parsed
 * protobuf form; from a file, the SHA-256 of the bytes that were read (which file it was, never what was signed).
 */
export interface ParsedBundle {
  source: string;
  bundle: Bundle;
  json: Readonly<Record<string, unknown>>;
  sha256?: string;
}

/**
 * JSON nested deeper than this is refused before anything parses it: a bundle nests 7 levels, an in-toto statement
 * a dozen, and every reader after JSON.parse (protobuf, the base64 check, a worker's structured clone) recurses.
 */
export const MAX_JSON_DEPTH = 64;

export function readBundleFile(path: string): ParsedBundle {
  const bytes = readBoundedFile(path, MAX_BUNDLE_BYTES, 'BUNDLE_UNREADABLE', 'bundle');
  try {
    return { ...parseBundle(bytes.toString('utf8'), path), sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (error) {
    throw asKnownError(error, path);
  }
}

export function parseBundle(text: string, source: string): ParsedBundle {
  const deep = jsonNestingBeyond(text, MAX_JSON_DEPTH);
  if (deep !== undefined) {
    throw new SigstoreInputError(
      'BUNDLE_MALFORMED',
      `${source}: JSON nested deeper than ${MAX_JSON_DEPTH} levels (at offset ${deep}); a bundle nests fewer than 10`,
    );
  }
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
  checkBase64Fields(record, source);
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
  return { source, bundle, json: record };
}

/**
 * Where JSON text first nests objects and arrays deeper than `limit`, or undefined: one pass over the text, no
 * recursion, no parse, so a file of 100,000 open brackets costs one linear scan.
 */
export function jsonNestingBeyond(text: string, limit: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
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

/**
 * Checks every base64 field, walking the JSON with an explicit stack (never recursion), and refuses JSON nested
 * deeper than MAX_JSON_DEPTH: a caller may hand parseBundleJSON an object that never went through the text scan.
 */
function checkBase64Fields(root: unknown, source: string): void {
  const stack: { value: unknown; path: string; key: string; depth: number }[] = [
    { value: root, path: '', key: '', depth: 0 },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path, key, depth } = item;
    if (typeof value === 'string') {
      if (BASE64_FIELDS.has(key)) checkBase64(value, source, path);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw new SigstoreInputError(
        'BUNDLE_MALFORMED',
        `${source}: ${path}: nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
    }
    // Children are pushed last to first, so fields are checked in the order they are written.
    const children = Array.isArray(value)
      ? // An array's items are checked under the array's own field name (`hashes`, `signatures`).
        value.map((child, i) => ({ value: child, path: `${path}[${i}]`, key, depth: depth + 1 }))
      : Object.entries(value).map(([name, child]) => ({
          value: child,
          path: path ? `${path}.${name}` : name,
          key: name,
          depth: depth + 1,
        }));
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
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
