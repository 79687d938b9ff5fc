import { HASH_SIZE, nodeHash } from './merkle-hash.util';
import { checkedLookup, nodeKeyId, type NodeKey, type NodeLookup } from './node-key.util';
import { assertCount } from './tree-math.util';
import { recordingAlgebra, type SubtreeAlgebra } from './tree-recursion.util';

/**
 * The nodes of level ≥ 1 that become complete when leaf `leafIndex` (0-based) is appended, i.e.
 * when the tree grows to leafIndex + 1 leaves, bottom-up. Node (L, j) is complete exactly when
 * 2^L divides leafIndex + 1, with j = (leafIndex + 1) / 2^L - 1; each is
 * nodeHash((L-1, 2j), (L-1, 2j+1)), and its right child is the node completed just before it
 * (or the new leaf itself).
 */
export function nodesCompletedByAppend(leafIndex: number): NodeKey[] {
  assertCount('leafIndex', leafIndex);
  const size = leafIndex + 1;
  const out: NodeKey[] = [];
  for (let level = 1, span = 2; size % span === 0; level++, span *= 2) {
    out.push({ level, index: size / span - 1 });
  }
  return out;
}

function appendCore<T>(firstIndex: number, leaves: readonly T[], alg: SubtreeAlgebra<T>): Map<string, T> {
  const created = new Map<string, T>();
  const get = (key: NodeKey): T => {
    const id = nodeKeyId(key);
    return created.has(id) ? (created.get(id) as T) : alg.node(key);
  };
  leaves.forEach((leaf, offset) => {
    const leafIndex = firstIndex + offset;
    created.set(nodeKeyId({ level: 0, index: leafIndex }), leaf);
    for (const node of nodesCompletedByAppend(leafIndex)) {
      const left = get({ level: node.level - 1, index: node.index * 2 });
      const right = get({ level: node.level - 1, index: node.index * 2 + 1 });
      created.set(nodeKeyId(node), alg.combine(left, right));
    }
  });
  return created;
}

/**
 * Appends leaves `firstIndex, firstIndex + 1, …` (the log must hold exactly `firstIndex` leaves
 * before) and returns every node that becomes complete, level-0 leaf nodes included, keyed by
 * `${level}:${index}`. Reads from `lookup` only the older left siblings listed by
 * `appendNodes(firstIndex, leafHashes.length)`.
 */
export function appendLeaves(firstIndex: number, leafHashes: readonly Buffer[], lookup: NodeLookup): Map<string, Buffer> {
  assertCount('firstIndex', firstIndex);
  assertCount('firstIndex + count', firstIndex + leafHashes.length);
  leafHashes.forEach((hash, i) => {
    if (!Buffer.isBuffer(hash) || hash.length !== HASH_SIZE) {
      throw new TypeError(`leafHashes[${i}] is not a ${HASH_SIZE}-byte Buffer`);
    }
  });
  return appendCore<Buffer>(firstIndex, leafHashes, { node: checkedLookup(lookup), combine: nodeHash });
}

/**
 * Stored nodes `appendLeaves(firstIndex, <count leaves>)` reads: the already-complete left
 * siblings it combines with new nodes (a subset of `rootNodes(firstIndex)`, at most
 * ⌈log2 firstIndex⌉ + 1), bottom-up.
 */
export function appendNodes(firstIndex: number, count: number): NodeKey[] {
  assertCount('firstIndex', firstIndex);
  assertCount('count', count);
  assertCount('firstIndex + count', firstIndex + count);
  const rec = recordingAlgebra();
  appendCore(firstIndex, new Array<null>(count).fill(null), rec.algebra);
  return rec.keys;
}
