import { createHash } from 'node:crypto';

/**
 * A deliberately naive, independent transcription of the RFC 9162 §2.1 definitions over the
 * full list of leaf inputs (array slicing, own SHA-256 calls, no stored nodes). Specs compare the
 * node-based implementation against it. Not exported from the library.
 */

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
}

function k(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) */
export function naiveRoot(d: readonly Uint8Array[]): Buffer {
  const n = d.length;
  if (n === 0) return sha256();
  if (n === 1) return sha256(Uint8Array.of(0), d[0]);
  const s = k(n);
  return sha256(Uint8Array.of(1), naiveRoot(d.slice(0, s)), naiveRoot(d.slice(s)));
}

/** PATH(m, D[n]) */
export function naivePath(m: number, d: readonly Uint8Array[]): Buffer[] {
  const n = d.length;
  if (n <= 1) return [];
  const s = k(n);
  if (m < s) return [...naivePath(m, d.slice(0, s)), naiveRoot(d.slice(s))];
  return [...naivePath(m - s, d.slice(s)), naiveRoot(d.slice(0, s))];
}

/** SUBPROOF(m, D[n], b) */
function naiveSubproof(m: number, d: readonly Uint8Array[], b: boolean): Buffer[] {
  const n = d.length;
  if (m === n) return b ? [] : [naiveRoot(d)];
  const s = k(n);
  if (m <= s) return [...naiveSubproof(m, d.slice(0, s), b), naiveRoot(d.slice(s))];
  return [...naiveSubproof(m - s, d.slice(s), false), naiveRoot(d.slice(0, s))];
}

/** PROOF(m, D[n]) */
export function naiveConsistency(m: number, d: readonly Uint8Array[]): Buffer[] {
  return naiveSubproof(m, d, true);
}

/** Small deterministic PRNG (mulberry32) so randomized specs are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` distinct entries of random length and content (each starts with its index, so no two
 * leaves, and hence no two sibling subtrees, ever hash alike).
 */
export function randomEntries(count: number, seed: number): Buffer[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, (_, i) =>
    Buffer.concat([Buffer.from(`${i}:`), Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)))]),
  );
}
