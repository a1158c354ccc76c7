// Structure-aware mutations of a Sigstore bundle, as fast-check arbitraries. A mutation is a short list of operations,
// each a plain record (printed with a finding) chosen against the seed's shape: its fields, its base64 `bytes`, the
// DER inside them (certificates, timestamps, signatures), its int64 strings, enums, checkpoints and the JSON inside its
// canonicalized Rekor body and DSSE payload. Applied to a copy of the seed's JSON tree, then written as text.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBundle } from '@twokey/sigstore';
import fc from 'fast-check';
import {
  allNodes,
  DER_TAGS,
  type DerNode,
  ecdsaSignatures,
  encodeElement,
  highS,
  parseDer,
  replaceNode,
  withIndefiniteLength,
  withLongFormLength,
  withTag,
} from './der';
import {
  cloneJSON,
  EXTRA_KEYS,
  type ExtraKey,
  getAt,
  type JsonPath,
  jsonEqual,
  RawJSON,
  saysMoreThanItsValue,
  setAt,
  toJSONText,
} from './json-text';
import { judgeTimestamps, LATITUDES, latitudeOf, type TimestampJudgement } from './latitude';
import { type BundleSeed, conformanceRoot } from './seeds';

/** Fields the protobuf JSON mapping holds as base64 `bytes`. */
const BASE64_KEYS = new Set([
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
/** Base64 fields whose bytes are DER: certificates, RFC 3161 timestamps, ECDSA signatures. */
const DER_KEYS = new Set(['rawBytes', 'signedTimestamp', 'signature', 'sig', 'signedEntryTimestamp']);
const INT64_KEYS = new Set(['logIndex', 'integratedTime', 'treeSize']);
const ENUM_VALUES: Record<string, unknown[]> = {
  algorithm: ['SHA2_384', 'SHA2_512', 'SHA3_256', 'HASH_ALGORITHM_UNSPECIFIED', 'sha2_256', 'SHA2-256', 1, '1', 0, 99],
  hashAlgorithm: ['SHA2_384', 'SHA2_512', 'HASH_ALGORITHM_UNSPECIFIED', 'sha2_256', 1, 0],
  keyDetails: [
    'PKIX_ECDSA_P384_SHA_384',
    'PKIX_ED25519',
    'PKIX_RSA_PKCS1V15_2048_SHA256',
    'UNSPECIFIED',
    5,
    'pkix_ecdsa_p256_sha_256',
  ],
  kind: ['hashedrekord', 'intoto', 'dsse', 'rekord', 'HashedRekord', '', 'cose'],
  version: ['0.0.1', '0.0.2', '0.0.3', '0.1.0', '', '1', 'v0.0.1'],
  payloadType: [
    'application/vnd.in-toto+json',
    'text/plain',
    'application/vnd.in-toto+JSON',
    'application/vnd.in-toto+json; charset=utf-8',
    '',
    'application/json',
  ],
  mediaType: [
    'application/vnd.dev.sigstore.bundle+json;version=0.1',
    'application/vnd.dev.sigstore.bundle+json;version=0.2',
    'application/vnd.dev.sigstore.bundle+json;version=0.3',
    'application/vnd.dev.sigstore.bundle.v0.3+json',
    'application/vnd.dev.sigstore.bundle.v0.4+json',
    'application/vnd.dev.sigstore.bundle+json;version=0.3.1',
    'application/vnd.dev.sigstore.bundle+json; version=0.3',
    'APPLICATION/VND.DEV.SIGSTORE.BUNDLE.V0.3+JSON',
    'application/vnd.dev.sigstore.bundle.v0.3+json ',
    'application/vnd.dev.sigstore.bundle.v0.3+json\u0000',
    '',
  ],
};
const CHECKPOINT_KEY = 'envelope';
const EMBEDDED_JSON_KEYS = new Set(['canonicalizedBody', 'payload']);

/** Where in a seed each kind of mutation can apply. */
export interface BundleShape {
  fields: JsonPath[];
  objects: JsonPath[];
  arrays: JsonPath[];
  strings: JsonPath[];
  base64: JsonPath[];
  der: JsonPath[];
  int64: JsonPath[];
  enums: JsonPath[];
  checkpoints: JsonPath[];
  embeddedJson: JsonPath[];
}

export function shapeOf(json: unknown): BundleShape {
  const shape: BundleShape = {
    fields: [],
    objects: [],
    arrays: [],
    strings: [],
    base64: [],
    der: [],
    int64: [],
    enums: [],
    checkpoints: [],
    embeddedJson: [],
  };
  const walk = (value: unknown, path: JsonPath, key: string | undefined) => {
    if (Array.isArray(value)) {
      shape.arrays.push(path);
      value.forEach((item, i) => {
        walk(item, [...path, i], key);
      });
      return;
    }
    if (typeof value === 'object' && value !== null) {
      shape.objects.push(path);
      for (const [k, child] of Object.entries(value)) {
        shape.fields.push([...path, k]);
        walk(child, [...path, k], k);
      }
      return;
    }
    if (typeof value !== 'string' || key === undefined) return;
    shape.strings.push(path);
    if (BASE64_KEYS.has(key)) shape.base64.push(path);
    if (DER_KEYS.has(key)) shape.der.push(path);
    if (INT64_KEYS.has(key)) shape.int64.push(path);
    if (key in ENUM_VALUES) shape.enums.push(path);
    if (key === CHECKPOINT_KEY) shape.checkpoints.push(path);
    if (EMBEDDED_JSON_KEYS.has(key) && isBase64JSON(value)) shape.embeddedJson.push(path);
  };
  walk(json, [], undefined);
  return shape;
}

function isBase64JSON(value: string): boolean {
  try {
    JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const BASE64_HOWS = [
  'url-safe',
  'unpadded',
  'extra-padding',
  'line-breaks',
  'space',
  'trailing-bits',
  'bad-char',
  'drop-last-char',
  'hex',
  'empty',
  'leading-whitespace',
] as const;
const DER_HOWS = [
  'flip',
  'long-length',
  'indefinite-length',
  'integer-leading-zero',
  'dup-child',
  'drop-child',
  'swap-children',
  'change-tag',
  'trailing-bytes',
  'truncate',
  'high-s',
  'content-append',
] as const;
const CHECKPOINT_HOWS = [
  'size+1',
  'size-leading-zero',
  'origin-suffix',
  'origin-case',
  'root-hash-flip',
  'root-hash-url-safe',
  'add-extension-line',
  'drop-blank-line',
  'double-blank-line',
  'crlf',
  'no-final-newline',
  'extra-final-newline',
  'dup-signature',
  'drop-signature',
  'foreign-signature',
  'reorder-signatures',
  'ascii-dash',
  'trailing-space',
  'many-signatures',
  'long-line',
] as const;
const INT64_SPELLINGS = [
  'number',
  'leading-zero',
  'plus',
  'decimal',
  'exponent',
  'space',
  'negative',
  'int64-overflow',
  'uint64-overflow',
  'hex',
  'empty',
  'huge-digits',
  'plus-one',
  'minus-one',
  'zero',
  'infinity-number',
  'negative-zero',
] as const;
const DOC_HOWS = [
  'empty',
  'bom',
  'trailing-garbage',
  'truncate',
  'two-documents',
  'wrap-array',
  'wrap-object',
  'null',
  'utf16le',
  'invalid-utf8',
  'nul-byte',
  'lone-surrogate',
] as const;

export type BundleOp =
  | { op: 'drop'; path: JsonPath }
  | { op: 'retype'; path: JsonPath; value: unknown }
  | { op: 'enum'; path: JsonPath; value: unknown }
  | { op: 'add-key'; path: JsonPath; key: string; value: unknown }
  | { op: 'dup-key'; path: JsonPath; pick: number; before: boolean; other: unknown | undefined }
  | { op: 'rename-key'; path: JsonPath; style: 'snake' | 'upper' | 'lower' | 'kebab' }
  | { op: 'array'; path: JsonPath; how: 'dup' | 'drop' | 'swap' | 'empty' | 'reverse' | 'wrap'; pick: number }
  | { op: 'splice'; path: JsonPath; from: number; pick: number }
  | { op: 'base64'; path: JsonPath; how: (typeof BASE64_HOWS)[number]; pick: number }
  | {
      op: 'der';
      path: JsonPath;
      how: (typeof DER_HOWS)[number];
      region: 'outside' | 'inside' | 'any';
      pick: number;
      bit: number;
    }
  | { op: 'checkpoint'; path: JsonPath; how: (typeof CHECKPOINT_HOWS)[number]; pick: number }
  | { op: 'int64'; path: JsonPath; spelling: (typeof INT64_SPELLINGS)[number] }
  | {
      op: 'embedded';
      path: JsonPath;
      how: 'drop' | 'retype' | 'add-key' | 'dup-key' | 'reorder' | 'pretty';
      pick: number;
    }
  | { op: 'nest'; path: JsonPath; depth: number; kind: 'array' | 'object' }
  | { op: 'huge'; path: JsonPath; size: number; kind: 'base64' | 'text' | 'array' | 'keys' }
  | { op: 'doc'; how: (typeof DOC_HOWS)[number]; pick: number };

export interface BundleMutation {
  seed: number;
  ops: BundleOp[];
}

const smallValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0, -1, 1e308, 2 ** 53 + 2, new RawJSON('9007199254740993'), new RawJSON('1e400')),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
  fc.constant(''),
  fc.jsonValue({ maxDepth: 2 }),
);

const unknownKey = fc.oneof(
  fc.constantFrom(
    'extra',
    '__proto__',
    'constructor',
    'toString',
    '$case',
    '@type',
    'mediaType',
    'content',
    'dsseEnvelope',
    'messageSignature',
    'publicKey',
    'x509CertificateChain',
    'certificate',
    'tlogEntries',
    'timestampVerificationData',
    'inclusionPromise',
    'inclusionProof',
    'signatures',
    'verification_material',
    'log_index',
  ),
  fc.string({ minLength: 1, maxLength: 12 }),
);

const pick = fc.nat({ max: 0x7fffffff });

function fromPaths<T>(paths: JsonPath[], make: (path: fc.Arbitrary<JsonPath>) => fc.Arbitrary<T>) {
  return paths.length > 0 ? [make(fc.constantFrom(...paths))] : [];
}

function weighted<T>(weight: number, arbitraries: fc.Arbitrary<T>[]): { weight: number; arbitrary: fc.Arbitrary<T> }[] {
  return arbitraries.map((arbitrary) => ({ weight, arbitrary }));
}

/** One mutation operation on a seed of this shape. */
export function bundleOpArbitrary(shape: BundleShape, seedCount: number): fc.Arbitrary<BundleOp> {
  const choices = [
    ...weighted(
      3,
      fromPaths(shape.fields, (path) => fc.record({ op: fc.constant('drop' as const), path })),
    ),
    ...weighted(
      2,
      fromPaths(shape.fields, (path) => fc.record({ op: fc.constant('retype' as const), path, value: smallValue })),
    ),
    ...weighted(
      2,
      fromPaths(shape.enums, (path) =>
        path.chain((p) =>
          fc.record({
            op: fc.constant('enum' as const),
            path: fc.constant(p),
            value: fc.constantFrom(...ENUM_VALUES[String(p[p.length - 1])]!),
          }),
        ),
      ),
    ),
    ...weighted(
      3,
      fromPaths(shape.objects, (path) =>
        fc.record({ op: fc.constant('add-key' as const), path, key: unknownKey, value: smallValue }),
      ),
    ),
    ...weighted(
      3,
      fromPaths(shape.objects, (path) =>
        fc.record({
          op: fc.constant('dup-key' as const),
          path,
          pick,
          before: fc.boolean(),
          other: fc.option(smallValue, { nil: undefined }),
        }),
      ),
    ),
    ...weighted(
      2,
      fromPaths(shape.fields, (path) =>
        fc.record({
          op: fc.constant('rename-key' as const),
          path,
          style: fc.constantFrom('snake', 'upper', 'lower', 'kebab'),
        }),
      ),
    ),
    ...weighted(
      3,
      fromPaths(shape.arrays, (path) =>
        fc.record({
          op: fc.constant('array' as const),
          path,
          how: fc.constantFrom('dup', 'drop', 'swap', 'empty', 'reverse', 'wrap'),
          pick,
        }),
      ),
    ),
    ...weighted(
      2,
      fromPaths(shape.fields, (path) =>
        fc.record({ op: fc.constant('splice' as const), path, from: fc.nat({ max: seedCount - 1 }), pick }),
      ),
    ),
    ...weighted(
      4,
      fromPaths(shape.base64, (path) =>
        fc.record({ op: fc.constant('base64' as const), path, how: fc.constantFrom(...BASE64_HOWS), pick }),
      ),
    ),
    ...weighted(
      8,
      fromPaths(shape.der, (path) =>
        fc.record({
          op: fc.constant('der' as const),
          path,
          how: fc.constantFrom(...DER_HOWS),
          region: fc.constantFrom('outside', 'outside', 'inside', 'any'),
          pick,
          bit: fc.nat({ max: 7 }),
        }),
      ),
    ),
    ...weighted(
      4,
      fromPaths(shape.checkpoints, (path) =>
        fc.record({ op: fc.constant('checkpoint' as const), path, how: fc.constantFrom(...CHECKPOINT_HOWS), pick }),
      ),
    ),
    ...weighted(
      3,
      fromPaths(shape.int64, (path) =>
        fc.record({ op: fc.constant('int64' as const), path, spelling: fc.constantFrom(...INT64_SPELLINGS) }),
      ),
    ),
    ...weighted(
      2,
      fromPaths(shape.embeddedJson, (path) =>
        fc.record({
          op: fc.constant('embedded' as const),
          path,
          how: fc.constantFrom('drop', 'retype', 'add-key', 'dup-key', 'reorder', 'pretty'),
          pick,
        }),
      ),
    ),
    ...weighted(
      1,
      fromPaths(shape.fields, (path) =>
        fc.record({
          op: fc.constant('nest' as const),
          path,
          depth: fc.constantFrom(16, 1_000, 10_000, 200_000),
          kind: fc.constantFrom('array', 'object'),
        }),
      ),
    ),
    ...weighted(
      1,
      fromPaths(shape.fields, (path) =>
        fc.record({
          op: fc.constant('huge' as const),
          path,
          // 17 MB is over the 16 MiB bundle limit: refused by size, before parsing (through the CLI's file read).
          size: fc.constantFrom(70_000, 70_000, 1_000_000, 17_000_000),
          kind: fc.constantFrom('base64', 'text', 'array', 'keys'),
        }),
      ),
    ),
    { weight: 2, arbitrary: fc.record({ op: fc.constant('doc' as const), how: fc.constantFrom(...DOC_HOWS), pick }) },
  ];
  return fc.oneof(...choices);
}

/** A mutation of one of `shapes.length` seeds: 1 to 3 operations, most often one. */
export function bundleMutationArbitrary(shapes: BundleShape[]): fc.Arbitrary<BundleMutation> {
  return fc.nat({ max: shapes.length - 1 }).chain((seed) =>
    fc.record({
      seed: fc.constant(seed),
      ops: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.array(bundleOpArbitrary(shapes[seed]!, shapes.length), { minLength: 1, maxLength: 1 }),
        },
        {
          weight: 1,
          arbitrary: fc.array(bundleOpArbitrary(shapes[seed]!, shapes.length), { minLength: 2, maxLength: 3 }),
        },
      ),
    }),
  );
}

/**
 * Whether a bundle the verifier accepted says what the seed says, re-encoded (its protobuf form, as twokey parses it,
 * is the seed's), or something else (evidence added, dropped or swapped; bytes changed outside what a signature
 * covers). Both are findings; the first is what canonical parsing refuses.
 */
export function contentChanges(bytes: Buffer, seed: BundleSeed): string[] {
  try {
    return protobufDiff(
      parseBundle(bytes.toString('utf8'), 'mutated').bundle,
      parseBundle(seed.text, 'seed').bundle,
      '',
    );
  } catch (error) {
    return [`(unparsable: ${error instanceof Error ? error.message.slice(0, 80) : String(error)})`];
  }
}

/** Where two protobuf values differ: the fields' paths, at most four levels down (`verificationMaterial.tlogEntries`). */
function protobufDiff(a: unknown, b: unknown, path: string, depth = 0): string[] {
  if (a === b) return [];
  const bytes = (x: unknown) => x instanceof Uint8Array;
  if (bytes(a) || bytes(b)) {
    return bytes(a) && bytes(b) && Buffer.from(a as Uint8Array).equals(Buffer.from(b as Uint8Array)) ? [] : [path];
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [path];
  if (Array.isArray(a) !== Array.isArray(b)) return [path];
  if (depth >= 4) return protobufDiff(a, b, path, 0).length > 0 ? [path] : [];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== '$case');
  if ((a as { $case?: unknown }).$case !== (b as { $case?: unknown }).$case) return [`${path}.$case`];
  return keys.flatMap((k) =>
    protobufDiff(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      Array.isArray(a) ? `${path}[]` : path ? `${path}.${k}` : k,
      depth + 1,
    ),
  );
}

/** The bytes of a mutated bundle, and whether they can mean something else than the seed (what the oracle asks). */
export interface MutatedBundle {
  bytes: Buffer;
  /** The mutated file is not the seed: its JSON value differs, or its text says more than one value can. */
  changed: boolean;
  /** What each operation did, for a finding's report. */
  notes: string[];
  /**
   * The formats' latitudes (latitude.ts) the mutation stayed within, when only those operations changed the bundle:
   * it is then not `changed`, and an accept is not a finding.
   */
  latitudes?: string[];
}

export function applyBundleMutation(mutation: BundleMutation, seeds: BundleSeed[]): MutatedBundle {
  const seed = seeds[mutation.seed]!;
  const holder = { root: cloneJSON(seed.json) as unknown };
  const notes: string[] = [];
  const docOps: Extract<BundleOp, { op: 'doc' }>[] = [];
  for (const op of mutation.ops) {
    if (op.op === 'doc') docOps.push(op);
    else notes.push(applyOp(holder, op, seeds));
  }
  let text = toJSONText(holder.root);
  // A key added twice, then dropped once, stands once: only a text that says more than its value is changed by it.
  const textOnly = saysMoreThanItsValue(holder.root);
  let bytes: Buffer = Buffer.from(text, 'utf8');
  let byteLevel = false;
  for (const op of docOps) {
    const result = applyDocOp(bytes, text, op);
    bytes = result.bytes;
    text = bytes.toString('utf8');
    byteLevel ||= result.changed;
    notes.push(result.note);
  }
  let changed = textOnly || byteLevel;
  if (!changed) {
    try {
      const json = JSON.parse(bytes.toString('utf8')) as unknown;
      changed = !jsonEqual(json, seed.json) && !withoutDefaults(json, seed.json);
    } catch {
      changed = true;
    }
  }
  if (changed && !textOnly && !byteLevel) {
    // A checkpoint that differs only in signature lines other than its log's own (order, a witness added or dropped).
    const cosigned = withinCheckpointCosignatures(bytes, seed.json);
    if (cosigned) return { bytes, changed: false, notes, latitudes: [cosigned] };
    // A key's hint changed, whatever operations changed it (a key duplicated, then its first stand dropped).
    const hinted = withinPublicKeyHint(bytes, seed);
    if (hinted) return { bytes, changed: false, notes, latitudes: [hinted] };
  }
  // What the mutated bundle's tokens are decides whether operations on them stay within a latitude.
  let timestamps: TimestampJudgement | undefined;
  const judged = () => {
    timestamps ??= judgeTimestamps(bytes, seed);
    return timestamps;
  };
  const latitudeOfOp = (op: BundleOp) => latitudeOf(op, seed, judged);
  const within = (op: BundleOp) => latitudeOfOp(op) !== undefined;
  const latitudes = [...new Set(mutation.ops.map((op) => latitudeOfOp(op)?.name).filter((name) => name !== undefined))];
  if (changed && latitudes.length > 0) {
    // The same mutation without the operations within a latitude: if that leaves the seed, only they changed it.
    const strict = applyBundleMutation({ ...mutation, ops: mutation.ops.filter((op) => !within(op)) }, seeds);
    if (!strict.changed) return { bytes, changed: false, notes, latitudes };
    // Or the other operations changed only what a latitude operation then removed (a checkpoint edited, then the
    // whole proof dropped): the bundle is the seed with the latitude operations alone.
    if (!textOnly && !byteLevel) {
      const only = applyBundleMutation({ ...mutation, ops: mutation.ops.filter(within) }, seeds);
      if (only.bytes.equals(bytes) || sameJSON(only.bytes, bytes)) return { bytes, changed: false, notes, latitudes };
    }
  }
  return { bytes, changed, notes };
}

function sameJSON(a: Buffer, b: Buffer): boolean {
  try {
    return jsonEqual(JSON.parse(a.toString('utf8')), JSON.parse(b.toString('utf8')));
  } catch {
    return false;
  }
}

/**
 * The checkpoint latitude's name when `bytes` is the seed but for its checkpoints' signature lines other than the
 * log's own (the line whose key name is the checkpoint's origin), compared as a set.
 */
function withinCheckpointCosignatures(bytes: Buffer, seed: unknown): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const same = withoutDefaults(logSignaturesOnly(json), logSignaturesOnly(seed));
  return same ? LATITUDES.find((l) => l.name.startsWith("a checkpoint's signature lines"))?.name : undefined;
}

/**
 * The public-key hint latitude's name when the seed is verified with a key (--key) and `bytes` is the seed but for
 * its PublicKeyIdentifier's hint: an identifier still there, an object with no field but a string hint, and all the
 * rest the seed's. An identifier dropped, or holding anything else, is a change.
 */
function withinPublicKeyHint(bytes: Buffer, seed: BundleSeed): string | undefined {
  if (seed.key === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const identifierOf = (bundle: unknown) =>
    (bundle as { verificationMaterial?: { publicKey?: unknown } } | null)?.verificationMaterial?.publicKey;
  const onlyAHint = (identifier: unknown) =>
    typeof identifier === 'object' &&
    identifier !== null &&
    !Array.isArray(identifier) &&
    Object.entries(identifier).every(([key, value]) => key === 'hint' && typeof value === 'string');
  if (!onlyAHint(identifierOf(json)) || !onlyAHint(identifierOf(seed.json))) return undefined;
  const withoutIdentifier = (bundle: unknown) => {
    const copy = cloneJSON(bundle) as { verificationMaterial: { publicKey?: unknown } };
    delete copy.verificationMaterial.publicKey;
    return copy;
  };
  const same = withoutDefaults(withoutIdentifier(json), withoutIdentifier(seed.json));
  return same ? LATITUDES.find((l) => l.name.startsWith('the public-key hint'))?.name : undefined;
}

/** A copy of a bundle's JSON whose checkpoints keep their note and only their log's own signature lines, sorted. */
function logSignaturesOnly(json: unknown): unknown {
  const copy = cloneJSON(json) as { verificationMaterial?: { tlogEntries?: unknown } };
  const entries = copy?.verificationMaterial?.tlogEntries;
  if (!Array.isArray(entries)) return copy;
  for (const entry of entries) {
    const checkpoint = (entry as { inclusionProof?: { checkpoint?: { envelope?: unknown } } })?.inclusionProof
      ?.checkpoint;
    if (typeof checkpoint?.envelope !== 'string') continue;
    const blank = checkpoint.envelope.indexOf('\n\n');
    if (blank < 0) continue;
    const note = checkpoint.envelope.slice(0, blank);
    const signatures = checkpoint.envelope.slice(blank + 2);
    const origin = note.split('\n')[0] ?? '';
    const lines = signatures.endsWith('\n') ? signatures.slice(0, -1).split('\n') : [signatures];
    // Only well-formed signature lines, one newline at the end: anything else stays as written, and differs.
    if (!signatures.endsWith('\n') || lines.some((line) => !/^\u2014 \S+ [A-Za-z0-9+/]+={0,2}$/.test(line))) continue;
    const own = lines.filter((line) => line.startsWith(`\u2014 ${origin} `)).sort();
    checkpoint.envelope = `${note}\n\n${own.join('\n')}\n`;
  }
  return copy;
}

/** Values protobuf's JSON mapping writes by leaving the field out: a field holding one is the field absent. */
function isDefault(value: unknown): boolean {
  return (
    value === null ||
    value === '' ||
    value === '0' ||
    value === 0 ||
    value === false ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** The protobuf-specs JSON schema of a bundle (../shared): which fields each message has, read independently of twokey. */
const BUNDLE_SCHEMA = JSON.parse(
  readFileSync(join(conformanceRoot, 'sigstore-protobuf-specs/gen/jsonschema/schemas/Bundle.schema.json'), 'utf8'),
) as {
  definitions: Record<
    string,
    { properties?: Record<string, { $ref?: string; type?: string; items?: { $ref?: string } }> }
  >;
};

interface SchemaField {
  /** The field's message definition, for a message or a list of messages. */
  definition?: string;
  kind: 'scalar' | 'list' | 'message';
}

/** The fields of a message of the schema. */
function schemaFields(definition: string | undefined): Map<string, SchemaField> {
  const properties = definition ? (BUNDLE_SCHEMA.definitions[definition]?.properties ?? {}) : {};
  return new Map(
    Object.entries(properties).map(([k, p]): [string, SchemaField] => {
      const ref = (p.$ref ?? p.items?.$ref)?.replace('#/definitions/', '');
      const kind = p.items || p.type === 'array' ? 'list' : p.$ref ? 'message' : 'scalar';
      return [k, { ...(ref && { definition: ref }), kind }];
    }),
  );
}

/** The JSON mapping's default of a field of this kind: null for any; "" and "0" for a scalar; [] for a list. */
function isDefaultOf(value: unknown, kind: SchemaField['kind']): boolean {
  if (value === null) return true;
  if (kind === 'scalar') return value === '' || value === '0';
  return kind === 'list' && Array.isArray(value) && value.length === 0;
}

/**
 * Whether `json` is `seed` with default-valued fields written or left out (`"integratedTime": "0"`,
 * `"inclusionPromise": null`, `"rfc3161Timestamps": []`): protobuf JSON writers may do either, and real bundles do
 * both; the same protobuf content, so no mutation at all. A field written with its default must be a field of that
 * message in the protobuf-specs schema: an unknown key is a change whatever it holds.
 */
function withoutDefaults(json: unknown, seed: unknown, definition: string | undefined = 'Bundle'): boolean {
  if (typeof json !== 'object' || json === null || typeof seed !== 'object' || seed === null)
    return jsonEqual(json, seed);
  if (Array.isArray(json) || Array.isArray(seed)) {
    return (
      Array.isArray(json) &&
      Array.isArray(seed) &&
      json.length === seed.length &&
      json.every((x, i) => withoutDefaults(x, seed[i], definition))
    );
  }
  const a = json as Record<string, unknown>;
  const b = seed as Record<string, unknown>;
  const fields = schemaFields(definition);
  const added = Object.keys(a).filter((k) => !Object.hasOwn(b, k));
  if (added.some((k) => !fields.has(k) || !isDefaultOf(a[k], fields.get(k)!.kind))) return false;
  return Object.keys(b).every((k) =>
    Object.hasOwn(a, k) ? withoutDefaults(a[k], b[k], fields.get(k)?.definition) : isDefault(b[k]),
  );
}

type Holder = { root: unknown };

function applyOp(holder: Holder, op: Exclude<BundleOp, { op: 'doc' }>, seeds: BundleSeed[]): string {
  const path = ['root', ...op.path];
  const current = getAt(holder, path);
  switch (op.op) {
    case 'drop': {
      const parent = getAt(holder, path.slice(0, -1));
      const key = path[path.length - 1]!;
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else if (typeof parent === 'object' && parent !== null) delete (parent as Record<string, unknown>)[key];
      return `drop ${show(op.path)}`;
    }
    case 'retype':
    case 'enum':
      setAt(holder, path, copyOf(op.value));
      return `${op.op} ${show(op.path)} = ${short(op.value)}`;
    case 'add-key': {
      const target = getAt(holder, path);
      if (typeof target !== 'object' || target === null || Array.isArray(target)) return 'add-key: no object';
      Object.defineProperty(target, op.key, {
        value: copyOf(op.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return `add-key ${show(op.path)}.${JSON.stringify(op.key)} = ${short(op.value)}`;
    }
    case 'dup-key': {
      const target = getAt(holder, path) as (Record<string, unknown> & { [EXTRA_KEYS]?: ExtraKey[] }) | undefined;
      if (typeof target !== 'object' || target === null || Array.isArray(target)) return 'dup-key: no object';
      const keys = Object.keys(target);
      if (keys.length === 0) return 'dup-key: empty object';
      const key = keys[op.pick % keys.length]!;
      const value = op.other === undefined ? cloneJSON(target[key]) : copyOf(op.other);
      target[EXTRA_KEYS] = [...(target[EXTRA_KEYS] ?? []), { key, value, before: op.before }];
      return `dup-key ${show(op.path)}.${key} ${op.before ? 'before' : 'after'} = ${op.other === undefined ? '(same value)' : short(value)}`;
    }
    case 'rename-key': {
      const parent = getAt(holder, path.slice(0, -1));
      const key = path[path.length - 1];
      if (typeof key !== 'string' || typeof parent !== 'object' || parent === null || Array.isArray(parent)) {
        return 'rename-key: not an object member';
      }
      const renamed = renameKey(key, op.style);
      const record = parent as Record<string, unknown>;
      const value = record[key];
      delete record[key];
      Object.defineProperty(record, renamed, { value, enumerable: true, writable: true, configurable: true });
      return `rename-key ${show(op.path)} -> ${renamed}`;
    }
    case 'array': {
      if (!Array.isArray(current)) return 'array: not an array';
      const i = current.length > 0 ? op.pick % current.length : 0;
      const j = current.length > 0 ? (op.pick >>> 8) % current.length : 0;
      switch (op.how) {
        case 'dup':
          if (current.length > 0) current.splice(i, 0, cloneJSON(current[i]));
          break;
        case 'drop':
          current.splice(i, 1);
          break;
        case 'swap':
          [current[i], current[j]] = [current[j], current[i]];
          break;
        case 'empty':
          current.length = 0;
          break;
        case 'reverse':
          current.reverse();
          break;
        case 'wrap':
          setAt(holder, path, [current]);
          break;
      }
      return `array ${op.how} ${show(op.path)} [${i}${op.how === 'swap' ? `,${j}` : ''}]`;
    }
    case 'splice': {
      const other = seeds[op.from]!;
      let value = getAt(other.json, op.path);
      let from = show(op.path);
      if (value === undefined) {
        const candidates = shapeOf(other.json).fields;
        const chosen = candidates[op.pick % candidates.length]!;
        value = getAt(other.json, chosen);
        from = show(chosen);
      }
      setAt(holder, path, cloneJSON(value));
      return `splice ${show(op.path)} = ${other.name}:${from}`;
    }
    case 'base64': {
      if (typeof current !== 'string') return 'base64: not a string';
      setAt(holder, path, reencodeBase64(current, op.how, op.pick));
      return `base64 ${op.how} ${show(op.path)}`;
    }
    case 'der': {
      if (typeof current !== 'string') return 'der: not a string';
      const { bytes, note } = mutateDer(Buffer.from(current, 'base64'), op);
      setAt(holder, path, bytes.toString('base64'));
      return `der ${op.how} (${op.region}) ${show(op.path)}: ${note}`;
    }
    case 'checkpoint': {
      if (typeof current !== 'string') return 'checkpoint: not a string';
      setAt(holder, path, mutateCheckpoint(current, op.how, op.pick));
      return `checkpoint ${op.how} ${show(op.path)}`;
    }
    case 'int64': {
      if (typeof current !== 'string') return 'int64: not a string';
      setAt(holder, path, respellInt64(current, op.spelling));
      return `int64 ${op.spelling} ${show(op.path)} (${current})`;
    }
    case 'embedded': {
      if (typeof current !== 'string') return 'embedded: not a string';
      const { text, note } = mutateEmbeddedJSON(Buffer.from(current, 'base64').toString('utf8'), op.how, op.pick);
      setAt(holder, path, Buffer.from(text, 'utf8').toString('base64'));
      return `embedded ${op.how} ${show(op.path)}: ${note}`;
    }
    case 'nest': {
      const open = op.kind === 'array' ? '[' : '{"a":';
      const close = op.kind === 'array' ? ']' : '}';
      setAt(holder, path, new RawJSON(`${open.repeat(op.depth)}1${close.repeat(op.depth)}`));
      return `nest ${op.kind} x${op.depth} at ${show(op.path)}`;
    }
    case 'huge': {
      setAt(holder, path, hugeValue(op.kind, op.size));
      return `huge ${op.kind} ${op.size} at ${show(op.path)}`;
    }
  }
}

/**
 * A fresh copy of a generated value: fast-check hands out one instance of a constant (`fc.constant({})`) to every
 * case, and a later operation may add keys to what an earlier one inserted (into itself, or into the next case).
 */
function copyOf(value: unknown): unknown {
  return value instanceof RawJSON ? value : cloneJSON(value);
}

function renameKey(key: string, style: 'snake' | 'upper' | 'lower' | 'kebab'): string {
  switch (style) {
    case 'snake':
      return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    case 'kebab':
      return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    case 'upper':
      return key.toUpperCase();
    case 'lower':
      return key.toLowerCase();
  }
}

function hugeValue(kind: 'base64' | 'text' | 'array' | 'keys', size: number): unknown {
  switch (kind) {
    case 'base64':
      return 'A'.repeat(size);
    case 'text':
      return 'é\u2028'.repeat(Math.floor(size / 4));
    // Many elements or keys cost the reader per element, not per byte: up to 50,000 and 20,000 of them.
    case 'array':
      return new RawJSON(`[${Array.from({ length: Math.floor(Math.min(size, 200_000) / 4) }, () => '"A"').join(',')}]`);
    case 'keys':
      return new RawJSON(
        `{${Array.from({ length: Math.floor(Math.min(size, 240_000) / 12) }, (_, i) => `"k${i}":0`).join(',')}}`,
      );
  }
}

/** The same bytes (or, for the corrupting kinds, not quite) spelt another way. */
export function reencodeBase64(text: string, how: (typeof BASE64_HOWS)[number], pick: number): string {
  switch (how) {
    case 'url-safe':
      return text.replace(/\+/g, '-').replace(/\//g, '_');
    case 'unpadded':
      return text.replace(/=+$/, '');
    case 'extra-padding':
      return `${text}${'='.repeat(1 + (pick % 2))}`;
    case 'line-breaks':
      return (text.match(/.{1,64}/g) ?? []).join(pick % 2 ? '\r\n' : '\n');
    case 'space': {
      const i = pick % (text.length + 1);
      return `${text.slice(0, i)} ${text.slice(i)}`;
    }
    case 'trailing-bits':
      return withTrailingBits(text);
    case 'bad-char': {
      const i = pick % Math.max(1, text.length);
      const bad = ['!', '.', '*', 'é', '\u0000', '%'][pick % 6]!;
      return `${text.slice(0, i)}${bad}${text.slice(i + 1)}`;
    }
    case 'drop-last-char':
      return text.replace(/=*$/, '').slice(0, -1);
    case 'hex':
      return Buffer.from(text, 'base64').toString('hex');
    case 'empty':
      return '';
    case 'leading-whitespace':
      return `\t${text}`;
  }
}

/** The same bytes with the unused low bits of the last base64 digit set (a non-canonical encoding). */
function withTrailingBits(text: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const padding = text.match(/=*$/)![0].length;
  if (padding === 0) return `${text}=`; // no spare bits without padding: over-pad instead
  const i = text.length - padding - 1;
  const value = alphabet.indexOf(text[i]!);
  if (value < 0) return text;
  const spare = padding === 2 ? 0x0f : 0x03;
  return `${text.slice(0, i)}${alphabet[value | spare]}${text.slice(i + 1)}`;
}

/** A DER mutation: the tree decides where, `region` says whether inside or outside what a signature covers. */
export function mutateDer(
  buf: Buffer,
  op: { how: (typeof DER_HOWS)[number]; region: 'outside' | 'inside' | 'any'; pick: number; bit: number },
): { bytes: Buffer; note: string } {
  const root = parseDer(buf);
  if (!root || buf.length === 0) return flipBit(buf, op.pick, op.bit, 'not DER: ');
  const nodes = allNodes(root).filter((n) => op.region === 'any' || n.signed === (op.region === 'inside'));
  const choose = (candidates: DerNode[]) =>
    candidates.length > 0 ? candidates[op.pick % candidates.length] : undefined;
  const where = (n: DerNode) =>
    `tag 0x${n.tag.toString(16)} at ${n.start} depth ${n.depth}${n.signed ? ' signed' : ''}`;
  switch (op.how) {
    case 'flip': {
      const ranges = flipRanges(root, op.region);
      const total = ranges.reduce((sum, [a, b]) => sum + (b - a), 0);
      if (total === 0) return flipBit(buf, op.pick, op.bit, '');
      let offset = op.pick % total;
      for (const [a, b] of ranges) {
        if (offset < b - a) return flipBit(buf, a + offset, op.bit, '');
        offset -= b - a;
      }
      return flipBit(buf, op.pick, op.bit, '');
    }
    case 'long-length': {
      const node = choose(nodes);
      if (!node) return { bytes: buf, note: 'no element' };
      return { bytes: replaceNode(buf, root, node, withLongFormLength(buf, node, op.bit % 3)), note: where(node) };
    }
    case 'indefinite-length': {
      const node = choose(nodes.filter((n) => n.constructed));
      if (!node) return { bytes: buf, note: 'no constructed element' };
      return { bytes: replaceNode(buf, root, node, withIndefiniteLength(buf, node)), note: where(node) };
    }
    case 'integer-leading-zero': {
      const node = choose(nodes.filter((n) => n.tag === DER_TAGS.integer));
      if (!node) return { bytes: buf, note: 'no INTEGER' };
      const content = Buffer.concat([Buffer.of(op.bit % 2 ? 0xff : 0), buf.subarray(node.contentStart, node.end)]);
      return { bytes: replaceNode(buf, root, node, encodeElement(node.tag, content)), note: where(node) };
    }
    case 'dup-child':
    case 'drop-child':
    case 'swap-children': {
      const parent = choose(nodes.filter((n) => n.children.length > (op.how === 'swap-children' ? 1 : 0)));
      if (!parent) return { bytes: buf, note: 'no element with children' };
      const children = parent.children.map((c) => buf.subarray(c.start, c.end));
      const i = (op.pick >>> 4) % children.length;
      if (op.how === 'dup-child') children.splice(i, 0, children[i]!);
      else if (op.how === 'drop-child') children.splice(i, 1);
      else {
        const j = (i + 1) % children.length;
        [children[i], children[j]] = [children[j]!, children[i]!];
      }
      const prefix =
        parent.encapsulatedAt !== undefined
          ? buf.subarray(parent.encapsulatedAt, parent.encapsulatedAt + 1)
          : Buffer.alloc(0);
      const replacement = encodeElement(parent.tag, Buffer.concat([prefix, ...children]));
      return { bytes: replaceNode(buf, root, parent, replacement), note: `${where(parent)} child ${i}` };
    }
    case 'change-tag': {
      const node = choose(nodes);
      if (!node) return { bytes: buf, note: 'no element' };
      const swaps: Record<number, number> = {
        48: 0x31,
        49: 0x30,
        2: 0x0a,
        4: 0x03,
        3: 0x04,
        6: 0x0d,
        23: 0x18,
        24: 0x17,
        12: 0x13,
        19: 0x0c,
      };
      const tag = swaps[node.tag] ?? node.tag ^ (op.bit % 2 ? 0x80 : 0x01);
      return {
        bytes: replaceNode(buf, root, node, withTag(buf, node, tag)),
        note: `${where(node)} -> 0x${tag.toString(16)}`,
      };
    }
    case 'trailing-bytes':
      return {
        bytes: Buffer.concat([
          buf,
          op.bit % 2 ? Buffer.of(0, 0) : buf.subarray(0, Math.min(buf.length, 1 + (op.pick % 16))),
        ]),
        note: 'after the element',
      };
    case 'truncate': {
      const cut = op.pick % buf.length;
      return { bytes: buf.subarray(0, cut), note: `to ${cut} of ${buf.length} bytes` };
    }
    case 'high-s': {
      const sig = choose(ecdsaSignatures(buf, root));
      if (!sig) return { bytes: buf, note: 'no ECDSA signature' };
      const replacement = highS(buf, sig);
      return replacement
        ? { bytes: replaceNode(buf, root, sig, replacement), note: where(sig) }
        : { bytes: buf, note: 'unknown curve' };
    }
    case 'content-append': {
      const node = choose(nodes.filter((n) => !n.constructed && n.children.length === 0));
      if (!node) return { bytes: buf, note: 'no primitive element' };
      const content = Buffer.concat([buf.subarray(node.contentStart, node.end), Buffer.of(op.bit)]);
      return { bytes: replaceNode(buf, root, node, encodeElement(node.tag, content)), note: where(node) };
    }
  }
}

/** Byte ranges of the tree inside, outside or anywhere in what a signature covers. */
function flipRanges(root: DerNode, region: 'outside' | 'inside' | 'any'): [number, number][] {
  if (region === 'any') return [[root.start, root.end]];
  const ranges: [number, number][] = [];
  const walk = (node: DerNode) => {
    if (node.signed) {
      if (region === 'inside') ranges.push([node.start, node.end]);
      return;
    }
    if (node.children.length === 0) {
      if (region === 'outside') ranges.push([node.start, node.end]);
      return;
    }
    if (region === 'outside') ranges.push([node.start, node.children[0]!.start]);
    for (const child of node.children) walk(child);
  };
  walk(root);
  return ranges;
}

function flipBit(buf: Buffer, position: number, bit: number, prefix: string): { bytes: Buffer; note: string } {
  if (buf.length === 0) return { bytes: Buffer.of(1 << bit), note: `${prefix}empty, one byte added` };
  const bytes = Buffer.from(buf);
  const at = position % bytes.length;
  bytes[at]! ^= 1 << bit;
  return { bytes, note: `${prefix}bit ${bit} of byte ${at} of ${bytes.length}` };
}

/** A checkpoint (signed note) edited: its body lines, its blank line, its signature lines. */
export function mutateCheckpoint(text: string, how: (typeof CHECKPOINT_HOWS)[number], pick: number): string {
  const [body = '', signatures = ''] = text.split('\n\n');
  const lines = body.split('\n');
  const sigLines = signatures.split('\n').filter((l) => l !== '');
  const join = (b: string[], s: string[]) => `${b.join('\n')}\n\n${s.join('\n')}\n`;
  switch (how) {
    case 'size+1':
      lines[1] = String(BigInt(lines[1] || '0') + 1n);
      return join(lines, sigLines);
    case 'size-leading-zero':
      lines[1] = `0${lines[1]}`;
      return join(lines, sigLines);
    case 'origin-suffix':
      lines[0] = `${lines[0]} `;
      return join(lines, sigLines);
    case 'origin-case':
      lines[0] = (lines[0] ?? '').toUpperCase();
      return join(lines, sigLines);
    case 'root-hash-flip': {
      const root = lines[2] ?? '';
      const i = pick % Math.max(1, root.length - 2);
      lines[2] = `${root.slice(0, i)}${root[i] === 'A' ? 'B' : 'A'}${root.slice(i + 1)}`;
      return join(lines, sigLines);
    }
    case 'root-hash-url-safe':
      lines[2] = (lines[2] ?? '').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      return join(lines, sigLines);
    case 'add-extension-line':
      return join([...lines, 'Timestamp: 1689177396'], sigLines);
    case 'drop-blank-line':
      return `${lines.join('\n')}\n${sigLines.join('\n')}\n`;
    case 'double-blank-line':
      return `${lines.join('\n')}\n\n\n${sigLines.join('\n')}\n`;
    case 'crlf':
      return join(lines, sigLines).replace(/\n/g, '\r\n');
    case 'no-final-newline':
      return join(lines, sigLines).replace(/\n$/, '');
    case 'extra-final-newline':
      return `${join(lines, sigLines)}\n`;
    case 'dup-signature':
      return join(lines, [...sigLines, ...sigLines.slice(0, 1)]);
    case 'drop-signature':
      return join(lines, sigLines.slice(1));
    case 'foreign-signature':
      return join(lines, [`— evil.example AAAAAA${Buffer.alloc(64, pick & 0xff).toString('base64')}`, ...sigLines]);
    case 'reorder-signatures':
      return join(lines, [...sigLines].reverse());
    case 'ascii-dash':
      return join(
        lines,
        sigLines.map((l) => l.replace(/^\u2014/, '-')),
      );
    case 'trailing-space':
      return join(
        lines.map((l) => `${l} `),
        sigLines,
      );
    case 'many-signatures':
      return join(
        lines,
        Array.from({ length: 2000 }, () => sigLines[0] ?? '— x AAAA'),
      );
    case 'long-line':
      return join([...lines.slice(0, 3), 'x'.repeat(1_000_000)], sigLines);
  }
}

/** An int64 (a decimal string in protobuf JSON) spelt another way, or with another value. */
export function respellInt64(value: string, spelling: (typeof INT64_SPELLINGS)[number]): unknown {
  const n = /^-?\d+$/.test(value) ? BigInt(value) : 0n;
  switch (spelling) {
    case 'number':
      return new RawJSON(n.toString());
    case 'leading-zero':
      return `0${value}`;
    case 'plus':
      return `+${value}`;
    case 'decimal':
      return `${value}.0`;
    case 'exponent':
      return n === 0n ? '0e0' : `${value.slice(0, 1)}.${value.slice(1) || '0'}e${value.length - 1}`;
    case 'space':
      return ` ${value}`;
    case 'negative':
      return `-${value}`;
    case 'int64-overflow':
      return '9223372036854775808';
    case 'uint64-overflow':
      return '18446744073709551616';
    case 'hex':
      return `0x${n.toString(16)}`;
    case 'empty':
      return '';
    case 'huge-digits':
      return '9'.repeat(10_000);
    case 'plus-one':
      return (n + 1n).toString();
    case 'minus-one':
      return (n - 1n).toString();
    case 'zero':
      return '0';
    case 'infinity-number':
      return new RawJSON('1e400');
    case 'negative-zero':
      return '-0';
  }
}

/** The JSON inside a base64 field (a Rekor body, a DSSE payload) edited, and written back as compact JSON. */
function mutateEmbeddedJSON(
  text: string,
  how: 'drop' | 'retype' | 'add-key' | 'dup-key' | 'reorder' | 'pretty',
  pick: number,
): { text: string; note: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { text, note: 'not JSON (an earlier operation changed it): unchanged' };
  }
  const shape = shapeOf(value);
  const field = shape.fields[pick % Math.max(1, shape.fields.length)];
  const object = shape.objects[pick % Math.max(1, shape.objects.length)] ?? [];
  const holder = { root: value };
  switch (how) {
    case 'drop':
      if (field) applyOp(holder, { op: 'drop', path: field }, []);
      return { text: toJSONText(holder.root), note: `drop ${show(field ?? [])}` };
    case 'retype':
      if (field) setAt(holder, ['root', ...field], pick % 2 ? null : 0);
      return { text: toJSONText(holder.root), note: `retype ${show(field ?? [])}` };
    case 'add-key':
      applyOp(holder, { op: 'add-key', path: object, key: 'extra', value: true }, []);
      return { text: toJSONText(holder.root), note: `add-key ${show(object)}.extra` };
    case 'dup-key':
      applyOp(holder, { op: 'dup-key', path: object, pick, before: pick % 2 === 0, other: 'x' }, []);
      return { text: toJSONText(holder.root), note: `dup-key in ${show(object)}` };
    case 'reorder':
      return { text: toJSONText(reorderKeys(value)), note: 'keys reversed' };
    case 'pretty':
      return { text: JSON.stringify(value, null, 2), note: 'indented' };
  }
}

function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reorderKeys(v)]),
  );
}

function applyDocOp(
  bytes: Buffer,
  text: string,
  op: Extract<BundleOp, { op: 'doc' }>,
): { bytes: Buffer; changed: boolean; note: string } {
  const b = (s: string) => Buffer.from(s, 'utf8');
  switch (op.how) {
    case 'empty':
      return { bytes: Buffer.alloc(0), changed: true, note: 'empty file' };
    case 'bom':
      return { bytes: Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), bytes]), changed: true, note: 'UTF-8 BOM' };
    case 'trailing-garbage':
      return {
        bytes: Buffer.concat([bytes, b(['x', '}', ',', '\u0000', '{}'][op.pick % 5]!)]),
        changed: true,
        note: 'trailing garbage',
      };
    case 'truncate': {
      const cut = op.pick % Math.max(1, bytes.length);
      return { bytes: bytes.subarray(0, cut), changed: true, note: `truncated to ${cut} bytes` };
    }
    case 'two-documents':
      return { bytes: b(`${text}\n${text}`), changed: true, note: 'two documents' };
    case 'wrap-array':
      return { bytes: b(`[${text}]`), changed: true, note: 'in an array' };
    case 'wrap-object':
      return { bytes: b(`{"bundle":${text}}`), changed: true, note: 'in an object' };
    case 'null':
      return { bytes: b('null'), changed: true, note: 'null' };
    case 'utf16le':
      return { bytes: Buffer.from(text, 'utf16le'), changed: true, note: 'UTF-16LE' };
    case 'invalid-utf8': {
      const i = text.indexOf('"', op.pick % Math.max(1, text.length));
      const at = i < 0 ? bytes.length : Buffer.byteLength(text.slice(0, i + 1));
      return {
        bytes: Buffer.concat([bytes.subarray(0, at), Buffer.of(0xff, 0xfe), bytes.subarray(at)]),
        changed: true,
        note: `invalid UTF-8 at byte ${at}`,
      };
    }
    case 'nul-byte':
      return { bytes: Buffer.concat([bytes, Buffer.of(0)]), changed: true, note: 'NUL after the document' };
    case 'lone-surrogate': {
      const i = text.indexOf('":"', op.pick % Math.max(1, text.length));
      if (i < 0) return { bytes, changed: false, note: 'no string' };
      return {
        bytes: b(`${text.slice(0, i + 3)}\\ud800${text.slice(i + 3)}`),
        changed: true,
        note: 'lone surrogate escape',
      };
    }
  }
}

function show(path: JsonPath): string {
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('') || '(root)';
}

function short(value: unknown): string {
  const text = value instanceof RawJSON ? value.text : (JSON.stringify(value) ?? 'undefined');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
