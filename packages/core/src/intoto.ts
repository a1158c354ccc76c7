// in-toto attestation framework, Statement layer v1 and its field types (in-toto/attestation spec/v1:
// statement.md, resource_descriptor.md, digest_set.md, field_types.md), with a validating parser.
import { CodedError } from './error';
import type { DigestSet } from './model';

/** The `_type` of an in-toto Statement v1. */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The v0.1 `_type`: the v1 Statement is read-compatible with it, and the reference libraries accept it. */
export const IN_TOTO_LEGACY_STATEMENT_TYPE = 'https://in-toto.io/Statement/v0.1';
/** The DSSE payload type of an in-toto Statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export type StatementType = typeof IN_TOTO_STATEMENT_TYPE | typeof IN_TOTO_LEGACY_STATEMENT_TYPE;

/** A description of a software artifact or resource (spec/v1/resource_descriptor.md). */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: DigestSet;
  /** The resource's bytes, base64. */
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

/** A Statement subject: a ResourceDescriptor that MUST have a digest. */
export interface Subject extends ResourceDescriptor {
  digest: DigestSet;
}

/** An in-toto Statement (spec/v1/statement.md). */
export interface Statement<Predicate extends Record<string, unknown> = Record<string, unknown>> {
  _type: StatementType;
  subject: Subject[];
  predicateType: string;
  predicate: Predicate;
}

export type InTotoErrorCode =
  | 'NOT_AN_OBJECT'
  | 'FIELD_TYPE'
  | 'STATEMENT_TYPE'
  | 'SUBJECT_MISSING'
  | 'SUBJECT_DIGEST_MISSING'
  | 'RESOURCE_DESCRIPTOR_EMPTY'
  | 'DIGEST_ENCODING'
  | 'DIGEST_LENGTH'
  | 'PREDICATE_TYPE_INVALID'
  | 'PREDICATE_MISSING'
  | 'PREDICATE_INVALID';

/** A Statement, ResourceDescriptor or predicate that does not follow its spec; `field` is the path that is wrong. */
export class InTotoError extends CodedError<InTotoErrorCode> {
  /** Evidence that does not say what it must: refused. */
  readonly kind = 'refusal';
  override readonly name = 'InTotoError';

  constructor(
    code: InTotoErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(code, `${field}: ${message}`);
  }
}

/**
 * The digest sizes, in bytes, of the digest-set algorithms the spec names with a fixed size (digest_set.md);
 * an array lists the sizes an algorithm allows (git objects: SHA-1 or SHA-256).
 */
const FIXED_DIGEST_BYTES: Record<string, number | readonly number[]> = {
  sha256: 32,
  sha224: 28,
  sha384: 48,
  sha512: 64,
  sha512_224: 28,
  sha512_256: 32,
  sha3_224: 28,
  sha3_256: 32,
  sha3_384: 48,
  sha3_512: 64,
  sha1: 20,
  md5: 16,
  ripemd160: 20,
  sm3: 32,
  dirHash: 32,
  gitCommit: [20, 32],
  gitTree: [20, 32],
  gitBlob: [20, 32],
  gitTag: [20, 32],
};
/** Named algorithms whose output length varies (extendable-output or keyed-length): lowercase hex only. */
const VARIABLE_DIGEST_ALGORITHMS = new Set(['shake128', 'shake256', 'blake2b', 'blake2s', 'gost']);

/** True for the algorithms digest_set.md defines (their values are lowercase hex); others are the producer's own. */
export function isKnownDigestAlgorithm(algorithm: string): boolean {
  return Object.hasOwn(FIXED_DIGEST_BYTES, algorithm) || VARIABLE_DIGEST_ALGORITHMS.has(algorithm);
}

/**
 * Parses an in-toto Statement (v1, or the read-compatible v0.1) and checks the spec's rules: the `_type`; a
 * non-empty `subject` whose every element is a valid ResourceDescriptor with a digest; valid digest values for
 * the named algorithms; a `predicateType` URI; a `predicate` object. Unknown fields are ignored (spec parsing rules).
 *
 * `predicate` is required here although statement.md makes it optional: the reference Go and Python libraries
 * require it (so do the conformance vectors), and twokey only reads statements whose predicate is the evidence.
 */
export function parseStatement(json: unknown): Statement {
  const record = objectAt(json, 'statement');
  const type = record._type;
  if (type !== IN_TOTO_STATEMENT_TYPE && type !== IN_TOTO_LEGACY_STATEMENT_TYPE) {
    throw new InTotoError(
      'STATEMENT_TYPE',
      '_type',
      `expected ${IN_TOTO_STATEMENT_TYPE} (or ${IN_TOTO_LEGACY_STATEMENT_TYPE}), found ${shown(type)}`,
    );
  }
  const subjects = record.subject;
  if (subjects === undefined) throw new InTotoError('SUBJECT_MISSING', 'subject', 'missing (required)');
  if (!Array.isArray(subjects)) {
    throw new InTotoError(
      'FIELD_TYPE',
      'subject',
      `expected an array of ResourceDescriptors, found ${shown(subjects)}`,
    );
  }
  if (subjects.length === 0) {
    throw new InTotoError('SUBJECT_MISSING', 'subject', 'expected at least one subject, found an empty array');
  }
  const subject = subjects.map((element, i) => {
    const field = `subject[${i}]`;
    const descriptor = parseResourceDescriptor(element, field);
    if (!descriptor.digest || Object.keys(descriptor.digest).length === 0) {
      throw new InTotoError('SUBJECT_DIGEST_MISSING', `${field}.digest`, 'a subject must have a non-empty digest set');
    }
    return descriptor as Subject;
  });
  const predicateType = record.predicateType;
  if (typeof predicateType !== 'string' || !isUri(predicateType)) {
    throw new InTotoError(
      'PREDICATE_TYPE_INVALID',
      'predicateType',
      `expected a non-empty URI, found ${shown(predicateType)}`,
    );
  }
  const predicate = record.predicate;
  if (predicate === undefined || predicate === null) {
    throw new InTotoError('PREDICATE_MISSING', 'predicate', 'missing (required)');
  }
  return {
    _type: type,
    subject,
    predicateType,
    predicate: objectAt(predicate, 'predicate'),
  };
}

/**
 * Parses a ResourceDescriptor. It must specify at least one of `uri`, `digest`, `content` (the spec's minimum)
 * or `name` (which the reference libraries also accept as identifying a descriptor); empty strings and an empty
 * digest set count as unset.
 */
export function parseResourceDescriptor(json: unknown, field = 'resourceDescriptor'): ResourceDescriptor {
  const record = objectAt(json, field);
  const descriptor: ResourceDescriptor = {};
  for (const key of ['name', 'uri', 'content', 'downloadLocation', 'mediaType'] as const) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      throw new InTotoError('FIELD_TYPE', `${field}.${key}`, `expected a string, found ${shown(value)}`);
    }
    descriptor[key] = value;
  }
  for (const key of ['uri', 'downloadLocation'] as const) {
    const value = descriptor[key];
    if (value && !isUri(value)) {
      throw new InTotoError('FIELD_TYPE', `${field}.${key}`, `expected a URI, found ${shown(value)}`);
    }
  }
  if (descriptor.content && !isBase64(descriptor.content)) {
    throw new InTotoError('FIELD_TYPE', `${field}.content`, 'expected base64 bytes');
  }
  if (record.digest !== undefined) descriptor.digest = parseDigestSet(record.digest, `${field}.digest`);
  if (record.annotations !== undefined) descriptor.annotations = objectAt(record.annotations, `${field}.annotations`);

  const hasDigest = descriptor.digest !== undefined && Object.keys(descriptor.digest).length > 0;
  if (!descriptor.uri && !hasDigest && !descriptor.content && !descriptor.name) {
    throw new InTotoError(
      'RESOURCE_DESCRIPTOR_EMPTY',
      field,
      'a ResourceDescriptor must specify at least one of uri, digest, content (or name)',
    );
  }
  return descriptor;
}

/**
 * Parses a DigestSet: algorithm → string. The algorithms digest_set.md names hold lowercase hex of their size;
 * any other algorithm is the producer's own and its value is not interpreted (consumers ignore it).
 */
export function parseDigestSet(json: unknown, field = 'digest'): DigestSet {
  const entries = Object.entries(objectAt(json, field)).map(([algorithm, value]) => {
    const at = `${field}.${algorithm}`;
    if (typeof value !== 'string') throw new InTotoError('FIELD_TYPE', at, `expected a string, found ${shown(value)}`);
    if (isKnownDigestAlgorithm(algorithm)) checkHexDigest(algorithm, value, at);
    return [algorithm, value] as const;
  });
  // fromEntries defines own properties, so an algorithm named `__proto__` cannot reach the prototype.
  return Object.fromEntries(entries);
}

function checkHexDigest(algorithm: string, value: string, field: string): void {
  if (value.length === 0 || value.length % 2 !== 0 || !/^[0-9a-f]*$/.test(value)) {
    throw new InTotoError('DIGEST_ENCODING', field, `expected lowercase hex, found ${shown(value)}`);
  }
  const sizes = FIXED_DIGEST_BYTES[algorithm];
  if (sizes === undefined) return;
  const allowed = typeof sizes === 'number' ? [sizes] : sizes;
  if (!allowed.includes(value.length / 2)) {
    const expected = allowed.map((bytes) => bytes * 2).join(' or ');
    throw new InTotoError(
      'DIGEST_LENGTH',
      field,
      `a ${algorithm} digest has ${expected} hex digits, found ${value.length}`,
    );
  }
}

/**
 * True when one of the statement's subjects has exactly this digest (spec: subjects are matched by digest only).
 * `hex` is compared in lowercase, the encoding the spec mandates for the named algorithms.
 */
export function subjectHasDigest(statement: Statement, digest: { algorithm: string; hex: string }): boolean {
  const hex = digest.hex.toLowerCase();
  return statement.subject.some(
    (subject) => Object.hasOwn(subject.digest, digest.algorithm) && subject.digest[digest.algorithm] === hex,
  );
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InTotoError('NOT_AN_OBJECT', field, `expected a JSON object, found ${shown(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A TypeURI or ResourceURI (field_types.md): a non-empty string without whitespace or control characters. */
function isUri(value: string): boolean {
  return value.length > 0 && !/[\s\p{Cc}]/u.test(value);
}

/** Base64 as the protobuf JSON mapping reads `bytes`: standard or URL-safe alphabet, padding optional. */
function isBase64(value: string): boolean {
  const unpadded = value.replace(/={1,2}$/, '');
  return (
    /^[A-Za-z0-9+/_-]*$/.test(unpadded) && unpadded.length % 4 !== 1 && (unpadded === value || value.length % 4 === 0)
  );
}

function shown(value: unknown): string {
  if (value === undefined) return '(missing)';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
