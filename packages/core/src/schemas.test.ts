// The policy, review predicate and deploy report schemas are compiled ahead of time (validators/), never at run time,
// and without meta-schema validation: this is where they are checked against draft 2020-12.
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { POLICY_SCHEMA } from './policy';
import { REPORT_SCHEMA } from './report';
import { REVIEW_PREDICATE_SCHEMA } from './review-predicate';

describe('the JSON Schemas twokey ships', () => {
  it.each([
    ['policy.schema.json', POLICY_SCHEMA],
    ['review-predicate.schema.json', REVIEW_PREDICATE_SCHEMA],
    ['report.schema.json', REPORT_SCHEMA],
  ])('%s is a valid draft 2020-12 schema', (_name, schema) => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });

  it('refuses a schema the meta-schema refuses (the check is real)', () => {
    const ajv = new Ajv2020({ strict: true });
    expect(ajv.validateSchema({ type: 'no-such-type' })).toBe(false);
  });
});
