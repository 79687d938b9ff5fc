/**
 * Byte-exact RFC 6962 / RFC 9162 reference vectors, transcribed from transparency-dev/merkle
 * (the successor of certificate-transparency-go `merkle`, whose `logverifier` tests carried the
 * same tables):
 *   - rfc6962/rfc6962_test.go      TestRFC6962Hasher (empty root, leaf and node hashes)
 *   - testonly/constants.go        LeafInputs, NodeHashes (every perfect node), RootHashes
 *   - proof/verify_test.go         inclusionProofs, consistencyProofs, corrupt*Proof probes,
 *                                  TestVerifyInclusion*, TestVerifyConsistency edge cases
 *   - proof/proof_test.go          TestInclusion / TestConsistency node-id sets
 */
import { EMPTY_ROOT, leafHash, nodeHash } from './merkle-hash.util';
import { consistencyNodes, consistencyPath, inclusionNodes, inclusionPath, rootHash, rootNodes } from './merkle-proof.util';
import { verifyConsistency, verifyInclusion } from './merkle-verify.util';
import { MemoryMerkleLog } from './memory-merkle-log';
import { nodeKeyId, nodeLookupFromMap, type NodeKey } from './node-key.util';
import { naiveConsistency, naivePath, naiveRoot } from './testing/naive-merkle';

const h = (hex: string): Buffer => Buffer.from(hex, 'hex');
const hexes = (bufs: readonly Uint8Array[]): string[] => bufs.map((b) => Buffer.from(b).toString('hex'));

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);

/** testonly.RootHashes(), indexed by tree size. */
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
];

/** testonly.NodeHashes(): [level][index] for the 8-leaf tree. */
const NODE_HASHES = [
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
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

/** proof/verify_test.go inclusionProofs; `leaf` is 1-based there (the test uses leaf - 1). */
const INCLUSION_PROOFS: { leaf: number; size: number; proof: string[] }[] = [
  {
    leaf: 1,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    leaf: 6,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    leaf: 2,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  { leaf: 1, size: 1, proof: [] },
];

/** proof/verify_test.go consistencyProofs. */
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

const SOME_HASH = h('abacaba000000000000000000000000000000000000000000060061e00123456');
const EMPTY_TREE_HASH = h(ROOTS[0]);

function buildLog(): MemoryMerkleLog {
  const log = new MemoryMerkleLog();
  for (const leaf of LEAVES) log.append(leaf);
  return log;
}

describe('RFC 6962 hasher vectors (rfc6962_test.go)', () => {
  it('hashes the empty tree, an empty leaf, a leaf and a node byte-exactly', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(leafHash(new Uint8Array(0)).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(leafHash(Buffer.from('L123456')).toString('hex')).toBe('395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
    expect(nodeHash(Buffer.from('N123'), Buffer.from('N456')).toString('hex')).toBe(
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
  });

  it('separates leaf and node domains and is order-sensitive', () => {
    const a = leafHash(Buffer.from('Hello'));
    const b = leafHash(Buffer.from('World'));
    expect(a.equals(b)).toBe(false);
    expect(nodeHash(a, b).equals(leafHash(Buffer.concat([a, b])))).toBe(false);
    expect(nodeHash(a, b).equals(nodeHash(b, a))).toBe(false);
  });
});

describe('tree over the standard 8 test leaves (testonly/constants.go)', () => {
  const log = buildLog();

  it('stores every perfect node with the reference hash', () => {
    expect(log.nodeCount).toBe(15);
    NODE_HASHES.forEach((row, level) => row.forEach((hex, index) => expect(log.node({ level, index })?.toString('hex')).toBe(hex)));
  });

  it('has the reference root for every size 0..8, also from the naive RFC recursion', () => {
    for (let size = 0; size <= 8; size++) {
      expect(log.root(size).toString('hex')).toBe(ROOTS[size]);
      expect(naiveRoot(LEAVES.slice(0, size)).toString('hex')).toBe(ROOTS[size]);
    }
  });

  it('builds the same tree when the leaves are appended in batches', () => {
    for (const split of [0, 1, 3, 5, 8]) {
      const batched = new MemoryMerkleLog();
      batched.appendAll(LEAVES.slice(0, split));
      batched.appendAll(LEAVES.slice(split));
      expect(batched.entries()).toEqual(log.entries());
    }
  });

  it('answers each size from the nodes rootNodes lists (compact ranges)', () => {
    const expected: Record<number, string[]> = {
      1: ['0:0'],
      2: ['1:0'],
      3: ['1:0', '0:2'],
      4: ['2:0'],
      5: ['2:0', '0:4'],
      6: ['2:0', '1:2'],
      7: ['2:0', '1:2', '0:6'],
      8: ['3:0'],
    };
    for (let size = 1; size <= 8; size++) {
      const keys = rootNodes(size);
      expect(keys.map(nodeKeyId)).toEqual(expected[size]);
      expect(rootHash(size, restrictedLookup(log, keys)).toString('hex')).toBe(ROOTS[size]);
    }
  });
});

function restrictedLookup(log: MemoryMerkleLog, keys: readonly NodeKey[]) {
  return nodeLookupFromMap(new Map(keys.map((key) => [nodeKeyId(key), log.node(key) as Buffer])));
}

describe('inclusion proofs (verify_test.go inclusionProofs)', () => {
  const log = buildLog();

  it.each(INCLUSION_PROOFS)('leaf $leaf (1-based) in size $size', ({ leaf, size, proof }) => {
    const index = leaf - 1;
    expect(hexes(inclusionPath(index, size, restrictedLookup(log, inclusionNodes(index, size))))).toEqual(proof);
    expect(hexes(log.inclusionPath(index, size))).toEqual(proof);
    expect(hexes(naivePath(index, LEAVES.slice(0, size)))).toEqual(proof);
    expect(verifyInclusion(leafHash(LEAVES[index]), index, size, proof.map(h), h(ROOTS[size]))).toBe(true);
  });

  it.each(INCLUSION_PROOFS.filter((p) => p.size > 1))(
    'rejects every corrupted probe of leaf $leaf in size $size (corruptInclusionProof)',
    ({ leaf, size, proof: hexProof }) => {
      const index = leaf - 1;
      const proof = hexProof.map(h);
      const root = h(ROOTS[size]);
      const lh = leafHash(LEAVES[index]);
      const probes: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
        [index - 1, size, lh, proof, root],
        [index + 1, size, lh, proof, root],
        [index ^ 2, size, lh, proof, root],
        [index, size * 2, lh, proof, root],
        [index, Math.floor(size / 2), lh, proof, root],
        [index, size, Buffer.from('WrongLeaf'), proof, root],
        [index, size, lh, proof, EMPTY_TREE_HASH],
        [index, size, lh, proof, SOME_HASH],
        [index, size, lh, [...proof, Buffer.alloc(0)], root],
        [index, size, lh, [...proof, root], root],
        [index, size, lh, [Buffer.alloc(0), ...proof], root],
        [index, size, lh, [root, ...proof], root],
        ...proof.map((_, i): [number, number, Uint8Array, Uint8Array[], Uint8Array] => {
          const flipped = proof.map((p) => Buffer.from(p));
          flipped[i][0] ^= 8;
          return [index, size, lh, flipped, root];
        }),
        [index, size, lh, proof.slice(0, -1), root],
      ];
      if (proof.length > 1) probes.push([index, size, lh, [proof[0], SOME_HASH, ...proof.slice(1)], root]);
      for (const [i, n, l, p, r] of probes) expect(verifyInclusion(l, i, n, p, r)).toBe(false);
    },
  );

  it('rejects degenerate index/size pairs and mismatched root/leaf (TestVerifyInclusion)', () => {
    for (const [index, size] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [2, 1],
    ]) {
      expect(verifyInclusion(SOME_HASH, index, size, [], Buffer.alloc(0))).toBe(false);
      expect(verifyInclusion(Buffer.alloc(0), index, size, [], EMPTY_TREE_HASH)).toBe(false);
      expect(verifyInclusion(SOME_HASH, index, size, [], EMPTY_TREE_HASH)).toBe(false);
    }
  });

  it('handles the single-entry tree (TestVerifyInclusionSingleEntry)', () => {
    const hash = leafHash(Buffer.from('data'));
    const empty = Buffer.alloc(0);
    expect(verifyInclusion(hash, 0, 1, [], hash)).toBe(true);
    expect(verifyInclusion(empty, 0, 1, [], hash)).toBe(false);
    expect(verifyInclusion(hash, 0, 1, [], empty)).toBe(false);
    expect(verifyInclusion(empty, 0, 1, [], empty)).toBe(false);
  });
});

describe('consistency proofs (verify_test.go consistencyProofs)', () => {
  const log = buildLog();

  it.each(CONSISTENCY_PROOFS)('size $size1 → $size2', ({ size1, size2, proof }) => {
    expect(hexes(consistencyPath(size1, size2, restrictedLookup(log, consistencyNodes(size1, size2))))).toEqual(proof);
    expect(hexes(log.consistencyPath(size1, size2))).toEqual(proof);
    expect(hexes(naiveConsistency(size1, LEAVES.slice(0, size2)))).toEqual(proof);
    expect(verifyConsistency(size1, size2, h(ROOTS[size1]), h(ROOTS[size2]), proof.map(h))).toBe(true);
  });

  it.each(CONSISTENCY_PROOFS.filter((p) => p.proof.length > 0))(
    'rejects every corrupted probe of $size1 → $size2 (corruptConsistencyProof)',
    ({ size1, size2, proof: hexProof }) => {
      const proof = hexProof.map(h);
      const root1 = h(ROOTS[size1]);
      const root2 = h(ROOTS[size2]);
      const wrong = Buffer.from('WrongRoot');
      const probes: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [size1 - 1, size2, root1, root2, proof],
        [size1 + 1, size2, root1, root2, proof],
        [size1 ^ 2, size2, root1, root2, proof],
        [size1, size2 * 2, root1, root2, proof],
        [size1, Math.floor(size2 / 2), root1, root2, proof],
        [size1, size2, wrong, root2, proof],
        [size1, size2, root1, wrong, proof],
        [size1, size2, root2, root1, proof],
        [size1, size2, root1, root2, []],
        [size1, size2, root1, root2, [...proof, Buffer.alloc(0)]],
        [size1, size2, root1, root2, [...proof, root1]],
        [size1, size2, root1, root2, [...proof, root2]],
        [size1, size2, root1, root2, [Buffer.alloc(0), ...proof]],
        [size1, size2, root1, root2, [root1, ...proof]],
        [size1, size2, root1, root2, [root2, ...proof]],
        [size1, size2, root1, root2, [proof[0], ...proof]],
        [size1, size2, root1, root2, proof.slice(0, -1)],
        ...proof.map((_, i): [number, number, Uint8Array, Uint8Array, Uint8Array[]] => {
          const flipped = proof.map((p) => Buffer.from(p));
          flipped[i][0] ^= 16;
          return [size1, size2, root1, root2, flipped];
        }),
      ];
      for (const [s1, s2, r1, r2, p] of probes) expect(verifyConsistency(s1, s2, r1, r2, p)).toBe(false);
    },
  );

  it('follows the edge cases of TestVerifyConsistency', () => {
    // The Go table uses 12-byte "don't care" roots; this library insists on 32-byte hashes, so the
    // placeholders are 32 bytes here.
    const root1 = leafHash(Buffer.from("don't care 1"));
    const root2 = leafHash(Buffer.from("don't care 2"));
    const cases: [number, number, Buffer, Buffer, Buffer[], boolean][] = [
      [0, 0, root1, root2, [], false],
      [1, 1, root1, root2, [], false],
      // Sizes that are always consistent.
      [0, 0, root1, root1, [], true],
      [0, 1, root1, root2, [], true],
      [1, 1, root2, root2, [], true],
      // Time travel to the past.
      [1, 0, root1, root2, [], false],
      [2, 1, root1, root2, [], false],
      // Empty proof.
      [1, 2, root1, root2, [], false],
      // Roots don't match.
      [0, 0, EMPTY_TREE_HASH, root2, [], false],
      [1, 1, EMPTY_TREE_HASH, root2, [], false],
      // Roots match but the proof is not empty.
      [0, 0, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], false],
      [0, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], false],
      [1, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], false],
    ];
    for (const [s1, s2, r1, r2, p, want] of cases) expect([s1, s2, verifyConsistency(s1, s2, r1, r2, p)]).toEqual([s1, s2, want]);
  });
});

describe('stored-node sets (proof_test.go TestInclusion / TestConsistency)', () => {
  const ids = (keys: NodeKey[]) => keys.map(nodeKeyId).sort();
  const set = (...pairs: [number, number][]) => pairs.map(([level, index]) => `${level}:${index}`).sort();

  it.each([
    [0, 1, set()],
    [0, 2, set([0, 1])],
    [1, 2, set([0, 0])],
    [1, 3, set([0, 0], [0, 2])],
    [0, 7, set([0, 1], [1, 1], [0, 6], [1, 2])],
    [1, 7, set([0, 0], [1, 1], [0, 6], [1, 2])],
    [2, 7, set([0, 3], [1, 0], [0, 6], [1, 2])],
    [3, 7, set([0, 2], [1, 0], [0, 6], [1, 2])],
    [4, 7, set([0, 5], [0, 6], [2, 0])],
    [5, 7, set([0, 4], [0, 6], [2, 0])],
    [6, 7, set([1, 2], [2, 0])],
    [2, 4, set([0, 3], [1, 0])],
    [3, 5, set([0, 2], [1, 0], [0, 4])],
    [3, 6, set([0, 2], [1, 0], [1, 2])],
    [4, 6, set([0, 5], [2, 0])],
    [10, 15, set([0, 11], [1, 4], [0, 14], [1, 6], [3, 0])],
    [24, 31, set([0, 25], [1, 13], [0, 30], [1, 14], [3, 2], [4, 0])],
    [81, 95, set([0, 80], [1, 41], [2, 21], [0, 94], [1, 46], [2, 22], [4, 4], [6, 0])],
  ])('inclusionNodes(%i, %i)', (index, size, want) => {
    expect(ids(inclusionNodes(index, size))).toEqual(want);
  });

  it.each([
    [1, 2, set([0, 1])],
    [1, 4, set([0, 1], [1, 1])],
    [1, 6, set([0, 1], [1, 1], [1, 2])],
    [2, 3, set([0, 2])],
    [2, 8, set([1, 1], [2, 1])],
    [3, 7, set([0, 2], [0, 3], [1, 0], [0, 6], [1, 2])],
    [4, 7, set([0, 6], [1, 2])],
    [5, 7, set([0, 4], [0, 5], [0, 6], [2, 0])],
    [6, 7, set([1, 2], [0, 6], [2, 0])],
    [7, 8, set([0, 6], [0, 7], [1, 2], [2, 0])],
    [1, 1, set()],
    [5, 5, set()],
    [8, 8, set()],
    [2, 4, set([1, 1])],
    [3, 5, set([0, 2], [0, 3], [1, 0], [0, 4])],
    [3, 6, set([0, 2], [0, 3], [1, 0], [1, 2])],
    [4, 6, set([1, 2])],
    [1, 7, set([0, 1], [1, 1], [0, 6], [1, 2])],
    [10, 15, set([1, 4], [1, 5], [0, 14], [1, 6], [3, 0])],
    [24, 31, set([3, 2], [0, 30], [1, 14], [2, 6], [4, 0])],
    [81, 95, set([0, 80], [0, 81], [1, 41], [2, 21], [0, 94], [1, 46], [2, 22], [4, 4], [6, 0])],
  ])('consistencyNodes(%i, %i)', (size1, size2, want) => {
    expect(ids(consistencyNodes(size1, size2))).toEqual(want);
  });
});
