import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ASN1Obj } from '@sigstore/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDER, sigstoreParseBuffer } from './asn1-parse';

const shared = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared');

/** Every certificate and RFC 3161 timestamp of the real bundles and trusted roots in ../shared. */
function realDER(): { name: string; der: Buffer<ArrayBuffer> }[] {
  const found: { name: string; der: Buffer<ArrayBuffer> }[] = [];
  const walk = (value: unknown, name: string) => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${name}[${i}]`);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if ((key === 'rawBytes' || key === 'signedTimestamp') && typeof child === 'string') {
          found.push({ name: `${name}.${key}`, der: Buffer.from(child, 'base64') });
        } else walk(child, `${name}.${key}`);
      }
    }
  };
  for (const file of [
    'sigstore-realdata/sigstore-js-2.1.0-bundle.json',
    'sigstore-realdata/trusted_root.public-good.json',
    'sigstore-realdata/hello-world.rekor-v2-hashedrekord.sigstore.json',
    'github-instance/release-attestation-gh-2.96.0.sigstore.json',
    'github-instance/trusted_root.json',
  ]) {
    walk(JSON.parse(readFileSync(join(shared, file), 'utf8')), file);
  }
  // Public keys are DER too (SubjectPublicKeyInfo), and so are a certificate's parts: all must read alike.
  return found.filter(({ der }) => der[0] === 0x30);
}

/** What a reader made of some bytes: the tree (tag, value, children) or the message it refused them with. */
function outcome(read: (buf: Buffer<ArrayBuffer>) => ASN1Obj, bytes: Buffer<ArrayBuffer>): unknown {
  const shape = (obj: ASN1Obj): unknown => ({
    tag: obj.tag.toDER(),
    constructed: obj.tag.constructed,
    value: obj.value.toString('hex'),
    subs: obj.subs.map(shape),
  });
  try {
    return shape(read(bytes));
  } catch (error) {
    return { refused: error instanceof Error ? error.message : String(error) };
  }
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function sameAsSigstore(bytes: Buffer<ArrayBuffer>, name: string): void {
  expect(outcome(parseDER, bytes), name).toEqual(outcome(sigstoreParseBuffer, bytes));
}

describe('parseDER', () => {
  const real = realDER();

  it('reads every real certificate and timestamp as @sigstore/core reads it', () => {
    expect(real.length).toBeGreaterThan(20);
    for (const { name, der } of real) sameAsSigstore(der, name);
  });

  it('reads one-byte changes of them alike, and truncations, whether @sigstore/core reads or refuses it', () => {
    const { der } = real.find(({ name }) => name.includes('sigstore-js-2.1.0'))!;
    const timestamp = real.find(({ name }) => name.endsWith('signedTimestamp'))!.der;
    for (const bytes of [der, timestamp]) {
      for (let i = 0; i < bytes.length; i++) {
        // A bit of content, a length's long-form bit, or every bit: in turn.
        const change = [0x01, 0x80, 0xff][i % 3]!;
        const changed: Buffer<ArrayBuffer> = Buffer.from(bytes);
        changed[i]! ^= change;
        sameAsSigstore(changed, `byte ${i} ^ ${change}`);
        if (i % 8 === 0) sameAsSigstore(bytes.subarray(0, i) as Buffer<ArrayBuffer>, `first ${i} bytes`);
      }
    }
  });

  it('reads any bytes as @sigstore/core does (nesting, lengths, tags, OCTET STRINGs holding DER or not)', () => {
    const element = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc
          .tuple(fc.constantFrom(0x02, 0x04, 0x05, 0x06, 0x0c, 0x1f, 0x00, 0x80), fc.uint8Array({ maxLength: 6 }))
          .map(([tag, value]) => Buffer.concat([Buffer.from([tag, value.length]), value])),
        fc
          .tuple(
            fc.constantFrom(0x30, 0x31, 0xa0, 0x04, 0x24),
            fc.array(tie('node') as fc.Arbitrary<Buffer>, { maxLength: 3 }),
          )
          .map(([tag, children]) => {
            const value = Buffer.concat(children);
            return Buffer.concat([Buffer.from([tag, value.length]), value]);
          }),
      ),
    }));
    fc.assert(
      fc.property(element.node as fc.Arbitrary<Buffer>, fc.nat(), fc.integer({ min: 0, max: 255 }), (der, at, byte) => {
        sameAsSigstore(Buffer.from(der), 'as built');
        const changed: Buffer<ArrayBuffer> = Buffer.from(der);
        if (changed.length > 0) changed[at % changed.length] = byte;
        sameAsSigstore(changed, 'one byte changed');
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses what @sigstore/core refuses, with its message: long lengths, non-minimal ones, deep nesting, trailing bytes', () => {
    const nested = (depth: number) => {
      let der = Buffer.from([0x05, 0x00]);
      for (let i = 0; i < depth; i++) der = Buffer.concat([Buffer.from([0x30]), derLength(der.length), der]);
      return der;
    };
    expect(outcome(sigstoreParseBuffer, nested(101) as Buffer<ArrayBuffer>)).toEqual({
      refused: 'maximum nesting depth exceeded',
    });
    for (const bytes of [
      Buffer.from([0x30, 0x87, 1, 2, 3, 4, 5, 6, 7]),
      Buffer.from([0x04, 0x81, 0x05, 1, 2, 3, 4, 5]),
      Buffer.from([0x04, 0x82, 0x00, 0x80]),
      Buffer.from([0x04, 0x80]),
      Buffer.from([0x05, 0x00, 0x00]),
      Buffer.from([0x1f, 0x00]),
      Buffer.from([0x00, 0x00]),
      Buffer.from([]),
      nested(101),
      // An OCTET STRING holding DER nested too deep is read as a primitive, not refused.
      Buffer.concat([Buffer.from([0x04]), derLength(nested(101).length), nested(101)]),
    ]) {
      sameAsSigstore(bytes as Buffer<ArrayBuffer>, bytes.toString('hex').slice(0, 40));
    }
  });
});
