import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  leafHash,
  MerkleTree,
  nodeHash,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

// The RFC 6962 test tree: eight leaf inputs and, for every size, its root; audit paths and consistency proofs between
// sizes. The values are those of Certificate Transparency's and Trillian's test data (transparency-dev/merkle,
// testonly/constants.go and proof/verify_test.go), where paths index leaves from 1: here they index from 0.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  (hex) => Buffer.from(hex, 'hex'),
);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map((hex) => Buffer.from(hex, 'hex'));
// The hashes of the complete subtrees, level by level (level 0: the leaf hashes).
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
].map((level) => level.map((hex) => Buffer.from(hex, 'hex')));
const INCLUSION_PROOFS: { index: number; size: number; path: string[] }[] = [
  { index: 0, size: 1, path: [] },
  {
    index: 0,
    size: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    path: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CONSISTENCY_PROOFS: { size1: number; size2: number; proof: string[] }[] = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const SOME_HASH = Buffer.from('abacaba000000000000000000000000000000000000000000060061e00123456', 'hex');

const hex = (hashes: readonly Buffer[]) => hashes.map((h) => h.toString('hex'));
const unhex = (hashes: readonly string[]) => hashes.map((h) => Buffer.from(h, 'hex'));

function treeOf(entries: readonly Uint8Array[]): MerkleTree {
  const tree = new MerkleTree();
  for (const entry of entries) tree.append(entry);
  return tree;
}

/** RFC 6962's MTH written as the RFC states it, over a list of leaf hashes: the reference the tree is checked against. */
function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

function flipBit(hashes: readonly Buffer[], i: number, bit: number): Buffer[] {
  return hashes.map((h, j) => {
    if (j !== i) return h;
    const copy = Buffer.from(h);
    copy[0]! ^= 1 << bit;
    return copy;
  });
}

/** The ways of spoiling a valid inclusion proof that every verifier must refuse (as transparency-dev's tests do). */
function spoiledInclusionProofs(index: number, size: number, leaf: Buffer, path: Buffer[], root: Buffer) {
  const probes: { what: string; index: number; size: number; leaf: Uint8Array; path: Uint8Array[]; root: Buffer }[] = [
    { what: 'index - 1', index: index - 1, size, leaf, path, root },
    { what: 'index + 1', index: index + 1, size, leaf, path, root },
    { what: 'index ^ 2', index: index ^ 2, size, leaf, path, root },
    { what: 'size * 2', index, size: size * 2, leaf, path, root },
    { what: 'size / 2', index, size: Math.floor(size / 2), leaf, path, root },
    { what: 'another leaf', index, size, leaf: Buffer.from('WrongLeaf'), path, root },
    { what: 'the empty root', index, size, leaf, path, root: EMPTY_ROOT },
    { what: 'another root', index, size, leaf, path, root: SOME_HASH },
    { what: 'trailing empty hash', index, size, leaf, path: [...path, Buffer.alloc(0)], root },
    { what: 'trailing root', index, size, leaf, path: [...path, root], root },
    { what: 'preceding empty hash', index, size, leaf, path: [Buffer.alloc(0), ...path], root },
    { what: 'preceding root', index, size, leaf, path: [root, ...path], root },
  ];
  for (let i = 0; i < path.length; i++) {
    probes.push({ what: `path[${i}] bit 3 flipped`, index, size, leaf, path: flipBit(path, i, 3), root });
  }
  if (path.length > 0) probes.push({ what: 'last hash removed', index, size, leaf, path: path.slice(0, -1), root });
  if (path.length > 1) {
    probes.push({ what: 'hash inserted', index, size, leaf, path: [path[0]!, SOME_HASH, ...path.slice(1)], root });
  }
  return probes;
}

describe('the RFC 6962 Merkle tree', () => {
  it('hashes leaves with 0x00 and nodes with 0x01 in front, the empty tree to SHA-256 of nothing', () => {
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(NODES[0]![0]!.toString('hex'));
    expect(nodeHash(NODES[0]![0]!, NODES[0]![1]!).toString('hex')).toBe(NODES[1]![0]!.toString('hex'));
    expect(EMPTY_ROOT.toString('hex')).toBe(ROOTS[0]!.toString('hex'));
    expect(new MerkleTree().root().toString('hex')).toBe(ROOTS[0]!.toString('hex'));
  });

  it('gives the known root of the test tree at every size from 0 to 8', () => {
    const tree = new MerkleTree();
    expect(tree.root().equals(ROOTS[0]!)).toBe(true);
    LEAVES.forEach((leaf, i) => {
      expect(tree.append(leaf)).toBe(i);
      expect(tree.root().toString('hex'), `size ${i + 1}`).toBe(ROOTS[i + 1]!.toString('hex'));
    });
    // Older sizes stay answerable after the tree has grown.
    ROOTS.forEach((root, size) => {
      expect(tree.root(size).toString('hex')).toBe(root.toString('hex'));
    });
  });

  it('keeps the known hash of every complete subtree', () => {
    const tree = treeOf(LEAVES);
    NODES.forEach((level, h) => {
      level.forEach((hash, i) => {
        const width = 2 ** h;
        // A complete subtree of 2^h leaves is the root of a tree of that size over its leaves.
        expect(
          treeOf(LEAVES.slice(i * width, (i + 1) * width))
            .root()
            .toString('hex'),
        ).toBe(hash.toString('hex'));
      });
    });
    expect(tree.leafHash(7).toString('hex')).toBe(NODES[0]![7]!.toString('hex'));
  });

  it.each(INCLUSION_PROOFS)(
    'gives the known audit path of leaf $index in a tree of $size leaves',
    ({ index, size, path }) => {
      const tree = treeOf(LEAVES);
      expect(hex(tree.inclusionProof(index, size))).toEqual(path);
      expect(rootFromInclusionProof(index, size, leafHash(LEAVES[index]!), unhex(path))?.toString('hex')).toBe(
        ROOTS[size]!.toString('hex'),
      );
      expect(verifyInclusion(index, size, leafHash(LEAVES[index]!), unhex(path), ROOTS[size]!)).toBe(true);
    },
  );

  it.each(INCLUSION_PROOFS.filter((p) => p.size > 1))(
    'refuses every spoiled form of the audit path of leaf $index in a tree of $size leaves',
    ({ index, size, path }) => {
      const probes = spoiledInclusionProofs(index, size, leafHash(LEAVES[index]!), unhex(path), ROOTS[size]!);
      const accepted = probes.filter((p) => verifyInclusion(p.index, p.size, p.leaf, p.path, p.root));
      expect(accepted.map((p) => p.what)).toEqual([]);
    },
  );

  it('refuses an index outside the tree, an empty tree and a one-leaf tree with a wrong root or leaf', () => {
    const leaf = leafHash(Buffer.from('data'));
    expect(verifyInclusion(0, 1, leaf, [], leaf)).toBe(true);
    expect(verifyInclusion(0, 1, leaf, [], SOME_HASH)).toBe(false);
    expect(verifyInclusion(0, 1, SOME_HASH, [], leaf)).toBe(false);
    expect(verifyInclusion(0, 1, Buffer.alloc(0), [], Buffer.alloc(0))).toBe(false);
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [1, 1],
      [2, 1],
      [-1, 4],
      [0.5, 4],
    ] as const) {
      expect(verifyInclusion(index, size, SOME_HASH, [], EMPTY_ROOT), `${index} of ${size}`).toBe(false);
      expect(verifyInclusion(index, size, SOME_HASH, [], SOME_HASH), `${index} of ${size}`).toBe(false);
    }
  });

  it.each(CONSISTENCY_PROOFS)(
    'gives the known consistency proof from size $size1 to size $size2',
    ({ size1, size2, proof }) => {
      const tree = treeOf(LEAVES);
      expect(hex(tree.consistencyProof(size1, size2))).toEqual(proof);
      expect(verifyConsistency(size1, size2, ROOTS[size1]!, ROOTS[size2]!, unhex(proof))).toBe(true);
    },
  );

  it.each(CONSISTENCY_PROOFS.filter((p) => p.proof.length > 0))(
    'refuses every spoiled form of the consistency proof from size $size1 to size $size2',
    ({ size1, size2, proof: hexProof }) => {
      const proof = unhex(hexProof);
      const root1 = ROOTS[size1]!;
      const root2 = ROOTS[size2]!;
      const probes: { what: string; size1: number; size2: number; root1: Buffer; root2: Buffer; proof: Buffer[] }[] = [
        { what: 'size1 - 1', size1: size1 - 1, size2, root1, root2, proof },
        { what: 'size1 + 1', size1: size1 + 1, size2, root1, root2, proof },
        { what: 'size1 ^ 2', size1: size1 ^ 2, size2, root1, root2, proof },
        { what: 'size2 * 2', size1, size2: size2 * 2, root1, root2, proof },
        { what: 'size2 / 2', size1, size2: Math.floor(size2 / 2), root1, root2, proof },
        { what: 'another root1', size1, size2, root1: SOME_HASH, root2, proof },
        { what: 'another root2', size1, size2, root1, root2: SOME_HASH, proof },
        { what: 'roots swapped', size1, size2, root1: root2, root2: root1, proof },
        { what: 'empty proof', size1, size2, root1, root2, proof: [] },
        { what: 'trailing empty hash', size1, size2, root1, root2, proof: [...proof, Buffer.alloc(0)] },
        { what: 'trailing root1', size1, size2, root1, root2, proof: [...proof, root1] },
        { what: 'trailing root2', size1, size2, root1, root2, proof: [...proof, root2] },
        { what: 'preceding empty hash', size1, size2, root1, root2, proof: [Buffer.alloc(0), ...proof] },
        { what: 'preceding root1', size1, size2, root1, root2, proof: [root1, ...proof] },
        { what: 'preceding root2', size1, size2, root1, root2, proof: [root2, ...proof] },
        { what: 'preceding proof[0]', size1, size2, root1, root2, proof: [proof[0]!, ...proof] },
        { what: 'truncated', size1, size2, root1, root2, proof: proof.slice(0, -1) },
        ...proof.map((_, i) => ({
          what: `proof[${i}] bit 4 flipped`,
          size1,
          size2,
          root1,
          root2,
          proof: flipBit(proof, i, 4),
        })),
      ];
      const accepted = probes.filter((p) => verifyConsistency(p.size1, p.size2, p.root1, p.root2, p.proof));
      expect(accepted.map((p) => p.what)).toEqual([]);
    },
  );

  it('treats equal sizes and the empty tree as RFC 9162 does', () => {
    const a = Buffer.from("don't care 1");
    const b = Buffer.from("don't care 2");
    expect(verifyConsistency(0, 0, a, a, [])).toBe(true);
    expect(verifyConsistency(0, 1, a, b, [])).toBe(true);
    expect(verifyConsistency(1, 1, b, b, [])).toBe(true);
    expect(verifyConsistency(0, 0, a, b, [])).toBe(false);
    expect(verifyConsistency(1, 1, a, b, [])).toBe(false);
    expect(verifyConsistency(1, 0, a, b, [])).toBe(false);
    expect(verifyConsistency(2, 1, a, b, [])).toBe(false);
    expect(verifyConsistency(1, 2, a, b, [])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
    expect(verifyConsistency(0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
    expect(verifyConsistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
  });

  it('refuses sizes and indices outside the tree', () => {
    const tree = treeOf(LEAVES.slice(0, 3));
    expect(() => tree.root(4)).toThrow(RangeError);
    expect(() => tree.inclusionProof(3)).toThrow(RangeError);
    expect(() => tree.inclusionProof(0, 4)).toThrow(RangeError);
    expect(() => tree.inclusionProof(0, 0)).toThrow(RangeError);
    expect(() => tree.consistencyProof(3, 2)).toThrow(RangeError);
    expect(() => tree.leafHash(-1)).toThrow(RangeError);
    expect(() => tree.appendLeafHash(Buffer.alloc(31))).toThrow(RangeError);
  });
});

describe('a large Merkle tree', () => {
  it('agrees with the reference at sizes around every power of two up to 1,100 leaves, its proofs verifying', () => {
    const entries = Array.from({ length: 1100 }, (_, i) => Buffer.from(`entry ${i}`));
    const tree = treeOf(entries);
    const leaves = entries.map((e) => leafHash(e));
    const sizes = [
      1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513,
    ];
    for (const size of [...sizes, 1023, 1024, 1025, 1100]) {
      const root = tree.root(size);
      expect(root.equals(referenceRoot(leaves.slice(0, size))), `size ${size}`).toBe(true);
      for (const index of new Set([0, Math.floor(size / 2), size - 2, size - 1].filter((i) => i >= 0))) {
        expect(verifyInclusion(index, size, leaves[index]!, tree.inclusionProof(index, size), root)).toBe(true);
      }
      const half = Math.ceil(size / 2);
      expect(verifyConsistency(half, size, tree.root(half), root, tree.consistencyProof(half, size))).toBe(true);
    }
  });
});

describe('the Merkle tree, for any entries', () => {
  const entries = fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 80 });
  // Two equal entries have one leaf hash, so a path can prove either: "another leaf" needs distinct ones.
  const distinctEntries = fc.uniqueArray(fc.uint8Array({ maxLength: 24 }), {
    minLength: 2,
    maxLength: 80,
    selector: (entry) => Buffer.from(entry).toString('hex'),
  });

  it('has at every size the root RFC 6962 defines', () => {
    fc.assert(
      fc.property(entries, (data) => {
        const tree = treeOf(data);
        const leaves = data.map((d) => leafHash(d));
        for (let size = 0; size <= data.length; size++) {
          expect(tree.root(size).equals(referenceRoot(leaves.slice(0, size)))).toBe(true);
        }
      }),
    );
  });

  it('proves every leaf at every size, with an audit path of the length its position gives', () => {
    fc.assert(
      fc.property(entries, (data) => {
        const tree = treeOf(data);
        for (let size = 1; size <= data.length; size++) {
          const root = tree.root(size);
          for (let index = 0; index < size; index++) {
            const path = tree.inclusionProof(index, size);
            // The inner part (where the paths to index and to the last leaf differ) and the right border above it.
            const inner = (index ^ (size - 1)).toString(2).replace(/^0$/, '').length;
            const border = (index >> inner).toString(2).replaceAll('0', '').length;
            expect(path).toHaveLength(inner + border);
            expect(verifyInclusion(index, size, tree.leafHash(index), path, root)).toBe(true);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses an audit path with any bit of any hash flipped, or given for another leaf', () => {
    fc.assert(
      fc.property(
        distinctEntries,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (data, a, b, c, bit) => {
          const tree = treeOf(data);
          const size = 2 + (a % (data.length - 1));
          const index = b % size;
          const path = tree.inclusionProof(index, size);
          const root = tree.root(size);
          const at = c % path.length;
          const spoiled = path.map((h, i) => {
            if (i !== at) return h;
            const copy = Buffer.from(h);
            copy[bit >> 3]! ^= 1 << (bit & 7);
            return copy;
          });
          expect(verifyInclusion(index, size, tree.leafHash(index), spoiled, root)).toBe(false);
          const other = (index + 1 + (c % (size - 1))) % size;
          expect(verifyInclusion(other, size, tree.leafHash(index), path, root)).toBe(false);
        },
      ),
    );
  });

  it('proves every smaller tree a prefix of every larger one, and not of a tree with another leaf', () => {
    fc.assert(
      fc.property(entries, fc.nat(), fc.nat(), (data, a, b) => {
        const tree = treeOf(data);
        const size2 = 1 + (a % data.length);
        const size1 = b % (size2 + 1);
        const proof = tree.consistencyProof(size1, size2);
        expect(verifyConsistency(size1, size2, tree.root(size1), tree.root(size2), proof)).toBe(true);
        if (size1 === 0 || size1 === size2) return;
        // The same proof does not tie the old root to a tree whose entry at size1 - 1 is another.
        const forked = treeOf([
          ...data.slice(0, size1 - 1),
          Buffer.from('a forked entry, longer than any'),
          ...data.slice(size1),
        ]);
        expect(verifyConsistency(size1, size2, forked.root(size1), tree.root(size2), proof)).toBe(false);
      }),
    );
  });
});
