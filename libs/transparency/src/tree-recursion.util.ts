import { nodeKeyId, type NodeKey } from './node-key.util';
import { isPowerOfTwo, log2Exact, splitPoint } from './tree-math.util';

/**
 * The RFC 9162 recursions (MTH, PATH, SUBPROOF), written once over an abstract "algebra" so the
 * same code either hashes stored nodes (T = Buffer) or only records which stored nodes it would
 * read (T = null). The *Nodes functions are the second use of exactly the recursion the proofs
 * run, so the set of nodes a caller prefetches can never disagree with the set a proof reads.
 *
 * Ranges are [start, start + size) over leaf indices. Every range these recursions visit is
 * aligned to the next power of two ≥ its size (the root starts at 0; a left part of size k starts
 * at a multiple of 2k; a right part of size ≤ k starts at a multiple of k), so a power-of-two
 * range is always exactly one perfect stored node.
 */
export interface SubtreeAlgebra<T> {
  /** The value of one stored perfect node. */
  node(key: NodeKey): T;
  /** The value of an interior node from its children: nodeHash(left, right). */
  combine(left: T, right: T): T;
}

/** MTH(D[start : start + size]), size ≥ 1. Reads ≤ ⌈log2 size⌉ + 1 stored nodes. */
export function subtreeRoot<T>(start: number, size: number, alg: SubtreeAlgebra<T>): T {
  if (isPowerOfTwo(size)) {
    if (start % size !== 0) throw new Error(`internal: unaligned subtree [${start}, ${start + size})`);
    return alg.node({ level: log2Exact(size), index: start / size });
  }
  const k = splitPoint(size);
  const left = subtreeRoot(start, k, alg);
  const right = subtreeRoot(start + k, size - k, alg);
  return alg.combine(left, right);
}

/**
 * RFC 9162 §2.1.3.1 PATH(m, D[start : start + size]) for the leaf at offset m (0 ≤ m < size),
 * appended to `out` from the leaf's sibling upward.
 *
 *   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])        for m < k
 *   PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])    for m ≥ k
 */
export function inclusionPathOf<T>(m: number, start: number, size: number, alg: SubtreeAlgebra<T>, out: T[]): void {
  if (size === 1) return;
  const k = splitPoint(size);
  if (m < k) {
    inclusionPathOf(m, start, k, alg, out);
    out.push(subtreeRoot(start + k, size - k, alg));
  } else {
    inclusionPathOf(m - k, start + k, size - k, alg, out);
    out.push(subtreeRoot(start, k, alg));
  }
}

/**
 * RFC 9162 §2.1.4.1 SUBPROOF(m, D[start : start + size], b), 1 ≤ m ≤ size, appended to `out`.
 *
 *   SUBPROOF(m, D[m], true)  = {}
 *   SUBPROOF(m, D[m], false) = {MTH(D[m])}
 *   SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])           for m ≤ k
 *   SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])   for m > k
 */
export function subproofOf<T>(m: number, start: number, size: number, b: boolean, alg: SubtreeAlgebra<T>, out: T[]): void {
  if (m === size) {
    if (!b) out.push(subtreeRoot(start, size, alg));
    return;
  }
  const k = splitPoint(size);
  if (m <= k) {
    subproofOf(m, start, k, b, alg, out);
    out.push(subtreeRoot(start + k, size - k, alg));
  } else {
    subproofOf(m - k, start + k, size - k, false, alg, out);
    out.push(subtreeRoot(start, k, alg));
  }
}

/** An algebra that hashes nothing and records each distinct node read, in first-read order. */
export function recordingAlgebra(): { algebra: SubtreeAlgebra<null>; keys: NodeKey[] } {
  const seen = new Set<string>();
  const keys: NodeKey[] = [];
  const algebra: SubtreeAlgebra<null> = {
    node(key) {
      const id = nodeKeyId(key);
      if (!seen.has(id)) {
        seen.add(id);
        keys.push({ level: key.level, index: key.index });
      }
      return null;
    },
    combine: () => null,
  };
  return { algebra, keys };
}
