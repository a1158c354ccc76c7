import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FIELDS, parseBundle } from './bundle';

const shared = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared');
const schemas = join(shared, 'conformance', 'sigstore-protobuf-specs', 'gen', 'jsonschema', 'schemas');
const realBundle = join(shared, 'sigstore-realdata', 'sigstore-js-2.1.0-bundle.json');

interface Schema {
  $ref: string;
  definitions: Record<
    string,
    { properties?: Record<string, { $ref?: string; type?: string; items?: { $ref?: string } }> }
  >;
}

/** Every message of the protobuf-specs JSON schema by where it sits in a bundle, as BUNDLE_FIELDS keys them. */
function fieldsBySchema(schema: Schema): Record<string, Record<string, string>> {
  const fields: Record<string, Record<string, string>> = {};
  const walk = (definition: string, at: string) => {
    const properties = schema.definitions[definition]?.properties ?? {};
    fields[at] = Object.fromEntries(
      Object.entries(properties).map(([name, p]) => [
        name,
        p.items || p.type === 'array' ? 'list' : p.$ref ? 'message' : 'scalar',
      ]),
    );
    for (const [name, property] of Object.entries(properties)) {
      const ref = property.$ref ?? property.items?.$ref;
      if (ref) walk(ref.replace('#/definitions/', ''), `${at ? `${at}.` : ''}${name}${property.items ? '[]' : ''}`);
    }
  };
  walk(schema.$ref.replace('#/definitions/', ''), '');
  return fields;
}

describe('the bundle fields the strict reader knows', () => {
  it('are the fields of the Sigstore protobuf-specs JSON schema, message by message, each of its kind', () => {
    const schema = JSON.parse(readFileSync(join(schemas, 'Bundle.schema.json'), 'utf8')) as Schema;
    expect(BUNDLE_FIELDS).toEqual(fieldsBySchema(schema));
  });

  it.each([
    ['a message written as ""', (b: Record<string, unknown>) => Object.assign(b, { messageSignature: '' })],
    ['a message written as "0"', (b: Record<string, unknown>) => Object.assign(b, { messageSignature: '0' })],
    [
      'a list written as ""',
      (b: Record<string, unknown>) => Object.assign(b.verificationMaterial as object, { tlogEntries: '' }),
    ],
  ])('refuses %s: a wrong type is never read as the default', (_name, attack) => {
    const json = JSON.parse(readFileSync(realBundle, 'utf8'));
    attack(json);
    expect(() => parseBundle(JSON.stringify(json), 'wrong-type.json')).toThrow(/wrong-type\.json: /);
  });

  it('accepts null for an absent message and [] for an empty list (real bundles write both)', () => {
    const json = JSON.parse(readFileSync(realBundle, 'utf8'));
    Object.assign(json, { messageSignature: null });
    Object.assign(json.verificationMaterial, { publicKey: null, timestampVerificationData: { rfc3161Timestamps: [] } });
    expect(parseBundle(JSON.stringify(json), 'defaults.json').bundle.content.$case).toBe('dsseEnvelope');
  });
});

describe('strings in a bundle', () => {
  it('refuses a lone surrogate escape (a string other readers read otherwise), naming the field', () => {
    const json = JSON.parse(readFileSync(realBundle, 'utf8'));
    json.dsseEnvelope.signatures[0].keyid = 'key\ud800';
    expect(() => parseBundle(JSON.stringify(json), 'lone.json')).toThrow(
      /lone\.json: dsseEnvelope\.signatures\[0\]\.keyid: holds a lone UTF-16 surrogate/,
    );
  });

  it('reads a surrogate pair (an emoji in a key hint) as text', () => {
    const json = JSON.parse(readFileSync(realBundle, 'utf8'));
    json.dsseEnvelope.signatures[0].keyid = 'key \ud83d\udd11';
    expect(parseBundle(JSON.stringify(json), 'pair.json').bundle.content).toMatchObject({ $case: 'dsseEnvelope' });
  });
});
