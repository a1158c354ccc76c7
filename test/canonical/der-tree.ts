// A DER element as a tree (its tag, and its children or its content), to build re-encodings of a timestamp token
// that stay well-formed DER: an element retagged, a parameter added or dropped, certificates added or removed —
// with every length above it written again.
export interface DerTree {
  tag: number;
  children?: DerTree[];
  content?: Buffer;
}

export function parseDer(der: Buffer): DerTree {
  const [tree, end] = readElement(der, 0);
  if (end !== der.length) throw new Error(`${der.length - end} bytes after the DER element`);
  return tree;
}

function readElement(der: Buffer, at: number): [DerTree, number] {
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = der.readUIntBE(start, count);
    start += count;
  }
  const end = start + length;
  if ((tag & 0x20) === 0) return [{ tag, content: Buffer.from(der.subarray(start, end)) }, end];
  const children: DerTree[] = [];
  for (let next = start; next < end; ) {
    const [child, after] = readElement(der, next);
    children.push(child);
    next = after;
  }
  return [{ tag, children }, end];
}

export function encodeDer(tree: DerTree): Buffer {
  const content = tree.children ? Buffer.concat(tree.children.map(encodeDer)) : tree.content!;
  return Buffer.concat([Buffer.from([tree.tag]), encodeLength(content.length), content]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** The pieces of a TimeStampResp { status, ContentInfo { signedData, [0] SignedData } } the re-encodings change. */
export function tokenParts(response: DerTree): {
  signedData: DerTree;
  digestAlgorithms: DerTree;
  /** The index of certificates [0] among signedData's children, or -1. */
  certificates: number;
  signerInfo: DerTree;
} {
  const signedData = response.children![1]!.children![1]!.children![0]!;
  const children = signedData.children!;
  return {
    signedData,
    digestAlgorithms: children[1]!,
    certificates: children.findIndex((child) => child.tag === 0xa0),
    signerInfo: children.at(-1)!.children![0]!,
  };
}
