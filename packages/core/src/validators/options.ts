// The ajv options the schemas are compiled with, ahead of time (ajv standalone): the CLI and the actions start
// without compiling anything. validators.test.ts regenerates the modules with these options and compares.
import type { Options } from 'ajv';

/** Every problem at once, with the schema that failed (policy errors name each key and what it expected). */
export const POLICY_VALIDATOR_OPTIONS: Options = {
  allErrors: true,
  verbose: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
};

export const REVIEW_PREDICATE_VALIDATOR_OPTIONS: Options = { allErrors: false, strict: true };

/** Every problem at once (a report off its schema is a bug in twokey: the message lists them); each $def once. */
export const REPORT_VALIDATOR_OPTIONS: Options = { allErrors: true, strict: true, inlineRefs: false };
