import { hash } from 'node:crypto';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  bundleFromJSON,
  bundleToJSON,
} from '@sigstore/bundle';
import { asKnownError, describeCause, SigstoreInputError } from './error';
import { readBoundedFile } from './files';
import { MAX_BUNDLE_BYTES, MAX_JSONL_BYTES, MAX_JSONL_LINES } from './limits';

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
  const line = JSONL_LINE.exec(path);
  if (line) return readBundleLine(path, line[1]!, Number(line[2]));
  const bytes = readBoundedFile(path, MAX_BUNDLE_BYTES, 'BUNDLE_UNREADABLE', 'bundle');
  try {
    return { ...parseBundle(bytes.toString('utf8'), path), sha256: hash('sha256', bytes, 'hex') };
  } catch (error) {
    throw asKnownError(error, path);
  }
}

/**
 * One bundle of a JSON Lines file (`gh attestation download` writes one bundle a line) is addressed as
 * `FILE.jsonl#L3`: the file and the line, 1-based, in every message that names it.
 */
const JSONL_LINE = /^(.*\.jsonl)#L([1-9][0-9]*)$/;

/** Whether a path is a JSON Lines file of bundles. */
export function isJsonLines(path: string): boolean {
  return path.endsWith('.jsonl');
}

/** The addresses (`FILE#Ln`) of the bundles of a JSON Lines file: every line that is not blank. */
export function jsonLinesAddresses(path: string): string[] {
  return jsonLines(path).flatMap((line, i) => (line.trim() === '' ? [] : [`${path}#L${i + 1}`]));
}

// The lines of the JSON Lines file read last: a file of many bundles is read once, not once a line.
let lastJsonLines: { path: string; lines: string[] } | undefined;

function jsonLines(path: string): string[] {
  if (lastJsonLines?.path !== path) {
    const bytes = readBoundedFile(path, MAX_JSONL_BYTES, 'BUNDLE_UNREADABLE', 'bundles (JSON Lines)');
    lastJsonLines = { path, lines: linesOf(bytes.toString('utf8'), path) };
  }
  return lastJsonLines.lines;
}

/** The text of line `number` (1-based) of a JSON Lines file of bundles, read once for all its lines. */
export function jsonLineText(path: string, number: number): string | undefined {
  return jsonLines(path)[number - 1];
}

/** A text's lines, as split('\n') gives them, refusing more than MAX_JSONL_LINES (exit 2, not an abort). */
function linesOf(text: string, path: string): string[] {
  const lines: string[] = [];
  for (let start = 0; ; ) {
    if (lines.length === MAX_JSONL_LINES) {
      throw new SigstoreInputError(
        'BUNDLE_UNREADABLE',
        `${path}: more than ${MAX_JSONL_LINES} lines; a JSON Lines file of bundles holds a bundle a line`,
      );
    }
    const end = text.indexOf('\n', start);
    lines.push(end === -1 ? text.slice(start) : text.slice(start, end));
    if (end === -1) return lines;
    start = end + 1;
  }
}

function readBundleLine(address: string, path: string, number: number): ParsedBundle {
  const text = jsonLines(path)[number - 1];
  if (text === undefined) {
    throw new SigstoreInputError('BUNDLE_UNREADABLE', `${address}: ${path} has no line ${number}`);
  }
  if (Buffer.byteLength(text) > MAX_BUNDLE_BYTES) {
    throw new SigstoreInputError('BUNDLE_TOO_LARGE', `${address}: a bundle is at most ${MAX_BUNDLE_BYTES} bytes`);
  }
  try {
    return { ...parseBundle(text, address), sha256: hash('sha256', text, 'hex') };
  } catch (error) {
    throw asKnownError(error, address);
  }
}

export function parseBundle(text: string, source: string): ParsedBundle {
  // One pass over the text for both: its nesting (before anything recursive reads it) and a key written twice.
  const scanned = scanJSON(text, MAX_JSON_DEPTH);
  if (scanned.deepAt !== undefined) {
    throw new SigstoreInputError(
      'BUNDLE_MALFORMED',
      `${source}: JSON nested deeper than ${MAX_JSON_DEPTH} levels (at offset ${scanned.deepAt}); a bundle nests fewer than 10`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SigstoreInputError('BUNDLE_NOT_JSON', `${source}: bundle is not JSON: ${describeCause(error)}`);
  }
  const repeated = scanned.repeatedKey;
  if (repeated !== undefined) {
    throw new SigstoreInputError(
      'BUNDLE_MALFORMED',
      `${source}: ${repeated}: written twice (JSON readers differ on which one counts; a bundle names each field once)`,
    );
  }
  return parseBundleJSON(json, source);
}

/**
 * The first key an object of the JSON text has twice, as a path (`verificationMaterial.certificate`), or undefined.
 * JSON.parse keeps the last one and other readers the first, so two readers could see two bundles in one file. Keys are
 * compared decoded (`"\u006dediaType"` is `mediaType`). Call only on text JSON.parse has read.
 */
export function repeatedKey(text: string): string | undefined {
  return scanJSON(text, Number.POSITIVE_INFINITY).repeatedKey;
}

/** An object or array open at some point of the scan: an object's keys so far, or an array's index. */
interface OpenValue {
  path: string;
  keys?: Set<string>;
  key?: string;
  index: number;
}

/**
 * One pass over JSON text, no recursion, no tree: where it first nests objects and arrays deeper than `limit` (as
 * jsonNestingBeyond finds it, for any text), and — meaningful only for text JSON.parse reads — the first key an object
 * has twice (in the order of the text, which is the order a walk of the parsed tree meets it), as a path.
 */
export function scanJSON(text: string, limit: number): { deepAt?: number; repeatedKey?: string } {
  const open: OpenValue[] = [];
  // Counted apart from what is open, exactly as jsonNestingBeyond counts (text that is not JSON can close more).
  let depth = 0;
  let repeated: string | undefined;
  let expectingKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = closingQuote(text, i);
      // An unterminated string runs to the end of the text: nothing after it nests.
      if (end < 0) return { repeatedKey: repeated };
      const top = open[open.length - 1];
      if (expectingKey && top?.keys && repeated === undefined) {
        const key = stringAt(text, i, end);
        if (key !== undefined) {
          if (top.keys.has(key)) repeated = top.path ? `${top.path}.${key}` : key;
          top.keys.add(key);
          top.key = key;
        }
      }
      expectingKey = false;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return { deepAt: i, repeatedKey: repeated };
      open.push({ path: childPath(open[open.length - 1]), index: 0, ...(c === 0x7b && { keys: new Set<string>() }) });
      expectingKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      open.pop();
      expectingKey = false;
    } else if (c === 0x2c) {
      const top = open[open.length - 1];
      if (top?.keys) expectingKey = true;
      else if (top) top.index += 1;
    }
  }
  return { repeatedKey: repeated };
}

/** Where the string opened at `start` closes: the next quote not escaped by an odd run of backslashes; -1 if none. */
function closingQuote(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** The JSON string literal from `start` to `end` (its quotes), decoded; undefined if it is not one. */
function stringAt(text: string, start: number, end: number): string | undefined {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return undefined;
  }
}

/** The path of the value about to open inside `parent`: under its last key, or at its index. */
function childPath(parent: OpenValue | undefined): string {
  if (!parent) return '';
  if (parent.keys) return parent.path ? `${parent.path}.${parent.key ?? ''}` : (parent.key ?? '');
  return `${parent.path}[${parent.index}]`;
}

/**
 * A bundle's top-level key held by a JSON object, or by an object one of its keys holds (`{"bundle": …}`, as GitHub's
 * attestation API returns an entry): compared as letters and digits in lower case (`media_type`,
 * `verification-material`, a zero-width space). Undefined when there is none. Only there, not at any depth: a DSSE
 * envelope (`cosign attest-blob`), `verify-bundle --json`'s output or a deploy report naming a media type in a pull
 * request's title is honest JSON beside the bundles, skipped as no bundle (found by the review of a deeper search).
 */
function bundleKeyOf(record: Record<string, unknown>): string | undefined {
  const spelled = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');
  // A Sigstore bundle's own top-level keys, spelled so; a media type only when it names a Sigstore bundle (an OCI
  // manifest's `config.mediaType` is honest JSON: found by the review of the fix).
  const BUNDLE_KEYS = new Set(Object.keys(BUNDLE_FIELDS['']!).map(spelled));
  const isBundleKey = (key: string, value: unknown) =>
    BUNDLE_KEYS.has(spelled(key)) &&
    (spelled(key) !== 'mediatype' || (typeof value === 'string' && /sigstore\.bundle/i.test(value)));
  for (const [key, value] of Object.entries(record)) {
    if (isBundleKey(key, value)) return `field ${JSON.stringify(key)}`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const inner = Object.entries(value).find(([name, held]) => isBundleKey(name, held));
      if (inner !== undefined) return `field ${JSON.stringify(inner[0])} (under ${JSON.stringify(key)})`;
    }
  }
  return undefined;
}

export function parseBundleJSON(json: unknown, source: string): ParsedBundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SigstoreInputError('BUNDLE_MALFORMED', `${source}: a bundle is a JSON object`);
  }
  const record = json as Record<string, unknown>;
  const mediaType = record.mediaType;
  if (mediaType === undefined) {
    // A bundle's own fields without its mediaType is a bundle someone took the mediaType out of, not some other JSON:
    // skipped as no bundle, a decision record or deploy approval left the report's counts without a word (found by the
    // review of the report's integrity). So is one reshaped around them — its keys spelled otherwise (`media_type`,
    // `verification-material`, a zero-width space in each: found by the reviews of the fix) or wrapped as GitHub's
    // attestation API returns it (`{"bundle": …}`). Malformed, it fails like any other broken bundle; anything
    // reshaped further reads as a deleted file does (threat model, rows 152 and 263).
    const held = bundleKeyOf(record);
    if (held !== undefined) {
      throw new SigstoreInputError(
        'BUNDLE_MALFORMED',
        `${source}: mediaType: missing, though it holds a Sigstore bundle's ${held}: a Sigstore bundle is a JSON object that names its version at its top`,
      );
    }
    throw new SigstoreInputError('NOT_A_BUNDLE', `${source}: mediaType: missing; this is not a Sigstore bundle`);
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
  checkProtobufSpelling(record, bundleToJSON(bundle), source);
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

/** A value still to check: where it sits is only spelt out (path) for the message of a field that fails. */
interface PendingValue {
  value: unknown;
  /** The field name it is checked under (an array's items: the array's). */
  key: string;
  depth: number;
  parent?: PendingValue;
  /** Its name in its parent: a field name, or an index. */
  name?: string | number;
}

/**
 * Checks every base64 field, walking the JSON with an explicit stack (never recursion), and refuses JSON nested
 * deeper than MAX_JSON_DEPTH: a caller may hand parseBundleJSON an object that never went through the text scan.
 */
function checkBase64Fields(root: unknown, source: string): void {
  const stack: PendingValue[] = [{ value: root, key: '', depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, key, depth } = item;
    if (typeof value === 'string') {
      if (BASE64_FIELDS.has(key) && !isWellFormedBase64(value)) {
        throw new SigstoreInputError(
          'BUNDLE_MALFORMED',
          `${source}: ${pathOf(item)}: not valid base64 (truncated or corrupted)`,
        );
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw new SigstoreInputError(
        'BUNDLE_MALFORMED',
        `${source}: ${pathOf(item)}: nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
    }
    // Children are pushed last to first, so fields are checked in the order they are written.
    if (Array.isArray(value)) {
      // An array's items are checked under the array's own field name (`hashes`, `signatures`).
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], key, depth: depth + 1, parent: item, name: i });
      }
    } else {
      const names = Object.keys(value);
      for (let i = names.length - 1; i >= 0; i--) {
        const name = names[i]!;
        const child = (value as Record<string, unknown>)[name];
        stack.push({ value: child, key: name, depth: depth + 1, parent: item, name });
      }
    }
  }
}

/** `verificationMaterial.tlogEntries[0].logId.keyId`: where a pending value sits. */
function pathOf(item: PendingValue): string {
  const names: (string | number)[] = [];
  for (let at: PendingValue | undefined = item; at?.name !== undefined; at = at.parent) names.unshift(at.name);
  return names.reduce<string>(
    (path, name) => (typeof name === 'number' ? `${path}[${name}]` : path ? `${path}.${name}` : name),
    '',
  );
}

/** Base64 or base64url characters, then at most two padding characters. */
const BASE64_TEXT = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Whether `text` is base64 that decodes to bytes which encode back to it: the standard or URL alphabet, padded to a
 * multiple of four or not padded, never one character past a group, and no bits set after the last byte (Node's
 * decoder drops them, so two spellings would read as one value). No decoding, no copy of a payload of megabytes.
 */
export function isWellFormedBase64(text: string): boolean {
  if (!BASE64_TEXT.test(text)) return false;
  let padding = 0;
  while (padding < 2 && text.charCodeAt(text.length - 1 - padding) === 0x3d) padding++;
  const unpadded = text.length - padding;
  if (unpadded % 4 === 1) return false;
  if (padding > 0 && text.length % 4 !== 0) return false;
  const rest = unpadded % 4;
  if (rest === 0) return true;
  // The last character carries 2 (of 6) bits of the last byte after two characters, 4 after three: the rest are 0.
  const last = sextet(text.charCodeAt(unpadded - 1));
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** The 6-bit value of a base64 or base64url character (one BASE64_TEXT admits). */
function sextet(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  return c === 0x2b || c === 0x2d ? 62 : 63;
}

/**
 * The bundle's JSON must be what the protobuf JSON mapping writes for the content it was read as: no unknown or
 * misspelt field (the reader drops it, so it could carry anything), no value of another type read as a default, base64
 * in the standard alphabet with its padding, enums by name. The one latitude the mapping gives writers is kept: a field
 * may be written with its default value (`""`, `"0"`, `[]`, `null`) or left out. `canonical` is bundleToJSON of what
 * was read; both nest at most MAX_JSON_DEPTH deep (checked before), so the walk's recursion is bounded.
 */
function checkProtobufSpelling(written: unknown, canonical: unknown, source: string): void {
  const problem = spellingProblem(written, canonical, '', '');
  if (problem !== undefined) throw new SigstoreInputError('BUNDLE_MALFORMED', `${source}: ${problem}`);
}

/**
 * The fields of each message of a bundle, by where it sits (a list's items under `[]`), and what each holds, from the
 * Sigstore protobuf specification (sigstore_bundle.proto, sigstore_common.proto, sigstore_rekor.proto, envelope.proto).
 * The protobuf reader drops any other key, so a key outside this list is refused, whatever its value.
 */
export type FieldKind = 'scalar' | 'list' | 'message';

export const BUNDLE_FIELDS: Readonly<Record<string, Readonly<Record<string, FieldKind>>>> = {
  '': { mediaType: 'scalar', verificationMaterial: 'message', messageSignature: 'message', dsseEnvelope: 'message' },
  verificationMaterial: {
    publicKey: 'message',
    x509CertificateChain: 'message',
    certificate: 'message',
    tlogEntries: 'list',
    timestampVerificationData: 'message',
  },
  'verificationMaterial.publicKey': { hint: 'scalar' },
  'verificationMaterial.x509CertificateChain': { certificates: 'list' },
  'verificationMaterial.x509CertificateChain.certificates[]': { rawBytes: 'scalar' },
  'verificationMaterial.certificate': { rawBytes: 'scalar' },
  'verificationMaterial.tlogEntries[]': {
    logIndex: 'scalar',
    logId: 'message',
    kindVersion: 'message',
    integratedTime: 'scalar',
    inclusionPromise: 'message',
    inclusionProof: 'message',
    canonicalizedBody: 'scalar',
  },
  'verificationMaterial.tlogEntries[].logId': { keyId: 'scalar' },
  'verificationMaterial.tlogEntries[].kindVersion': { kind: 'scalar', version: 'scalar' },
  'verificationMaterial.tlogEntries[].inclusionPromise': { signedEntryTimestamp: 'scalar' },
  'verificationMaterial.tlogEntries[].inclusionProof': {
    logIndex: 'scalar',
    rootHash: 'scalar',
    treeSize: 'scalar',
    hashes: 'list',
    checkpoint: 'message',
  },
  'verificationMaterial.tlogEntries[].inclusionProof.checkpoint': { envelope: 'scalar' },
  'verificationMaterial.timestampVerificationData': { rfc3161Timestamps: 'list' },
  'verificationMaterial.timestampVerificationData.rfc3161Timestamps[]': { signedTimestamp: 'scalar' },
  messageSignature: { messageDigest: 'message', signature: 'scalar' },
  'messageSignature.messageDigest': { algorithm: 'scalar', digest: 'scalar' },
  dsseEnvelope: { payload: 'scalar', payloadType: 'scalar', signatures: 'list' },
  'dsseEnvelope.signatures[]': { sig: 'scalar', keyid: 'scalar' },
};

/**
 * Fields whose other spellings canonical.ts refuses with a code of their own (INTEGER_NOT_CANONICAL,
 * DIGEST_ALGORITHM_UNKNOWN) when the bundle is verified: left to those rules here.
 */
const SPELT_ELSEWHERE = new Set(['logIndex', 'integratedTime', 'treeSize', 'algorithm']);

/** A UTF-16 surrogate not part of a pair (with the u flag, a pair is one code point and never matches). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A value the JSON mapping writes for a field left at its default: null for any field, `""` or `"0"` for a string,
 * bytes or int64, `[]` for a list. A message is absent or null; `""` is no message, whatever a lenient reader makes
 * of it.
 */
function isDefaultValue(value: unknown, kind: FieldKind): boolean {
  if (value === null) return true;
  if (kind === 'scalar') return value === '' || value === '0';
  return kind === 'list' && Array.isArray(value) && value.length === 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Where `written` is not what the protobuf JSON mapping writes for `canonical`, or undefined. `path` names the field
 * for the message (`verificationMaterial.tlogEntries[0]`), `shape` its place in BUNDLE_FIELDS (`…tlogEntries[]`).
 */
function spellingProblem(written: unknown, canonical: unknown, path: string, shape: string): string | undefined {
  const at = path || '(the bundle)';
  if (Array.isArray(written) && Array.isArray(canonical)) {
    if (written.length !== canonical.length) return `${at}: not a list of ${canonical.length} protobuf values`;
    for (let i = 0; i < written.length; i++) {
      const problem = spellingProblem(written[i], canonical[i], `${path}[${i}]`, `${shape}[]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (isObject(written) && isObject(canonical)) {
    const fields = (Object.hasOwn(BUNDLE_FIELDS, shape) ? BUNDLE_FIELDS[shape] : undefined) ?? {};
    for (const key of Object.keys(written)) {
      const child = path ? `${path}.${key}` : key;
      // Own keys only: `constructor` or `__proto__` must not find Object.prototype's.
      const kind = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (kind === undefined) {
        return `${child}: not a field of ${shape ? `a bundle's ${shape}` : 'a bundle'} (a misspelling, or a field of another format)`;
      }
      const value = written[key];
      if (SPELT_ELSEWHERE.has(key) && !isObject(value) && !Array.isArray(value)) continue;
      if (!Object.hasOwn(canonical, key)) {
        if (isDefaultValue(value, kind)) continue;
        return `${child}: ${shownValue(value)} is not a value this field can hold`;
      }
      const problem = spellingProblem(value, canonical[key], child, shape ? `${shape}.${key}` : key);
      if (problem !== undefined) return problem;
    }
    const missing = Object.keys(canonical).find((key) => !Object.hasOwn(written, key) && !SPELT_ELSEWHERE.has(key));
    return missing === undefined
      ? undefined
      : `${path ? `${path}.` : ''}${missing}: read from another spelling of the field`;
  }
  if (typeof written === 'string' && LONE_SURROGATE.test(written)) {
    return `${at}: holds a lone UTF-16 surrogate (\\ud800-\\udfff escaped alone): not text any other reader reads alike`;
  }
  if (written === canonical) return undefined;
  if (typeof written !== typeof canonical || typeof written === 'object') {
    return `${at}: ${shownValue(written)} is not a value this field can hold`;
  }
  return `${at}: ${shownValue(written)} is not the protobuf JSON spelling of its value (expected ${shownValue(canonical)})`;
}

function shownValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
