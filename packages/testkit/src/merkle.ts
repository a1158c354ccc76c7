// The Merkle tree of a transparency log, as RFC 6962 §2.1 defines it (restated in RFC 9162 §2.1): SHA-256, leaf hash
// SHA-256(0x00 || entry), interior node SHA-256(0x01 || left || right), a tree of n leaves split at the largest power
// of two below n. The loopback Rekor keeps one such tree; the verifiers here serve its tests, never the product.
import { createHash } from 'node:crypto';

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** A leaf's hash: SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

/** An interior node's hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * An append-only Merkle tree. Every complete subtree's hash is kept as the leaves arrive (about 2n hashes in all),
 * so a root or a proof for any size up to the current one costs O(log² n) hashes, not O(n).
 */
export class MerkleTree {
  /** levels[h][i]: the hash of the complete subtree of 2^h leaves starting at leaf i·2^h. levels[0] are the leaves. */
  private readonly levels: Buffer[][] = [[]];

  /** The number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends an entry (hashed as a leaf); returns its index. */
  append(entry: Uint8Array): number {
    return this.appendLeafHash(leafHash(entry));
  }

  /** Appends an already computed leaf hash; returns its index. */
  appendLeafHash(hash: Uint8Array): number {
    if (hash.length !== HASH_BYTES) throw new RangeError(`a leaf hash has ${HASH_BYTES} bytes, not ${hash.length}`);
    const index = this.size;
    this.levels[0]!.push(Buffer.from(hash));
    // Each time a level gains an even count, the last two nodes close a complete subtree one level up.
    for (let h = 0; this.levels[h]!.length % 2 === 0; h++) {
      const level = this.levels[h]!;
      this.levels[h + 1] ??= [];
      this.levels[h + 1]!.push(nodeHash(level[level.length - 2]!, level[level.length - 1]!));
    }
    return index;
  }

  /** The hash of leaf `index`. */
  leafHash(index: number): Buffer {
    this.checkIndex(index, this.size);
    return this.levels[0]![index]!;
  }

  /** MTH(D[size]): the root of the tree of the first `size` leaves (default: all of them). */
  root(size: number = this.size): Buffer {
    this.checkSize(size);
    return size === 0 ? EMPTY_ROOT : this.subtree(0, size);
  }

  /** PATH(index, D[size]) (RFC 6962 §2.1.1): the audit path of leaf `index` in the tree of `size` leaves, bottom up. */
  inclusionProof(index: number, size: number = this.size): Buffer[] {
    this.checkSize(size);
    this.checkIndex(index, size);
    const path: Buffer[] = [];
    // Walk down from the root, keeping the sibling at each split; the path lists them leaf first.
    let start = 0;
    let end = size;
    while (end - start > 1) {
      const k = largestPowerOfTwoBelow(end - start);
      if (index < start + k) {
        path.push(this.subtree(start + k, end));
        end = start + k;
      } else {
        path.push(this.subtree(start, start + k));
        start += k;
      }
    }
    return path.reverse();
  }

  /**
   * PROOF(size1, D[size2]) (RFC 6962 §2.1.2): the hashes that show the tree of `size1` leaves is a prefix of the tree
   * of `size2` leaves. Empty when size1 is 0 or equals size2.
   */
  consistencyProof(size1: number, size2: number = this.size): Buffer[] {
    this.checkSize(size2);
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
      throw new RangeError(`size1 ${size1} is not within 0..${size2}`);
    }
    if (size1 === 0 || size1 === size2) return [];
    const proof: Buffer[] = [];
    this.subproof(size1, 0, size2, true, proof);
    return proof;
  }

  // SUBPROOF(m, D[start:end], b), appending its hashes (RFC 6962 §2.1.2's recursion, the outer nodes last).
  private subproof(m: number, start: number, end: number, complete: boolean, proof: Buffer[]): void {
    const n = end - start;
    if (m === n) {
      if (!complete) proof.push(this.subtree(start, end));
      return;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      this.subproof(m, start, start + k, complete, proof);
      proof.push(this.subtree(start + k, end));
    } else {
      this.subproof(m - k, start + k, end, false, proof);
      proof.push(this.subtree(start, start + k));
    }
  }

  // MTH(D[start:end]) for 0 ≤ start < end ≤ size: a complete subtree is read, any other is split as RFC 6962 does.
  private subtree(start: number, end: number): Buffer {
    const n = end - start;
    if (isPowerOfTwo(n) && start % n === 0) return this.levels[Math.log2(n)]![start / n]!;
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(this.subtree(start, start + k), this.subtree(start + k, end));
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`tree size ${size} is not within 0..${this.size}`);
    }
  }

  private checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`leaf index ${index} is not within a tree of ${size} leaves`);
    }
  }
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or undefined when the path cannot be one for leaf
 * `index` of a tree of `size` leaves (an index outside the tree, too few or too many hashes, a hash not 32 bytes).
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
): Buffer | undefined {
  if (!isCount(index) || !isCount(size) || index >= size || leaf.length !== HASH_BYTES) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0 || p.length !== HASH_BYTES) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // On the right border a node may have no sibling for some levels: the next hash is above them.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** Whether `path` proves `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProof(index, size, leaf, path);
  return computed?.equals(root) ?? false;
}

/**
 * Whether `proof` shows the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2` leaves with
 * root `root2` (RFC 9162 §2.1.4.2). A tree is consistent with itself (empty proof, equal roots) and the empty tree
 * with every tree (empty proof).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isCount(size1) || !isCount(size2) || size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && Buffer.from(root1).equals(root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0 || proof.some((p) => p.length !== HASH_BYTES)) return false;
  // When the old tree is a complete subtree of the new one, its root is the proof's implicit first hash.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}

const HASH_BYTES = 32;
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** The largest power of two strictly below n (n ≥ 2). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
