// @sigstore/core re-reads parsed ASN.1 on every use: it encodes an object to DER again on every comparison and
// signature check, parses an OID again on every extension lookup, parses a certificate again to copy it, and the same
// bundle bytes are parsed twice (the canonical-encoding rules, then sigstore-js). Before this module that was most of
// the time spent verifying a bundle. Each is now done once, with the same result:
// - DER: a parsed object is the bytes it was parsed from (the parser accepts only strict DER lengths and single-byte
//   tags, so encoding it again gives exactly those bytes). Its DER is a view of those bytes — checked, header and
//   children, to be exactly what encoding would write — computed once; an object built or changed by hand
//   (sigstore-js removes the SCT extension from a copy of the certificate before checking the SCT) is encoded as
//   before. No copy is made: the one caller that changes the bytes it gets (@sigstore/core retags an RFC 3161
//   timestamp's signed attributes in place before checking their signature) gets its own copy, so nothing ever
//   writes into a parsed bundle's bytes.
// - OIDs and times: an object's OID string, or its time, is read once.
// - Parsing: by asn1-parse.ts, which reads each byte once; the same bytes parsed twice in a row (the canonical
//   rules, then sigstore-js, read each certificate and timestamp of a bundle) are parsed once; a certificate's copy
//   is a copy of its parsed objects, not a parse of its bytes.
import { ASN1Obj, RFC3161Timestamp, X509Certificate } from '@sigstore/core';
import { ParsedASN1Obj, parseDER } from './asn1-parse';

const encodings = new WeakMap<ASN1Obj, Buffer>();
const oids = new WeakMap<ASN1Obj, string>();
const times = new WeakMap<ASN1Obj, number>();
/** The objects of certificates' copies (copyOf). */
const copies = new WeakSet<ASN1Obj>();
/** The objects parsed last, by their bytes: sigstore-js parses its own copy of what the canonical rules just read. */
const recentlyParsed: { der: Buffer; obj: ASN1Obj }[] = [];
const RECENTLY_PARSED = 8;
/** Above zero while a caller that writes into the encoding it gets is running: toDER hands out copies. */
let copying = 0;
let installed = false;

/**
 * Memoizes ASN1Obj.toDER (without copies), toOID, toDate and parseBuffer; certificates copied without parsing
 * (idempotent).
 */
export function cacheDerEncodings(): void {
  if (installed) return;
  installed = true;
  ASN1Obj.prototype.toDER = function toDER(this: ASN1Obj): Buffer {
    // Read by asn1-parse.ts: the bytes it was read from, no check needed.
    let der = this instanceof ParsedASN1Obj ? this.readBytes() : undefined;
    if (der !== undefined) return copying > 0 ? Buffer.from(der) : der;
    der = encodings.get(this);
    if (der === undefined) {
      // A copy's objects are copied to be changed: encoded as they are, never looked for in the bytes around them.
      der = (copies.has(this) ? undefined : parsedBytes(this)) ?? encoded(this);
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

  const toOID = ASN1Obj.prototype.toOID;
  ASN1Obj.prototype.toOID = function toOIDOnce(this: ASN1Obj): string {
    if (this instanceof ParsedASN1Obj) {
      this.oid ??= toOID.call(this);
      return this.oid;
    }
    let oid = oids.get(this);
    if (oid === undefined) {
      oid = toOID.call(this);
      oids.set(this, oid);
    }
    return oid;
  };

  // A time is read once; each caller gets its own Date (a Date can be changed).
  const toDate = ASN1Obj.prototype.toDate;
  ASN1Obj.prototype.toDate = function toDateOnce(this: ASN1Obj): Date {
    if (this instanceof ParsedASN1Obj) {
      this.time ??= toDate.call(this).getTime();
      return new Date(this.time);
    }
    let time = times.get(this);
    if (time === undefined) {
      time = toDate.call(this).getTime();
      times.set(this, time);
    }
    return new Date(time);
  };

  // Read by asn1-parse.ts (the same objects and refusals, each byte read once), and each bytes once in a row.
  ASN1Obj.parseBuffer = function parseBufferOnce(buf: Buffer): ASN1Obj {
    const known = recentlyParsed.find(({ der }) => der.length === buf.length && der.equals(buf));
    if (known !== undefined) return known.obj;
    const obj = parseDER(buf);
    // Its own bytes (the reader's copy), which no caller holds and so none can change.
    recentlyParsed.unshift({ der: obj.toDER(), obj });
    if (recentlyParsed.length > RECENTLY_PARSED) recentlyParsed.pop();
    return obj;
  };

  // As parsing its encoding again would: the same objects, new ones, so that a change to the copy (sigstore-js
  // removes its SCT extension) never reaches the original.
  X509Certificate.prototype.clone = function cloneParsed(this: X509Certificate): X509Certificate {
    return new X509Certificate(copyOf(this.root));
  };
}

/**
 * The DER of an object that is not (or no longer) the bytes it was parsed from, as @sigstore/core writes it — tag,
 * minimal length, then its value or its children's encodings — into one buffer of the right size.
 */
function encoded(obj: ASN1Obj): Buffer {
  const parts = obj.subs.length > 0 ? obj.subs.map((sub) => sub.toDER()) : [obj.value];
  let length = 0;
  for (const part of parts) length += part.length;
  let lengthBytes = 0;
  if (length >= 0x80) for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes += 1;
  const der = Buffer.allocUnsafe(2 + lengthBytes + length);
  der[0] = obj.tag.toDER();
  if (lengthBytes === 0) der[1] = length;
  else {
    der[1] = 0x80 | lengthBytes;
    for (let i = 0; i < lengthBytes; i += 1) der[2 + i] = Math.floor(length / 256 ** (lengthBytes - 1 - i)) % 256;
  }
  let offset = 2 + lengthBytes;
  for (const part of parts) offset += part.copy(der, offset);
  return der;
}

/**
 * A certificate copied where sigstore-js changes a copy — its extension list (it removes the SCT extension) — and so
 * where that list hangs: the certificate, its TBSCertificate and the extensions field ([3], as X509Certificate finds
 * it). Every other object, each extension among them, is the original's, and nothing changes those.
 */
function copyOf(root: ASN1Obj): ASN1Obj {
  const copy = (obj: ASN1Obj, subs: ASN1Obj[]) => {
    const copied = new ASN1Obj(obj.tag, obj.value, subs);
    copies.add(copied);
    return copied;
  };
  const [tbs, ...rest] = root.subs;
  if (!tbs) return copy(root, []);
  const fields = tbs.subs.map((field) =>
    field.tag.isContextSpecific(0x03)
      ? copy(
          field,
          field.subs.map((list) => copy(list, [...list.subs])),
        )
      : field,
  );
  return copy(root, [copy(tbs, fields), ...rest]);
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
    // Read as it is (asn1-parse.ts): where its bytes are is known, and so is that they are its encoding.
    const read = sub instanceof ParsedASN1Obj ? sub.readBytes() : undefined;
    if (read !== undefined) {
      if (read.byteOffset !== offset) return false;
      offset += read.length;
      continue;
    }
    const start = encodedStart(sub);
    if (start !== offset || !childrenFill(sub)) return false;
    offset = sub.value.byteOffset + sub.value.length;
  }
  return offset === value.byteOffset + value.length;
}
