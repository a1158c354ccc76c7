// SLSA Provenance v1 (https://slsa.dev/spec/v1.0/provenance), the predicate of the build stage's statements,
// with the validation the in-toto reference library applies for SLSA Build L1.
import { InTotoError, parseResourceDescriptor, type ResourceDescriptor } from './intoto';

export const SLSA_PROVENANCE_V1_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';

export interface SlsaProvenanceV1 {
  buildDefinition: SlsaBuildDefinition;
  runDetails: SlsaRunDetails;
}

export interface SlsaBuildDefinition {
  buildType: string;
  externalParameters: Record<string, unknown>;
  internalParameters?: Record<string, unknown>;
  resolvedDependencies?: ResourceDescriptor[];
}

export interface SlsaRunDetails {
  builder: SlsaBuilder;
  metadata?: SlsaBuildMetadata;
  byproducts?: ResourceDescriptor[];
}

export interface SlsaBuilder {
  id: string;
  version?: Record<string, string>;
  builderDependencies?: ResourceDescriptor[];
}

export interface SlsaBuildMetadata {
  invocationId?: string;
  startedOn?: string;
  finishedOn?: string;
}

/**
 * Parses a SLSA Provenance v1 predicate: `buildDefinition` with a `buildType` and `externalParameters`,
 * `runDetails` with a `builder` that has an `id`, and every listed dependency or byproduct a valid
 * ResourceDescriptor. Field paths in errors start at `predicate`.
 */
export function parseSlsaProvenanceV1(json: unknown): SlsaProvenanceV1 {
  const predicate = objectAt(json, 'predicate');

  const definition = objectAt(predicate.buildDefinition, 'predicate.buildDefinition');
  const buildDefinition: SlsaBuildDefinition = {
    buildType: nonEmptyString(definition.buildType, 'predicate.buildDefinition.buildType'),
    externalParameters: objectAt(definition.externalParameters, 'predicate.buildDefinition.externalParameters'),
  };
  if (definition.internalParameters !== undefined) {
    buildDefinition.internalParameters = objectAt(
      definition.internalParameters,
      'predicate.buildDefinition.internalParameters',
    );
  }
  const resolved = descriptors(definition.resolvedDependencies, 'predicate.buildDefinition.resolvedDependencies');
  if (resolved) buildDefinition.resolvedDependencies = resolved;

  const run = objectAt(predicate.runDetails, 'predicate.runDetails');
  const builderRecord = objectAt(run.builder, 'predicate.runDetails.builder');
  const builder: SlsaBuilder = { id: nonEmptyString(builderRecord.id, 'predicate.runDetails.builder.id') };
  if (builderRecord.version !== undefined) {
    builder.version = stringMap(builderRecord.version, 'predicate.runDetails.builder.version');
  }
  const builderDependencies = descriptors(
    builderRecord.builderDependencies,
    'predicate.runDetails.builder.builderDependencies',
  );
  if (builderDependencies) builder.builderDependencies = builderDependencies;

  const runDetails: SlsaRunDetails = { builder };
  if (run.metadata !== undefined) {
    const metadata = objectAt(run.metadata, 'predicate.runDetails.metadata');
    runDetails.metadata = {};
    for (const key of ['invocationId', 'startedOn', 'finishedOn'] as const) {
      if (metadata[key] !== undefined) {
        runDetails.metadata[key] = nonEmptyString(metadata[key], `predicate.runDetails.metadata.${key}`);
      }
    }
  }
  const byproducts = descriptors(run.byproducts, 'predicate.runDetails.byproducts');
  if (byproducts) runDetails.byproducts = byproducts;

  return { buildDefinition, runDetails };
}

function descriptors(value: unknown, field: string): ResourceDescriptor[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value))
    throw new InTotoError('PREDICATE_INVALID', field, 'expected an array of ResourceDescriptors');
  return value.map((element, i) => parseResourceDescriptor(element, `${field}[${i}]`));
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) throw new InTotoError('PREDICATE_INVALID', field, 'missing (required)');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InTotoError('PREDICATE_INVALID', field, 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}

function nonEmptyString(value: unknown, field: string): string {
  if (value === undefined) throw new InTotoError('PREDICATE_INVALID', field, 'missing (required)');
  if (typeof value !== 'string' || value.length === 0) {
    throw new InTotoError('PREDICATE_INVALID', field, `expected a non-empty string, found ${JSON.stringify(value)}`);
  }
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  const record = objectAt(value, field);
  for (const [key, entry] of Object.entries(record)) {
    if (typeof entry !== 'string') throw new InTotoError('PREDICATE_INVALID', `${field}.${key}`, 'expected a string');
  }
  return record as Record<string, string>;
}
