// The validators in this directory are generated from the JSON Schemas by ajv standalone, so that nothing is compiled
// when the CLI or an action starts. This test regenerates them and fails when one is stale;
// `TWOKEY_WRITE_VALIDATORS=1 vitest run packages/core/src/validators` rewrites them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { describe, expect, it } from 'vitest';
import breakGlassSchema from '../break-glass-predicate.schema.json' with { type: 'json' };
import deployApprovalSchema from '../deploy-approval-predicate.schema.json' with { type: 'json' };
import policySchema from '../policy.schema.json' with { type: 'json' };
import reportSchema from '../report.schema.json' with { type: 'json' };
import reviewPredicateSchema from '../review-predicate.schema.json' with { type: 'json' };
import { POLICY_VALIDATOR_OPTIONS, REPORT_VALIDATOR_OPTIONS, REVIEW_PREDICATE_VALIDATOR_OPTIONS } from './options';

const UCS2LENGTH = 'require("ajv/dist/runtime/ucs2length").default';

const validators = [
  { file: 'policy.validate.js', schema: 'policy.schema.json', json: policySchema, options: POLICY_VALIDATOR_OPTIONS },
  {
    file: 'review-predicate.validate.js',
    schema: 'review-predicate.schema.json',
    json: reviewPredicateSchema,
    options: REVIEW_PREDICATE_VALIDATOR_OPTIONS,
  },
  { file: 'report.validate.js', schema: 'report.schema.json', json: reportSchema, options: REPORT_VALIDATOR_OPTIONS },
  {
    file: 'deploy-approval-predicate.validate.js',
    schema: 'deploy-approval-predicate.schema.json',
    json: deployApprovalSchema,
    options: REVIEW_PREDICATE_VALIDATOR_OPTIONS,
  },
  {
    file: 'break-glass-predicate.validate.js',
    schema: 'break-glass-predicate.schema.json',
    json: breakGlassSchema,
    options: REVIEW_PREDICATE_VALIDATOR_OPTIONS,
  },
];

/** ajv's standalone ES module, with its one CommonJS helper (string length in code points) written out. */
function generate(schemaFile: string, schema: object, options: object): string {
  const ajv = new Ajv2020({ ...options, code: { source: true, esm: true } });
  const code = standaloneCode(ajv, ajv.compile(schema));
  const unknownRequire = code.replaceAll(UCS2LENGTH, '').match(/require\([^)]*\)/);
  if (unknownRequire) throw new Error(`unexpected runtime dependency in the generated validator: ${unknownRequire[0]}`);
  return [
    `// Generated from ../${schemaFile} by ajv standalone (validators.test.ts). Do not edit.`,
    '// biome-ignore-all lint: generated code',
    '// biome-ignore-all format: generated code',
    code.replaceAll(UCS2LENGTH, 'ucs2length'),
    '// The length JSON Schema means: code points, a surrogate pair counting once.',
    'function ucs2length(text) {',
    '  return Array.from(text).length;',
    '}',
    '',
  ].join('\n');
}

describe('the precompiled schema validators', () => {
  it.each(validators)('$file is generated from $schema with the current options', ({ file, schema, json, options }) => {
    const path = join(import.meta.dirname, file);
    const expected = generate(schema, json, options);
    const current = readFileSync(path, 'utf8');
    // Rewritten on request, but this run still fails when the file was stale: the next run passes.
    if (process.env.TWOKEY_WRITE_VALIDATORS === '1' && current !== expected) writeFileSync(path, expected);
    expect(current).toBe(expected);
  });
});
