import { describe, expect, it } from 'vitest';
import {
  IN_TOTO_LEGACY_STATEMENT_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  InTotoError,
  parseDigestSet,
  parseResourceDescriptor,
  parseStatement,
  subjectHasDigest,
} from './intoto';
import { parseSlsaProvenanceV1 } from './slsa-provenance';

const SHA256 = 'a'.repeat(64);
const OTHER_SHA256 = 'b'.repeat(64);

function statement(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: 'app.tgz', digest: { sha256: SHA256 } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
    ...overrides,
  };
}

function errorOf(parse: () => unknown): InTotoError {
  try {
    parse();
  } catch (error) {
    if (error instanceof InTotoError) return error;
    throw error;
  }
  throw new Error('expected an InTotoError, the input was accepted');
}

describe('parseStatement', () => {
  it('reads a v1 statement and ignores unknown fields', () => {
    const parsed = parseStatement(statement({ extension: { x: 1 } }));
    expect(parsed).toEqual({
      _type: IN_TOTO_STATEMENT_TYPE,
      subject: [{ name: 'app.tgz', digest: { sha256: SHA256 } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    });
  });

  it('reads the legacy v0.1 type and keeps it, so a caller can require v1', () => {
    expect(parseStatement(statement({ _type: IN_TOTO_LEGACY_STATEMENT_TYPE }))._type).toBe(
      IN_TOTO_LEGACY_STATEMENT_TYPE,
    );
  });

  it('names the subject, the algorithm and what it found for a bad digest', () => {
    const subject = [
      { digest: { sha256: SHA256 } },
      { digest: { sha256: OTHER_SHA256 } },
      { digest: { sha256: SHA256.slice(1) } },
    ];
    const error = errorOf(() => parseStatement(statement({ subject })));
    expect(error.code).toBe('DIGEST_ENCODING');
    expect(error.field).toBe('subject[2].digest.sha256');
    expect(error.message).toMatch(/^subject\[2\]\.digest\.sha256: expected lowercase hex/);
  });

  it('refuses uppercase hex for a named algorithm (the spec mandates lowercase)', () => {
    const error = errorOf(() => parseStatement(statement({ subject: [{ digest: { sha256: SHA256.toUpperCase() } }] })));
    expect(error.code).toBe('DIGEST_ENCODING');
  });

  it('refuses a digest of the wrong length, saying what length it expected', () => {
    const error = errorOf(() => parseStatement(statement({ subject: [{ digest: { sha512: SHA256 } }] })));
    expect(error.code).toBe('DIGEST_LENGTH');
    expect(error.message).toBe('subject[0].digest.sha512: a sha512 digest has 128 hex digits, found 64');
  });

  it('refuses a subject without a digest even when it has a name', () => {
    const error = errorOf(() => parseStatement(statement({ subject: [{ name: 'app.tgz' }] })));
    expect(error.code).toBe('SUBJECT_DIGEST_MISSING');
    expect(error.field).toBe('subject[0].digest');
  });

  it.each([
    ['a missing _type', { _type: undefined }, 'STATEMENT_TYPE', '_type'],
    ['a lookalike _type', { _type: `${IN_TOTO_STATEMENT_TYPE}/` }, 'STATEMENT_TYPE', '_type'],
    ['a subject that is not an array', { subject: { digest: { sha256: SHA256 } } }, 'FIELD_TYPE', 'subject'],
    ['a missing subject', { subject: undefined }, 'SUBJECT_MISSING', 'subject'],
    [
      'a predicateType with a space',
      { predicateType: 'https://example.com/ x' },
      'PREDICATE_TYPE_INVALID',
      'predicateType',
    ],
    ['a numeric predicateType', { predicateType: 1 }, 'PREDICATE_TYPE_INVALID', 'predicateType'],
    ['a null predicate', { predicate: null }, 'PREDICATE_MISSING', 'predicate'],
    ['an array predicate', { predicate: [] }, 'NOT_AN_OBJECT', 'predicate'],
    [
      'a digest value that is not a string',
      { subject: [{ digest: { alg1: 1 } }] },
      'FIELD_TYPE',
      'subject[0].digest.alg1',
    ],
  ])('refuses %s', (_name, overrides, code, field) => {
    const error = errorOf(() => parseStatement(statement(overrides)));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
  });

  it('refuses JSON that is not an object', () => {
    expect(errorOf(() => parseStatement('{"_type":1}')).code).toBe('NOT_AN_OBJECT');
    expect(errorOf(() => parseStatement(null)).code).toBe('NOT_AN_OBJECT');
  });
});

describe('parseResourceDescriptor', () => {
  it('accepts a descriptor with only content, the spec minimum', () => {
    expect(parseResourceDescriptor({ content: 'aGVsbG8=' })).toEqual({ content: 'aGVsbG8=' });
  });

  it('refuses content that is not base64', () => {
    expect(errorOf(() => parseResourceDescriptor({ content: 'not base64!' })).field).toBe('resourceDescriptor.content');
  });

  it('accepts both git object hash sizes and refuses others', () => {
    expect(parseResourceDescriptor({ digest: { gitCommit: 'c'.repeat(40) } }).digest).toEqual({
      gitCommit: 'c'.repeat(40),
    });
    expect(parseResourceDescriptor({ digest: { gitCommit: 'c'.repeat(64) } }).digest).toEqual({
      gitCommit: 'c'.repeat(64),
    });
    expect(errorOf(() => parseResourceDescriptor({ digest: { gitCommit: 'c'.repeat(48) } })).code).toBe(
      'DIGEST_LENGTH',
    );
  });

  it('keeps an algorithm named __proto__ as data, not as the prototype', () => {
    const digest = parseDigestSet(JSON.parse(`{"__proto__": "x", "sha256": "${SHA256}"}`));
    expect(Object.getPrototypeOf(digest)).toBe(Object.prototype);
    expect(Object.keys(digest)).toEqual(['__proto__', 'sha256']);
  });
});

describe('subjectHasDigest', () => {
  const parsed = parseStatement(
    statement({
      subject: [
        { name: 'a', digest: { sha256: SHA256 } },
        { name: 'b', digest: { sha512: 'c'.repeat(128) } },
      ],
    }),
  );

  it('finds a subject by algorithm and exact digest', () => {
    expect(subjectHasDigest(parsed, { algorithm: 'sha256', hex: SHA256 })).toBe(true);
    expect(subjectHasDigest(parsed, { algorithm: 'sha256', hex: SHA256.toUpperCase() })).toBe(true);
    expect(subjectHasDigest(parsed, { algorithm: 'sha512', hex: 'c'.repeat(128) })).toBe(true);
  });

  it('does not match another digest, a prefix, or the same hex under another algorithm', () => {
    expect(subjectHasDigest(parsed, { algorithm: 'sha256', hex: OTHER_SHA256 })).toBe(false);
    expect(subjectHasDigest(parsed, { algorithm: 'sha256', hex: SHA256.slice(0, 32) })).toBe(false);
    expect(subjectHasDigest(parsed, { algorithm: 'sha512', hex: SHA256 })).toBe(false);
    expect(subjectHasDigest(parsed, { algorithm: 'constructor', hex: SHA256 })).toBe(false);
  });
});

describe('parseSlsaProvenanceV1', () => {
  const provenance = {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: { workflow: { ref: 'refs/heads/main', repository: 'https://github.com/acme/app' } },
      resolvedDependencies: [
        { uri: 'git+https://github.com/acme/app@refs/heads/main', digest: { gitCommit: 'c'.repeat(40) } },
      ],
    },
    runDetails: { builder: { id: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main' } },
  };

  it('reads GitHub workflow provenance', () => {
    expect(parseSlsaProvenanceV1(provenance).buildDefinition.resolvedDependencies?.[0]?.digest).toEqual({
      gitCommit: 'c'.repeat(40),
    });
  });

  it('names the dependency whose digest is malformed', () => {
    const bad = structuredClone(provenance);
    bad.buildDefinition.resolvedDependencies[0]!.digest.gitCommit = 'xyz';
    expect(errorOf(() => parseSlsaProvenanceV1(bad)).field).toBe(
      'predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit',
    );
  });
});
