// The in-toto attestation vectors (in-toto/attestation Go and Python unit tests) and the JSON examples of the
// spec, run through twokey's parsers: each is accepted or rejected exactly as stated, with the matching code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InTotoError,
  type InTotoErrorCode,
  parseResourceDescriptor,
  parseSlsaProvenanceV1,
  parseStatement,
  SLSA_PROVENANCE_V1_PREDICATE_TYPE,
} from '@twokey/core';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceRoot } from './paths';

interface Vector {
  id: string;
  layer: string;
  input: unknown;
  expected: 'valid' | 'invalid';
  expected_error: string | null;
  description: string;
}

interface Example {
  file: string;
  kind: 'Statement' | 'ResourceDescriptor';
  strict_validate_result: string;
}

const suiteDir = join(conformanceRoot, 'in-toto-attestation');
const { vectors } = JSON.parse(readFileSync(join(suiteDir, 'vectors.json'), 'utf8')) as { vectors: Vector[] };
const { examples } = JSON.parse(readFileSync(join(suiteDir, 'examples_index.json'), 'utf8')) as {
  examples: Example[];
};

/** The upstream error each rejection names, and the code twokey gives the same defect. */
const UPSTREAM_ERRORS: Record<string, InTotoErrorCode> = {
  ErrInvalidStatementType: 'STATEMENT_TYPE',
  ErrSubjectRequired: 'SUBJECT_MISSING',
  ErrRDRequiredField: 'RESOURCE_DESCRIPTOR_EMPTY',
  ErrDigestRequired: 'SUBJECT_DIGEST_MISSING',
  ErrPredicateTypeRequired: 'PREDICATE_TYPE_INVALID',
  ErrPredicateRequired: 'PREDICATE_MISSING',
  ErrInvalidDigestEncoding: 'DIGEST_ENCODING',
  ErrIncorrectDigestLength: 'DIGEST_LENGTH',
  ErrBuildDefinitionRequired: 'PREDICATE_INVALID',
  ErrBuildTypeRequired: 'PREDICATE_INVALID',
  ErrExternalParamsRequired: 'PREDICATE_INVALID',
  ErrRunDetailsRequired: 'PREDICATE_INVALID',
  ErrBuilderRequired: 'PREDICATE_INVALID',
  ErrBuilderIdRequired: 'PREDICATE_INVALID',
};

const PARSERS: Record<string, (input: unknown) => unknown> = {
  Statement: parseStatement,
  ResourceDescriptor: (input) => parseResourceDescriptor(input),
  [`Predicate:${SLSA_PROVENANCE_V1_PREDICATE_TYPE}`]: parseSlsaProvenanceV1,
};

/** Runs a parser: `valid`, or the InTotoError it threw (anything else is a crash, and fails the test). */
function outcome(layer: string, input: unknown): { verdict: 'valid' } | { verdict: 'invalid'; error: InTotoError } {
  const parse = PARSERS[layer];
  if (!parse) throw new Error(`no parser for layer ${layer}`);
  try {
    parse(input);
    return { verdict: 'valid' };
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    return { verdict: 'invalid', error };
  }
}

let passed = 0;
let failed = 0;

describe('in-toto attestation vectors', () => {
  it('has the 36 vectors of the suite and an index entry for every example file', () => {
    expect(vectors).toHaveLength(36);
    const files = readdirSync(join(suiteDir, 'examples')).map((name) => `examples/${name}`);
    expect(examples.map((e) => e.file).sort()).toEqual(files.sort());
  });

  it.each(vectors.map((v) => [`${v.layer} ${v.id}`, v] as const))('%s', (_name, vector) => {
    const result = outcome(vector.layer, vector.input);
    if (result.verdict === vector.expected) passed++;
    else failed++;
    expect(result.verdict, `${vector.description}${'error' in result ? `: ${result.error.message}` : ''}`).toBe(
      vector.expected,
    );
    if (result.verdict === 'invalid') {
      // Python's tests raise a bare ValueError; Go's name the defect, and the code must name the same one.
      const upstream = vector.expected_error?.split(':')[0] ?? '';
      if (upstream !== 'ValueError') expect(result.error.code).toBe(UPSTREAM_ERRORS[upstream]);
      expect(result.error.message.startsWith(`${result.error.field}: `)).toBe(true);
    }
  });

  it.each(examples.map((e) => [e.file, e] as const))('spec example %s', (_name, example) => {
    const input = JSON.parse(readFileSync(join(suiteDir, example.file), 'utf8'));
    const result = outcome(example.kind, input);
    // `invalid: ErrInvalidDigestEncoding (…)`: the examples with placeholder digests such as "4faeb1b2...".
    const [expected, upstream] = example.strict_validate_result.split(/:\s*|\s+/);
    if (result.verdict === expected) passed++;
    else failed++;
    expect(result.verdict).toBe(expected);
    if (result.verdict === 'invalid') expect(result.error.code).toBe(UPSTREAM_ERRORS[upstream!]);
  });
});

afterAll(() => {
  process.stdout.write(`in-toto-attestation: ${passed} passed, ${failed} failed\n`);
});
