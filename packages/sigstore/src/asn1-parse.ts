// @sigstore/core's DER reader, rewritten to read each byte once: the same objects (tags, values as views of one copy
// of the input, children), the same rules and the same messages — its own reader was ~7% of a bundle's verification:
// a stream object, a one-byte Buffer for every tag and length byte, and an exception (built, thrown and caught) for
// every OCTET STRING whose content is not nested DER (most extension values, every signature). Failures are values
// here until the outermost call, which throws what @sigstore/core would have thrown, by its message.
// asn1-parse.test.ts compares both readers on real certificates and timestamps and on every one-byte change of them.
import { ASN1Obj } from '@sigstore/core';
import { ASN1ParseError } from '@sigstore/core/dist/asn1/error.js';
import { ASN1Tag } from '@sigstore/core/dist/asn1/tag.js';

/** @sigstore/core's reader, before anything replaced it: what this one must answer alike. */
export const sigstoreParseBuffer: (buf: Buffer<ArrayBuffer>) => ASN1Obj = ASN1Obj.parseBuffer.bind(ASN1Obj);

/** @sigstore/core's bound on nesting (its MAX_DEPTH). */
const MAX_DEPTH = 100;

/**
 * An object as read: where its encoding starts in the reader's copy, so that its DER is a view of the bytes it was read
 * from (they are its encoding: the reader accepts only minimal lengths and single-byte tags, and children that fill
 * their parent) — while it still has the children it was read with.
 */
export class ParsedASN1Obj extends ASN1Obj {
  /** Its OID, or its time (milliseconds since the epoch), once read (der-cache.ts). */
  oid?: string;
  time?: number;
  private der?: Buffer;
  private readonly children: number;

  constructor(
    tag: ASN1Tag,
    value: Buffer,
    subs: ASN1Obj[],
    private readonly start: number,
  ) {
    super(tag, value, subs);
    this.children = subs.length;
  }

  /** The bytes it was read from; undefined once its children changed (it must then be encoded again). */
  readBytes(): Buffer | undefined {
    if (this.subs.length !== this.children) return undefined;
    this.der ??= Buffer.from(this.value.buffer, this.start, this.value.byteOffset - this.start + this.value.length);
    return this.der;
  }
}

/** Why bytes are not DER, as @sigstore/core's reader says it. */
type Refusal = { refused: string };

/** A tag is read-only once made: one per tag byte (an invalid tag byte is refused before one is made). */
const tags: ASN1Tag[] = [];

function tagOf(byte: number): ASN1Tag {
  let tag = tags[byte];
  if (tag === undefined) {
    tag = new ASN1Tag(byte);
    tags[byte] = tag;
  }
  return tag;
}

/** Reads one DER object that fills `buf`, as ASN1Obj.parseBuffer does. Throws ASN1ParseError with its message. */
export function parseDER(buf: Buffer): ASN1Obj {
  // The objects' values are views of a copy: a caller that changes its buffer later changes nothing read from it.
  const bytes = Buffer.from(buf);
  const at = { position: 0 };
  const obj = readObject(bytes, at, 0);
  if ('refused' in obj) throw new ASN1ParseError(obj.refused);
  if (at.position !== bytes.length) throw new ASN1ParseError('invalid trailing data');
  return obj;
}

function readObject(bytes: Buffer, at: { position: number }, depth: number): ASN1Obj | Refusal {
  if (depth > MAX_DEPTH) return { refused: 'maximum nesting depth exceeded' };
  if (at.position + 1 > bytes.length) return { refused: 'request past end of buffer' };
  const objectStart = at.position;
  const byte = bytes[at.position++]!;
  // ASN1Tag's own checks, in its order.
  if ((byte & 0x1f) === 0x1f) return { refused: 'long form tags not supported' };
  if (byte >> 6 === 0 && (byte & 0x1f) === 0) return { refused: 'unsupported tag 0x00' };
  const tag = tagOf(byte);
  const length = readLength(bytes, at);
  if (typeof length !== 'number') return length;
  const start = at.position;
  if (start + length > bytes.length) return { refused: 'request past end of buffer' };
  const value = bytes.subarray(start, start + length);
  let subs: ASN1Obj[] = [];
  if (tag.constructed) {
    const children = readChildren(bytes, at, length, depth);
    if (!Array.isArray(children)) return children;
    subs = children;
  } else if (tag.isOctetString()) {
    // An OCTET STRING's content is read as nested DER when it is; when it is not, the OCTET STRING is a primitive.
    const children = readChildren(bytes, at, length, depth);
    if (Array.isArray(children)) subs = children;
  }
  if (subs.length === 0) at.position = start + length;
  return new ParsedASN1Obj(tag, value, subs, bytes.byteOffset + objectStart);
}

function readChildren(bytes: Buffer, at: { position: number }, length: number, depth: number): ASN1Obj[] | Refusal {
  const end = at.position + length;
  if (end > bytes.length) return { refused: 'invalid length' };
  const subs: ASN1Obj[] = [];
  while (at.position < end) {
    const sub = readObject(bytes, at, depth + 1);
    if ('refused' in sub) return sub;
    subs.push(sub);
  }
  if (at.position !== end) return { refused: 'invalid length' };
  return subs;
}

/** decodeLength: the short form, or up to 6 bytes of a minimal long form (no indefinite length). */
function readLength(bytes: Buffer, at: { position: number }): number | Refusal {
  if (at.position + 1 > bytes.length) return { refused: 'request past end of buffer' };
  const first = bytes[at.position++]!;
  if ((first & 0x80) === 0) return first;
  const count = first & 0x7f;
  if (count > 6) return { refused: 'length exceeds 6 byte limit' };
  let length = 0;
  for (let i = 0; i < count; i++) {
    if (at.position + 1 > bytes.length) return { refused: 'request past end of buffer' };
    const byte = bytes[at.position++]!;
    if (i === 0 && byte === 0x00) return { refused: 'non-minimal length encoding' };
    length = length * 256 + byte;
  }
  if (length === 0) return { refused: 'indefinite length encoding not supported' };
  if (length < 128) return { refused: 'non-minimal length encoding' };
  return length;
}
