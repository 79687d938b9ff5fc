import { leafHash, nodeHash } from './merkle-hash.util';
import { appendLeaves, appendNodes, nodesCompletedByAppend } from './merkle-append.util';
import { rootNodes } from './merkle-proof.util';
import { MemoryMerkleLog } from './memory-merkle-log';
import { MissingNodeError, nodeEnd, nodeKeyId, nodeLookupFromMap, parseNodeKeyId, type NodeLookup } from './node-key.util';
import { randomEntries, seededRandom } from './testing/naive-merkle';

const popcount = (n: number) => n.toString(2).replace(/0/g, '').length;
const hexMap = (m: Map<string, Buffer>) => new Map([...m].map(([id, h]) => [id, h.toString('hex')]));
const ids = (keys: { level: number; index: number }[]) => keys.map(nodeKeyId);

describe('nodesCompletedByAppend', () => {
  it('lists the nodes a new leaf completes, bottom-up', () => {
    expect(nodesCompletedByAppend(0)).toEqual([]);
    expect(ids(nodesCompletedByAppend(1))).toEqual(['1:0']);
    expect(ids(nodesCompletedByAppend(2))).toEqual([]);
    expect(ids(nodesCompletedByAppend(3))).toEqual(['1:1', '2:0']);
    expect(ids(nodesCompletedByAppend(5))).toEqual(['1:2']);
    expect(ids(nodesCompletedByAppend(7))).toEqual(['1:3', '2:1', '3:0']);
    expect(ids(nodesCompletedByAppend(11))).toEqual(['1:5', '2:2']);
    const big = nodesCompletedByAppend(2 ** 40 - 1);
    expect(big).toHaveLength(40);
    expect(big[39]).toEqual({ level: 40, index: 0 });
    expect(ids(nodesCompletedByAppend(3 * 2 ** 35 - 1)).slice(-2)).toEqual(['34:5', '35:2']);
    expect(() => nodesCompletedByAppend(-1)).toThrow(RangeError);
  });

  it('adds up to exactly the perfect nodes of the tree: 2n − popcount(n) nodes for n leaves', () => {
    const stored = new Set<string>();
    for (let i = 0; i < 300; i++) {
      stored.add(`0:${i}`);
      for (const node of nodesCompletedByAppend(i)) {
        expect(nodeEnd(node)).toBe(i + 1);
        // Children are already stored; the right child is the last thing completed.
        expect(stored.has(nodeKeyId({ level: node.level - 1, index: 2 * node.index }))).toBe(true);
        expect(stored.has(nodeKeyId({ level: node.level - 1, index: 2 * node.index + 1 }))).toBe(true);
        stored.add(nodeKeyId(node));
      }
      const n = i + 1;
      expect(stored.size).toBe(2 * n - popcount(n));
    }
    for (const id of stored) expect(nodeEnd(parseNodeKeyId(id))).toBeLessThanOrEqual(300);
  });
});

describe('appendLeaves / appendNodes', () => {
  const entries = randomEntries(200, 7);
  const hashes = entries.map(leafHash);
  const reference = new MemoryMerkleLog();
  for (const entry of entries) reference.append(entry);

  it('produces, over random batches, exactly the nodes of one-at-a-time appends', () => {
    const rand = seededRandom(99);
    for (let round = 0; round < 20; round++) {
      const nodes = new Map<string, Buffer>();
      const lookup = nodeLookupFromMap(nodes);
      let size = 0;
      while (size < hashes.length) {
        const count = Math.min(hashes.length - size, Math.floor(rand() * 40));
        const created = appendLeaves(size, hashes.slice(size, size + count), lookup);
        for (const [id, hash] of created) {
          // Written once, never rewritten, and completed by this batch.
          const end = nodeEnd(parseNodeKeyId(id));
          if (nodes.has(id) || end <= size || end > size + count) throw new Error(`unexpected node ${id}`);
          nodes.set(id, hash);
        }
        size += count;
      }
      expect(hexMap(nodes)).toEqual(hexMap(reference.entries()));
    }
  });

  it('reads from the lookup exactly the nodes appendNodes lists, a subset of rootNodes(firstIndex)', () => {
    const all = reference.entries();
    for (let first = 0; first <= 130; first++) {
      for (const count of [0, 1, 2, 3, 5, 8, 13, 64, 70]) {
        const needed = appendNodes(first, count);
        const rootIds = ids(rootNodes(first));
        for (const id of ids(needed)) expect(rootIds).toContain(id);
        const reads: string[] = [];
        const restricted = nodeLookupFromMap(new Map(needed.map((k) => [nodeKeyId(k), all.get(nodeKeyId(k)) as Buffer])));
        const lookup: NodeLookup = (key) => {
          reads.push(nodeKeyId(key));
          return restricted(key);
        };
        const created = appendLeaves(first, hashes.slice(first, first + count), lookup);
        expect(reads).toEqual(ids(needed));
        for (const [id, hash] of created) if (!hash.equals(all.get(id) as Buffer)) throw new Error(`wrong ${id}`);
        expect(created.size).toBe(2 * (first + count) - popcount(first + count) - (2 * first - popcount(first)));
      }
    }
    expect(ids(appendNodes(6, 2))).toEqual(['1:2', '2:0']);
    expect(ids(appendNodes(7, 1))).toEqual(['0:6', '1:2', '2:0']);
    expect(appendNodes(8, 1)).toEqual([]);
  });

  it('computes each new node as nodeHash(left child, right child)', () => {
    const created = appendLeaves(0, hashes.slice(0, 4), nodeLookupFromMap(new Map()));
    expect([...created.keys()]).toEqual(['0:0', '0:1', '1:0', '0:2', '0:3', '1:1', '2:0']);
    expect(created.get('2:0')).toEqual(nodeHash(nodeHash(hashes[0], hashes[1]), nodeHash(hashes[2], hashes[3])));
  });

  it('rejects malformed leaf hashes and missing older nodes', () => {
    expect(() => appendLeaves(0, [Buffer.alloc(31)], () => Buffer.alloc(32))).toThrow(TypeError);
    expect(() => appendLeaves(1, [hashes[1]], nodeLookupFromMap(new Map()))).toThrow(MissingNodeError);
    expect(() => appendLeaves(-1, [], nodeLookupFromMap(new Map()))).toThrow(RangeError);
    expect(() => appendNodes(0, -1)).toThrow(RangeError);
  });
});
