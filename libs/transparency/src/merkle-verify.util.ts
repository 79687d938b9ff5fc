import { HASH_SIZE, nodeHash } from './merkle-hash.util';
import { half, isCount, isOdd, isPowerOfTwo } from './tree-math.util';

/**
 * Client-side proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2). Needs no stored nodes. Never
 * throws: malformed input (bad sizes, hashes that are not 32 bytes) simply fails verification.
 */

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return isHash(a) && isHash(b) && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/**
 * RFC 9162 §2.1.3.2: does `path` prove that `leafHash` is leaf `leafIndex` of the tree of size
 * `treeSize` with root `root`?
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  leafIndex: number,
  treeSize: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isCount(leafIndex) || !isCount(treeSize) || !Array.isArray(path)) return false;
  if (!isHash(leafHash) || !isHash(root) || !path.every(isHash)) return false;
  // 1. If leaf_index >= tree_size, fail.
  if (leafIndex >= treeSize) return false;
  // 2.-3.
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Uint8Array = leafHash;
  // 4.
  for (const p of path) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  return sn === 0 && sameHash(r, root);
}

/**
 * RFC 9162 §2.1.4.2: does `path` prove that the tree of size `fromSize` with root `fromRoot` is a
 * prefix of the tree of size `toSize` with root `toRoot`?
 *
 * Edge cases (outside the RFC's 0 < first < second): fromSize > toSize fails; fromSize == toSize
 * holds iff the path is empty and the roots are equal; fromSize == 0 < toSize holds iff the path
 * is empty (the empty tree is a prefix of every tree).
 */
export function verifyConsistency(
  fromSize: number,
  toSize: number,
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
  path: readonly Uint8Array[],
): boolean {
  if (!isCount(fromSize) || !isCount(toSize) || !Array.isArray(path)) return false;
  if (fromSize > toSize) return false;
  if (fromSize === toSize) return path.length === 0 && sameHash(fromRoot, toRoot);
  if (fromSize === 0) return path.length === 0;
  if (!isHash(fromRoot) || !isHash(toRoot) || !path.every(isHash)) return false;

  // 1. An empty consistency path fails.
  if (path.length === 0) return false;
  // 2. If first is an exact power of 2, prepend first_hash.
  const proof: readonly Uint8Array[] = isPowerOfTwo(fromSize) ? [fromRoot, ...path] : path;
  // 3.
  let fn = fromSize - 1;
  let sn = toSize - 1;
  // 4.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  let fr: Uint8Array = proof[0];
  let sr: Uint8Array = proof[0];
  // 6.
  for (let i = 1; i < proof.length; i++) {
    const c = proof[i];
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 7.
  return sn === 0 && sameHash(fr, fromRoot) && sameHash(sr, toRoot);
}
