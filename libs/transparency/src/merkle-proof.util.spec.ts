import { createHash } from 'node:crypto';
import { EMPTY_ROOT, leafHash, nodeHash } from './merkle-hash.util';
import { consistencyNodes, consistencyPath, inclusionNodes, inclusionPath, rootHash, rootNodes } from './merkle-proof.util';
import { verifyConsistency, verifyInclusion } from './merkle-verify.util';
import { MemoryMerkleLog } from './memory-merkle-log';
import { MissingNodeError, nodeEnd, nodeKeyId, nodeLookupFromMap, type NodeKey, type NodeLookup } from './node-key.util';
import { naiveConsistency, naivePath, naiveRoot, randomEntries } from './testing/naive-merkle';

const MAX = 70;
const entries = randomEntries(MAX, 0x5ea1);
const log = new MemoryMerkleLog();
for (const entry of entries) log.append(entry);

const sameList = (a: readonly Buffer[], b: readonly Buffer[]) => a.length === b.length && a.every((x, i) => x.equals(b[i]));
const sameSet = (a: readonly string[], b: readonly string[]) => new Set(a).size === b.length && b.every((x) => a.includes(x));

/** A lookup that can read only `keys` (throws for anything else) and counts reads. */
function onlyThese(keys: readonly NodeKey[]): { lookup: NodeLookup; reads: string[] } {
  const reads: string[] = [];
  const inner = nodeLookupFromMap(new Map(keys.map((key) => [nodeKeyId(key), log.node(key) as Buffer])));
  return {
    reads,
    lookup: (key) => {
      reads.push(nodeKeyId(key));
      return inner(key);
    },
  };
}

/** Every node needed for size n is complete at n (so stored), and none is listed twice. */
function expectCompleteAndDistinct(keys: readonly NodeKey[], size: number): void {
  const ok = keys.every((key) => nodeEnd(key) <= size) && new Set(keys.map(nodeKeyId)).size === keys.length;
  if (!ok) throw new Error(`bad node set for size ${size}: ${keys.map(nodeKeyId).join(' ')}`);
}

function flipEach(path: readonly Buffer[]): Buffer[][] {
  return path.map((_, i) => {
    const copy = path.map((p) => Buffer.from(p));
    copy[i][i % 32] ^= 0x40;
    return copy;
  });
}

describe('node-based roots and proofs vs. the naive RFC 9162 recursion (sizes 1..70)', () => {
  const junk = leafHash(Buffer.from('junk'));

  it('roots: equal, read exactly rootNodes, one per 1-bit of the size', () => {
    expect(
      rootHash(0, () => {
        throw new Error('no reads for the empty tree');
      }),
    ).toEqual(EMPTY_ROOT);
    expect(rootNodes(0)).toEqual([]);
    for (let n = 1; n <= MAX; n++) {
      const keys = rootNodes(n);
      expectCompleteAndDistinct(keys, n);
      expect(keys).toHaveLength(n.toString(2).replace(/0/g, '').length);
      const { lookup, reads } = onlyThese(keys);
      const root = rootHash(n, lookup);
      expect(root).toEqual(naiveRoot(entries.slice(0, n)));
      expect(reads.sort()).toEqual(keys.map(nodeKeyId).sort());
      expect(log.root(n)).toEqual(root);
    }
  });

  it('inclusion: every index of every size equals PATH, verifies, and tampering fails', () => {
    const failures: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok) failures.push(what);
    };
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      const root = log.root(n);
      for (let i = 0; i < n; i++) {
        const at = `(${i}, ${n})`;
        const keys = inclusionNodes(i, n);
        expectCompleteAndDistinct(keys, n);
        const { lookup, reads } = onlyThese(keys);
        const path = inclusionPath(i, n, lookup);
        check(sameSet(reads, keys.map(nodeKeyId)), `reads ${at}`);
        check(sameList(path, naivePath(i, entries.slice(0, n))), `PATH ${at}`);
        const lh = leafHash(entries[i]);
        check(verifyInclusion(lh, i, n, path, root), `verify ${at}`);

        // Tampered leaf, root, path elements, path shape, index: all must fail.
        const bad: [string, boolean][] = [
          ['leaf', verifyInclusion(junk, i, n, path, root)],
          ['root', verifyInclusion(lh, i, n, path, junk)],
          ['appended', verifyInclusion(lh, i, n, [...path, junk], root)],
          ['prepended', verifyInclusion(lh, i, n, [junk, ...path], root)],
          ['index = size', verifyInclusion(lh, n, n, path, root)],
          ...flipEach(path).map((p, k): [string, boolean] => [`flip ${k}`, verifyInclusion(lh, i, n, p, root)]),
        ];
        if (path.length > 0) bad.push(['drop first', verifyInclusion(lh, i, n, path.slice(1), root)]);
        if (path.length > 0) bad.push(['drop last', verifyInclusion(lh, i, n, path.slice(0, -1), root)]);
        if (path.length > 1) bad.push(['reversed', verifyInclusion(lh, i, n, [...path].reverse(), root)]);
        for (const j of new Set([i - 1, i + 1, i ^ 1, i ^ 2, i ^ 4, i ^ 8, n - 1 - i, 0, n - 1])) {
          if (j !== i) bad.push([`index ${j}`, verifyInclusion(lh, j, n, path, root)]);
        }
        for (const [what, ok] of bad) check(!ok, `${what} accepted ${at}`);
        checked++;
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('consistency: every pair 1 ≤ m ≤ n equals PROOF, verifies, and tampering fails', () => {
    const failures: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok) failures.push(what);
    };
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      const root2 = log.root(n);
      for (let m = 1; m <= n; m++) {
        const at = `(${m}, ${n})`;
        const root1 = log.root(m);
        const keys = consistencyNodes(m, n);
        expectCompleteAndDistinct(keys, n);
        const { lookup, reads } = onlyThese(keys);
        const path = consistencyPath(m, n, lookup);
        check(sameSet(reads, keys.map(nodeKeyId)), `reads ${at}`);
        check(sameList(path, naiveConsistency(m, entries.slice(0, n))), `PROOF ${at}`);
        check(verifyConsistency(m, n, root1, root2, path), `verify ${at}`);
        checked++;
        const bad: [string, boolean][] = [
          ['root2', verifyConsistency(m, n, root1, junk, path)],
          ['appended', verifyConsistency(m, n, root1, root2, [...path, junk])],
        ];
        if (m === n) {
          check(path.length === 0, `non-empty ${at}`);
        } else {
          bad.push(
            ['root1', verifyConsistency(m, n, junk, root2, path)],
            ['swapped roots', verifyConsistency(m, n, root2, root1, path)],
            ['time travel', verifyConsistency(n, m, root2, root1, path)],
            ['empty path', verifyConsistency(m, n, root1, root2, [])],
            ['prepended', verifyConsistency(m, n, root1, root2, [junk, ...path])],
            ['drop last', verifyConsistency(m, n, root1, root2, path.slice(0, -1))],
            ['drop first', verifyConsistency(m, n, root1, root2, path.slice(1))],
            ...flipEach(path).map((p, k): [string, boolean] => [`flip ${k}`, verifyConsistency(m, n, root1, root2, p)]),
          );
        }
        for (const [what, ok] of bad) check(!ok, `${what} accepted ${at}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('detects a forked log: a consistency proof from a divergent log does not link the two heads', () => {
    for (const [m, n, fork] of [
      [3, 7, 1],
      [8, 13, 7],
      [31, 64, 0],
      [40, 70, 39],
    ]) {
      const forked = new MemoryMerkleLog();
      entries.slice(0, n).forEach((e, i) => forked.append(i === fork ? Buffer.from('ghost') : e));
      expect(forked.root(m).equals(log.root(m))).toBe(false);
      expect(verifyConsistency(m, n, log.root(m), forked.root(n), forked.consistencyPath(m, n))).toBe(false);
      expect(verifyConsistency(m, n, log.root(m), forked.root(n), log.consistencyPath(m, n))).toBe(false);
    }
  });

  it('answers past sizes from a grown log exactly as a log of that size would', () => {
    const small = new MemoryMerkleLog();
    for (const e of entries.slice(0, 37)) small.append(e);
    expect(log.root(37)).toEqual(small.root());
    expect(log.inclusionPath(20, 37)).toEqual(small.inclusionPath(20));
    expect(log.consistencyPath(11, 37)).toEqual(small.consistencyPath(11));
  });
});

describe('argument checks and lookup failures', () => {
  it('rejects out-of-range sizes and indices with RangeError', () => {
    const lookup = log.lookup;
    expect(() => rootHash(-1, lookup)).toThrow(RangeError);
    expect(() => rootHash(1.5, lookup)).toThrow(RangeError);
    expect(() => rootNodes(Number.NaN)).toThrow(RangeError);
    expect(() => inclusionPath(3, 3, lookup)).toThrow(RangeError);
    expect(() => inclusionNodes(0, 0)).toThrow(RangeError);
    expect(() => inclusionNodes(-1, 4)).toThrow(RangeError);
    expect(() => consistencyPath(0, 3, lookup)).toThrow(RangeError);
    expect(() => consistencyNodes(0, 0)).toThrow(RangeError);
    expect(() => consistencyNodes(5, 4)).toThrow(RangeError);
  });

  it('propagates MissingNodeError and refuses malformed stored hashes', () => {
    expect(() => rootHash(5, nodeLookupFromMap(new Map()))).toThrow(MissingNodeError);
    expect(() => rootHash(5, (() => undefined) as unknown as NodeLookup)).toThrow(MissingNodeError);
    expect(() => inclusionPath(0, 5, () => Buffer.alloc(31))).toThrow(TypeError);
    try {
      consistencyPath(3, 9, nodeLookupFromMap(new Map()));
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(MissingNodeError);
      expect(consistencyNodes(3, 9).map(nodeKeyId)).toContain(nodeKeyId((err as MissingNodeError).key));
    }
  });
});

describe('large trees', () => {
  /**
   * A tree whose leaves are all equal has node(L, i) = h_L for every i, so it can be "stored" for
   * any size without building it, and its proofs still verify.
   */
  const levelHash: Buffer[] = [leafHash(Buffer.from('same'))];
  for (let l = 1; l <= 60; l++) levelHash.push(nodeHash(levelHash[l - 1], levelHash[l - 1]));
  let reads = 0;
  const uniform: NodeLookup = (key) => {
    reads++;
    return levelHash[key.level];
  };
  const uniformRoot = (n: number) => rootHash(n, uniform);

  it('needs O(log n) nodes at 10^6 leaves', () => {
    const n = 10 ** 6;
    expect(rootNodes(n).length).toBeLessThanOrEqual(20);
    let maxInclusion = 0;
    let maxConsistency = 0;
    for (let i = 0; i < n; i += 997) maxInclusion = Math.max(maxInclusion, inclusionNodes(i, n).length);
    for (const i of [0, 1, 2, 3, n - 3, n - 2, n - 1, 524287, 524288, 786431, 999423]) {
      maxInclusion = Math.max(maxInclusion, inclusionNodes(i, n).length);
    }
    for (let a = 1; a <= n; a += 991) maxConsistency = Math.max(maxConsistency, consistencyNodes(a, n).length);
    for (const a of [1, 2, 3, 524287, 524288, 524289, 999999, n]) {
      maxConsistency = Math.max(maxConsistency, consistencyNodes(a, n).length);
    }
    expect(maxInclusion).toBeLessThanOrEqual(40);
    expect(maxConsistency).toBeLessThanOrEqual(60);
  });

  it('computes and verifies proofs at 10^6 and beyond 2^32 leaves with few reads', () => {
    for (const n of [10 ** 6, 10 ** 6 + 1, 2 ** 32 + 3, 2 ** 40 + 2 ** 39 + 5, 2 ** 52 + 12345]) {
      const root = uniformRoot(n);
      for (const i of [0, 1, Math.floor(n / 3), n - 2, n - 1]) {
        reads = 0;
        const path = inclusionPath(i, n, uniform);
        expect(reads).toBe(inclusionNodes(i, n).length);
        expect(path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusion(levelHash[0], i, n, path, root)).toBe(true);
      }
      for (const m of [1, 2, 3, Math.floor(n / 3), n - 1]) {
        reads = 0;
        const path = consistencyPath(m, n, uniform);
        expect(reads).toBe(consistencyNodes(m, n).length);
        expect(verifyConsistency(m, n, uniformRoot(m), root, path)).toBe(true);
      }
    }
  });

  it('does exact arithmetic above 2^31', () => {
    expect(rootNodes(2 ** 40 + 5)).toEqual([
      { level: 40, index: 0 },
      { level: 2, index: 2 ** 38 },
      { level: 0, index: 2 ** 40 + 4 },
    ]);
    expect(inclusionNodes(2 ** 33, 2 ** 33 + 1)).toEqual([{ level: 33, index: 0 }]);
  });

  it('matches a direct SHA-256 transcription for a uniform tree of size 3', () => {
    const l = levelHash[0];
    const sha = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
    const expected = sha(Buffer.of(1), sha(Buffer.of(1), l, l), l);
    expect(uniformRoot(3)).toEqual(expected);
  });
});
