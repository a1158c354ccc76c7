// Validates a SARIF log against the OASIS SARIF 2.1.0 schema (sarif-schema-2.1.0.json, draft-04, with its uri and
// date-time formats): what sarif.test.ts and the end-to-end tests check every log twokey writes against.
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import sarifSchema from './sarif-schema-2.1.0.json' with { type: 'json' };

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateSarif = ajv.compile(sarifSchema);

/** Why a log is not valid SARIF 2.1.0, one `/path: problem` per line; empty when it is. */
export function sarifSchemaProblems(log: unknown): string[] {
  if (validateSarif(log)) return [];
  return (validateSarif.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`);
}
