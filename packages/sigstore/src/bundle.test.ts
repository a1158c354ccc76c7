import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseJSONTree, type ValueNode } from '@humanwhocodes/momoa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FIELDS, isWellFormedBase64, jsonNestingBeyond, parseBundle, scanJSON } from './bundle';

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

/** The base64 check as first written: decode and encode again, compare (the fast one must answer alike). */
function wellFormedByRoundTrip(text: string): boolean {
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  const unpadded = standard.replace(/={1,2}$/, '');
  return (
    /^[A-Za-z0-9+/]*$/.test(unpadded) &&
    unpadded.length % 4 !== 1 &&
    (standard.length === unpadded.length || standard.length % 4 === 0) &&
    Buffer.from(unpadded, 'base64').toString('base64').replace(/=+$/, '') === unpadded
  );
}

/** The repeated-key rule as first written: momoa's tree of the text, walked in order. */
function repeatedKeyByTree(text: string): string | undefined {
  const walk = (node: ValueNode, path: string): string | undefined => {
    if (node.type === 'Array') {
      for (const [i, element] of node.elements.entries()) {
        const found = walk(element.value, `${path}[${i}]`);
        if (found !== undefined) return found;
      }
    } else if (node.type === 'Object') {
      const keys = new Set<string>();
      for (const member of node.members) {
        const key = member.name.type === 'String' ? member.name.value : member.name.name;
        const at = path ? `${path}.${key}` : key;
        if (keys.has(key)) return at;
        keys.add(key);
        const found = walk(member.value, at);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return walk(parseJSONTree(text, { mode: 'json' }).body, '');
}

describe('base64 fields', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=.% '.split('');

  it('are judged as decoding and encoding again judges them, for any text', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }), (chars) => {
        const text = chars.join('');
        expect(isWellFormedBase64(text), JSON.stringify(text)).toBe(wellFormedByRoundTrip(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('are judged alike for the encodings of random bytes and their one-character changes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.constantFrom(...alphabet), (bytes, at, char) => {
        for (const encoded of [Buffer.from(bytes).toString('base64'), Buffer.from(bytes).toString('base64url')]) {
          expect(isWellFormedBase64(encoded)).toBe(true);
          const i = encoded.length === 0 ? 0 : at % encoded.length;
          const changed = encoded.slice(0, i) + char + encoded.slice(i + 1);
          expect(isWellFormedBase64(changed), JSON.stringify(changed)).toBe(wellFormedByRoundTrip(changed));
        }
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('scanJSON', () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('1', 'null', '"x"', '"a\\"b"', '"\\\\"', '"\\u0061"', '[]', '{}'),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value') as fc.Arbitrary<string>, { maxLength: 4 }).map((items) => `[${items.join(', ')}]`),
    object: fc
      .array(
        fc.tuple(
          fc.constantFrom('"a"', '"b"', '"\\u0061"', '"a\\\\"', '"\\"a"', '"c"'),
          tie('value') as fc.Arbitrary<string>,
        ),
        { maxLength: 4 },
      )
      .map((members) => `{${members.map(([k, v]) => `${k}: ${v}`).join(',')}}`),
  }));

  it('finds the repeated key momoa’s tree finds, at the same path, in any JSON', () => {
    fc.assert(
      fc.property(json.value as fc.Arbitrary<string>, (text) => {
        JSON.parse(text);
        expect(scanJSON(text, Number.POSITIVE_INFINITY).repeatedKey, text).toBe(repeatedKeyByTree(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('finds the nesting jsonNestingBeyond finds, in any text (JSON or not)', () => {
    const chars = ['{', '}', '[', ']', '"', '\\', ',', ':', 'a', ' '];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...chars), { maxLength: 40 }),
        fc.integer({ min: 0, max: 6 }),
        (c, limit) => {
          const text = c.join('');
          expect(scanJSON(text, limit).deepAt, text).toBe(jsonNestingBeyond(text, limit));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('names the repeated key of a real bundle written twice', () => {
    const text = readFileSync(realBundle, 'utf8');
    const twice = text.replace('"keyId":', '"keyId": "AAAA", "keyId":');
    expect(() => parseBundle(twice, 'twice.json')).toThrow(
      /twice\.json: verificationMaterial\.tlogEntries\[0\]\.logId\.keyId: written twice/,
    );
  });
});
