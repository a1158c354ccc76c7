// Validates a `twokey report --json` report against sod-report.schema.json (draft 2020-12): every report a test
// makes goes through it, so a field added without the schema fails a test.
import Ajv2020 from 'ajv/dist/2020.js';
import schema from '../sod-report.schema.json' with { type: 'json' };

const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

/** What is wrong with a report against the schema (empty: it follows it). */
export function sodSchemaProblems(report: unknown): string[] {
  if (validate(report)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
}
