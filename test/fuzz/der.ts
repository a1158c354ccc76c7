// A small DER reader and rewriter for the fuzzer: enough of X.509 and CMS (RFC 3161 timestamps) to know which bytes a
// signature covers (a certificate's TBS, a timestamp's signed attributes and TSTInfo) and to re-encode an element with
// its parents' lengths fixed up, so that a mutation can be a well-formed but non-canonical encoding (a long-form
// length, a leading zero, an extra element) rather than only a broken one.

export interface DerNode {
  /** Offsets in the buffer the tree was read from: the tag's first byte, the content's first byte, one past the end. */
  start: number;
  contentStart: number;
  end: number;
  tag: number;
  constructed: boolean;
  /** A constructed element's children; or those of a BIT/OCTET STRING whose content is itself DER (encapsulated). */
  children: DerNode[];
  /** BIT STRING: the unused-bits byte that precedes an encapsulated element. */
  encapsulatedAt?: number;
  /** Covered by a signature: inside a certificate's TBS, a timestamp's signed attributes or its TSTInfo. */
  signed: boolean;
  depth: number;
}

const MAX_DEPTH = 40;
const TAG = { integer: 0x02, bitString: 0x03, octetString: 0x04, oid: 0x06, sequence: 0x30, set: 0x31 } as const;
/** id-ct-TSTInfo, 1.2.840.113549.1.9.16.1.4: the eContent a timestamp's signed attributes digest. */
const TST_INFO_OID = Buffer.from('2a864886f70d0109100104', 'hex');

/** Reads one DER element at `start` (or undefined when the bytes are not DER there). */
function readHeader(
  buf: Buffer,
  start: number,
  limit: number,
): { tag: number; contentStart: number; end: number } | undefined {
  if (start + 2 > limit) return undefined;
  const tag = buf[start]!;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags: none in what the fuzzer mutates
  const first = buf[start + 1]!;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = start + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || start + 2 + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[start + 2 + i]!;
    contentStart = start + 2 + count;
  }
  const end = contentStart + length;
  return end <= limit ? { tag, contentStart, end } : undefined;
}

function readChildren(buf: Buffer, from: number, to: number, depth: number, signed: boolean): DerNode[] | undefined {
  const children: DerNode[] = [];
  let at = from;
  while (at < to) {
    const node = readNode(buf, at, to, depth, signed);
    if (!node) return undefined;
    children.push(node);
    at = node.end;
  }
  return children;
}

function readNode(buf: Buffer, start: number, limit: number, depth: number, signed: boolean): DerNode | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const header = readHeader(buf, start, limit);
  if (!header) return undefined;
  const { tag, contentStart, end } = header;
  const constructed = (tag & 0x20) !== 0;
  const node: DerNode = { start, contentStart, end, tag, constructed, children: [], signed, depth };
  if (constructed) {
    const children = readChildren(buf, contentStart, end, depth + 1, signed);
    if (!children) return undefined;
    node.children = children;
    markSignedParts(buf, node);
  } else if ((tag === TAG.octetString || tag === TAG.bitString) && end - contentStart >= 2) {
    // Encapsulated DER (extensions, TSTInfo, an ECDSA signature value): read it as children when it parses whole.
    const from = tag === TAG.bitString ? contentStart + 1 : contentStart;
    if (tag !== TAG.bitString || buf[contentStart] === 0) {
      const children = readChildren(buf, from, end, depth + 1, signed);
      if (children && children.length > 0 && children[0]!.constructed) {
        node.children = children;
        if (tag === TAG.bitString) node.encapsulatedAt = contentStart;
      }
    }
  }
  return node;
}

/** Marks what a signature covers, by shape: a certificate's TBS, a SignerInfo's signed attributes, a TSTInfo. */
function markSignedParts(buf: Buffer, node: DerNode): void {
  const c = node.children;
  const isCertificate =
    node.tag === TAG.sequence &&
    c.length === 3 &&
    c[0]!.tag === TAG.sequence &&
    c[1]!.tag === TAG.sequence &&
    c[2]!.tag === TAG.bitString;
  if (isCertificate) markSigned(c[0]!);
  const isSignerInfo =
    node.tag === TAG.sequence && c[0]?.tag === TAG.integer && c.some((x) => x.tag === TAG.octetString);
  if (isSignerInfo) for (const child of c.slice(3)) if (child.tag === 0xa0) markSigned(child);
  const isEncapContentInfo =
    node.tag === TAG.sequence &&
    c[0]?.tag === TAG.oid &&
    buf.subarray(c[0].contentStart, c[0].end).equals(TST_INFO_OID) &&
    c[1]?.tag === 0xa0;
  if (isEncapContentInfo) markSigned(c[1]!);
}

function markSigned(node: DerNode): void {
  node.signed = true;
  for (const child of node.children) markSigned(child);
}

/** The DER tree of `buf`, or undefined when `buf` is not one DER element. */
export function parseDer(buf: Buffer): DerNode | undefined {
  const node = readNode(buf, 0, buf.length, 0, false);
  return node && node.end === buf.length ? node : undefined;
}

export function allNodes(root: DerNode): DerNode[] {
  const out: DerNode[] = [];
  const walk = (node: DerNode) => {
    out.push(node);
    for (const child of node.children) walk(child);
  };
  walk(root);
  return out;
}

/** A DER length, minimal (definite, short form below 128). */
export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * The bytes of `root` with `target` encoded as `replacement` (the whole element: tag, length and content), every
 * ancestor's length written again (minimal) to hold it.
 */
export function replaceNode(buf: Buffer, root: DerNode, target: DerNode, replacement: Buffer): Buffer {
  const encode = (node: DerNode): Buffer => {
    if (node === target) return replacement;
    if (target.start < node.start || target.end > node.end || node.children.length === 0) {
      return buf.subarray(node.start, node.end);
    }
    const prefix =
      node.encapsulatedAt !== undefined ? buf.subarray(node.encapsulatedAt, node.encapsulatedAt + 1) : Buffer.alloc(0);
    const content = Buffer.concat([prefix, ...node.children.map(encode)]);
    return Buffer.concat([Buffer.of(node.tag), encodeLength(content.length), content]);
  };
  return encode(root);
}

export function contentOf(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.contentStart, node.end);
}

/** An element with the same tag and content, its length in a longer (BER, not DER) form. */
export function withLongFormLength(buf: Buffer, node: DerNode, extraBytes: number): Buffer {
  const content = contentOf(buf, node);
  const bytes: number[] = [];
  for (let n = content.length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  while (bytes.length < 1 + extraBytes) bytes.unshift(0);
  return Buffer.concat([Buffer.of(node.tag, 0x80 | bytes.length, ...bytes), content]);
}

/** A constructed element in BER's indefinite-length form, ended by two zero bytes. */
export function withIndefiniteLength(buf: Buffer, node: DerNode): Buffer {
  return Buffer.concat([Buffer.of(node.tag, 0x80), contentOf(buf, node), Buffer.of(0, 0)]);
}

export function withTag(buf: Buffer, node: DerNode, tag: number): Buffer {
  return Buffer.concat([Buffer.of(tag), buf.subarray(node.start + 1, node.end)]);
}

export function encodeElement(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), encodeLength(content.length), content]);
}

/** The orders of the curves Sigstore signs with, by the byte length of a signature's r and s. */
const CURVE_ORDERS: [number, bigint][] = [
  [32, 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n], // P-256
  [48, 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n], // P-384
  [
    66,
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  ], // P-521
];

function bigintOf(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

/** A DER INTEGER's content for a non-negative value: minimal, with a 0x00 before a high bit. */
function integerContent(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
}

/** ECDSA-Sig-Value nodes: SEQUENCE { INTEGER r, INTEGER s } of a known curve's size. */
export function ecdsaSignatures(buf: Buffer, root: DerNode): DerNode[] {
  return allNodes(root).filter(
    (n) =>
      n.tag === TAG.sequence &&
      n.children.length === 2 &&
      n.children.every((c) => c.tag === TAG.integer) &&
      curveOrder(buf, n) !== undefined,
  );
}

function curveOrder(buf: Buffer, sig: DerNode): bigint | undefined {
  const r = contentOf(buf, sig.children[0]!);
  const size = r.length - (r[0] === 0 ? 1 : 0);
  // r is usually full size, and one byte shorter one time in 256.
  return CURVE_ORDERS.find(([bytes]) => size === bytes || size === bytes - 1)?.[1];
}

/** The same signature with s replaced by n - s: valid for the same message and key (ECDSA malleability). */
export function highS(buf: Buffer, sig: DerNode): Buffer | undefined {
  const order = curveOrder(buf, sig);
  if (order === undefined) return undefined;
  const r = contentOf(buf, sig.children[0]!);
  const s = bigintOf(contentOf(buf, sig.children[1]!));
  const content = Buffer.concat([encodeElement(TAG.integer, r), encodeElement(TAG.integer, integerContent(order - s))]);
  return encodeElement(TAG.sequence, content);
}

export const DER_TAGS = TAG;
