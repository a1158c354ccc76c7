// @sigstore/core re-encodes a parsed ASN.1 object to DER on every comparison and signature check (most of the time
// spent verifying a bundle, before this module). A parsed object is the bytes it was parsed from: the parser accepts
// only strict DER lengths and single-byte tags, so encoding it again gives exactly those bytes. So an object's DER is
// a view of the bytes it was parsed from — checked, header and children, to be exactly what encoding would write —
// and is computed once; an object built or changed by hand (sigstore-js removes the SCT extension from a copy of the
// certificate before checking the SCT) is encoded as before. No copy is made: the one caller that changes the bytes
// it gets (@sigstore/core retags an RFC 3161 timestamp's signed attributes in place before checking their signature)
// gets its own copy, so nothing ever writes into a parsed bundle's bytes.
import { ASN1Obj, RFC3161Timestamp } from '@sigstore/core';

const encodings = new WeakMap<ASN1Obj, Buffer>();
/** Above zero while a caller that writes into the encoding it gets is running: toDER hands out copies. */
let copying = 0;
let installed = false;

/** Memoizes ASN1Obj.toDER without copies, and parses without stack traces for the errors it expects (idempotent). */
export function cacheDerEncodings(): void {
  if (installed) return;
  installed = true;
  const encode = ASN1Obj.prototype.toDER;
  ASN1Obj.prototype.toDER = function toDER(this: ASN1Obj): Buffer {
    let der = encodings.get(this);
    if (der === undefined) {
      der = parsedBytes(this) ?? encode.call(this);
      encodings.set(this, der);
    }
    return copying > 0 ? Buffer.from(der) : der;
  };

  const timestamp = RFC3161Timestamp.prototype as unknown as { verifySignature(key: unknown): void };
  const verifySignature = timestamp.verifySignature;
  timestamp.verifySignature = function verifySignatureOnACopy(this: RFC3161Timestamp, key: unknown): void {
    copying += 1;
    try {
      verifySignature.call(this, key);
    } finally {
      copying -= 1;
    }
  };

  // The parser tries every OCTET STRING as nested DER and throws when it is not (most extension values, every
  // signature): an Error's stack trace was ~5% of a bundle's verification. A parse error is reported by its message.
  const parseBuffer = ASN1Obj.parseBuffer;
  ASN1Obj.parseBuffer = function parseBufferQuietly(buf: Parameters<typeof parseBuffer>[0]): ASN1Obj {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return parseBuffer.call(ASN1Obj, buf);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}

/**
 * The bytes `obj` was parsed from, when they are exactly its encoding: the tag and the minimal length right before its
 * value, in the same memory, and (for a constructed object) its children's encodings filling its value end to end.
 */
function parsedBytes(obj: ASN1Obj): Buffer | undefined {
  const value = obj.value;
  const start = encodedStart(obj);
  if (start === undefined || !childrenFill(obj)) return undefined;
  return Buffer.from(value.buffer, start, value.byteOffset - start + value.length);
}

/** Where the encoding of `obj` starts in the memory of its value, if the bytes before its value are its header. */
function encodedStart(obj: ASN1Obj): number | undefined {
  const value = obj.value;
  const length = value.length;
  let lengthBytes = 0;
  if (length >= 0x80) for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes += 1;
  const start = value.byteOffset - 2 - lengthBytes;
  if (start < 0) return undefined;
  const memory = new Uint8Array(value.buffer, start, 2 + lengthBytes);
  if (memory[0] !== obj.tag.toDER()) return undefined;
  if (lengthBytes === 0) return memory[1] === length ? start : undefined;
  if (memory[1] !== (0x80 | lengthBytes)) return undefined;
  for (let i = 0; i < lengthBytes; i += 1) {
    if (memory[2 + i] !== Math.floor(length / 256 ** (lengthBytes - 1 - i)) % 256) return undefined;
  }
  return start;
}

/** Whether the children's encodings, in order, are exactly the parent's value (recursively, in the same memory). */
function childrenFill(obj: ASN1Obj): boolean {
  if (obj.subs.length === 0) return true;
  const value = obj.value;
  let offset = value.byteOffset;
  for (const sub of obj.subs) {
    if (sub.value.buffer !== value.buffer) return false;
    const start = encodedStart(sub);
    if (start !== offset || !childrenFill(sub)) return false;
    offset = sub.value.byteOffset + sub.value.length;
  }
  return offset === value.byteOffset + value.length;
}
