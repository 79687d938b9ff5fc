import { HASH_SIZE, nodeHash } from '@sealpost/transparency';

/**
 * Independent in-memory reference for the key-transparency bench: the leaf hashes the bench
 * itself computed (or re-derived from record bytes), held in one flat Buffer (32 bytes a leaf),
 * and after `build()` every complete perfect-subtree hash level by level (≈ 64 MiB at 10^6
 * leaves). `root(size)` follows RFC 9162 §2.1.1 directly (split at the largest power of two below
 * n) without the library's proof code, so the directory's signed root and the `fromRoot` of a
 * consistency check do not come from the code under test.
 */
export class KtReferenceTree {
  private leaves: Buffer;
  private filled: Uint8Array;
  private levels: Buffer[] = [];
  private builtSize = 0;

  constructor(capacity: number) {
    this.leaves = Buffer.alloc(capacity * HASH_SIZE);
    this.filled = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.filled.length;
  }

  /** Records the hash of leaf `index` (leaves may arrive in any order). */
  setLeaf(index: number, hash: Buffer): void {
    if (index >= this.capacity) this.grow(Math.max(index + 1, Math.ceil(this.capacity * 1.25)));
    hash.copy(this.leaves, index * HASH_SIZE);
    this.filled[index] = 1;
    this.builtSize = 0;
  }

  leaf(index: number): Buffer {
    return this.leaves.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  /** Number of leading leaves known (no gap). */
  contiguousSize(): number {
    const gap = this.filled.indexOf(0);
    return gap === -1 ? this.capacity : gap;
  }

  /** Computes every complete perfect subtree over the first `size` leaves (all must be set). */
  build(size: number): void {
    if (this.contiguousSize() < size) throw new Error(`reference tree: leaf ${this.contiguousSize()} unknown, cannot build ${size}`);
    this.levels = [this.leaves.subarray(0, size * HASH_SIZE)];
    for (let level = 1, count = Math.floor(size / 2); count >= 1; level++, count = Math.floor(count / 2)) {
      const below = this.levels[level - 1];
      const out = Buffer.alloc(count * HASH_SIZE);
      for (let j = 0; j < count; j++) {
        const left = below.subarray(2 * j * HASH_SIZE, (2 * j + 1) * HASH_SIZE);
        const right = below.subarray((2 * j + 1) * HASH_SIZE, (2 * j + 2) * HASH_SIZE);
        nodeHash(left, right).copy(out, j * HASH_SIZE);
      }
      this.levels.push(out);
    }
    this.builtSize = size;
  }

  /** Number of perfect-subtree hashes (all levels, leaves included) of a tree of `size` leaves: 2n − popcount(n). */
  static nodeCount(size: number): number {
    let ones = 0;
    for (let n = size; n > 0; n = Math.floor(n / 2)) ones += n % 2;
    return 2 * size - ones;
  }

  /** MTH(D[0:size]) (RFC 9162 §2.1.1). */
  root(size: number): Buffer {
    if (size < 1 || size > this.builtSize) throw new RangeError(`reference tree built to ${this.builtSize}, asked for root(${size})`);
    return this.mth(0, size);
  }

  private mth(start: number, n: number): Buffer {
    if ((n & (n - 1)) === 0 && n <= 2 ** 30) {
      // A perfect subtree; every left split of the RFC recursion is aligned to its own size.
      const level = Math.log2(n);
      const index = start / n;
      return this.levels[level].subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
    }
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(this.mth(start, k), this.mth(start + k, n - k));
  }

  private grow(capacity: number): void {
    const leaves = Buffer.alloc(capacity * HASH_SIZE);
    this.leaves.copy(leaves);
    const filled = new Uint8Array(capacity);
    filled.set(this.filled);
    this.leaves = leaves;
    this.filled = filled;
  }
}
