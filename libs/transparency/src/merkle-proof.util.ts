import { EMPTY_ROOT, nodeHash } from './merkle-hash.util';
import { checkedLookup, type NodeKey, type NodeLookup } from './node-key.util';
import { assertCount } from './tree-math.util';
import { inclusionPathOf, recordingAlgebra, subproofOf, subtreeRoot, type SubtreeAlgebra } from './tree-recursion.util';

/**
 * Roots and proofs of a log stored as perfect-subtree node hashes. Each function comes in two
 * forms: `xxxNodes(...)` lists (deduplicated, no I/O) the stored nodes needed, so a caller can
 * fetch them all in one query; `xxx(..., lookup)` computes the answer from those nodes. All read
 * O(log n) nodes: a root ≤ ⌈log2 n⌉ + 1 nodes, an inclusion path ≤ 2⌈log2 n⌉, a consistency
 * proof ≤ 2⌈log2 n⌉ + 1. Every node needed for tree size n is complete at size n, so a log that
 * has grown past n still answers for n from the same stored nodes.
 */

function hashingAlgebra(lookup: NodeLookup): SubtreeAlgebra<Buffer> {
  return { node: checkedLookup(lookup), combine: nodeHash };
}

function assertInclusionArgs(leafIndex: number, treeSize: number): void {
  assertCount('leafIndex', leafIndex);
  assertCount('treeSize', treeSize);
  if (leafIndex >= treeSize) throw new RangeError(`leafIndex ${leafIndex} is not below treeSize ${treeSize}`);
}

function assertConsistencyArgs(fromSize: number, toSize: number): void {
  assertCount('fromSize', fromSize);
  assertCount('toSize', toSize);
  if (fromSize < 1) throw new RangeError('fromSize must be at least 1 (every tree is consistent with the empty tree)');
  if (fromSize > toSize) throw new RangeError(`fromSize ${fromSize} is greater than toSize ${toSize}`);
}

/** MTH of the first `treeSize` leaves (RFC 9162 §2.1.1). EMPTY_ROOT (a copy) for size 0. */
export function rootHash(treeSize: number, lookup: NodeLookup): Buffer {
  assertCount('treeSize', treeSize);
  if (treeSize === 0) return Buffer.from(EMPTY_ROOT);
  return subtreeRoot(0, treeSize, hashingAlgebra(lookup));
}

/** Stored nodes `rootHash(treeSize)` reads: the perfect subtrees of the binary decomposition of treeSize, left to right. */
export function rootNodes(treeSize: number): NodeKey[] {
  assertCount('treeSize', treeSize);
  if (treeSize === 0) return [];
  const rec = recordingAlgebra();
  subtreeRoot(0, treeSize, rec.algebra);
  return rec.keys;
}

/** RFC 9162 §2.1.3.1 inclusion path (audit path) of leaf `leafIndex` in the tree of size `treeSize`, from the leaf's sibling upward. */
export function inclusionPath(leafIndex: number, treeSize: number, lookup: NodeLookup): Buffer[] {
  assertInclusionArgs(leafIndex, treeSize);
  const out: Buffer[] = [];
  inclusionPathOf(leafIndex, 0, treeSize, hashingAlgebra(lookup), out);
  return out;
}

/** Stored nodes `inclusionPath(leafIndex, treeSize)` reads. */
export function inclusionNodes(leafIndex: number, treeSize: number): NodeKey[] {
  assertInclusionArgs(leafIndex, treeSize);
  const rec = recordingAlgebra();
  inclusionPathOf(leafIndex, 0, treeSize, rec.algebra, []);
  return rec.keys;
}

/**
 * RFC 9162 §2.1.4.1 consistency proof PROOF(fromSize, D[toSize]) = SUBPROOF(fromSize, D[toSize], true).
 * Empty when fromSize == toSize. Requires 1 ≤ fromSize ≤ toSize.
 */
export function consistencyPath(fromSize: number, toSize: number, lookup: NodeLookup): Buffer[] {
  assertConsistencyArgs(fromSize, toSize);
  const out: Buffer[] = [];
  subproofOf(fromSize, 0, toSize, true, hashingAlgebra(lookup), out);
  return out;
}

/** Stored nodes `consistencyPath(fromSize, toSize)` reads. */
export function consistencyNodes(fromSize: number, toSize: number): NodeKey[] {
  assertConsistencyArgs(fromSize, toSize);
  const rec = recordingAlgebra();
  subproofOf(fromSize, 0, toSize, true, rec.algebra, []);
  return rec.keys;
}
