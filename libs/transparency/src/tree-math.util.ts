/**
 * Integer helpers for tree sizes and indices. Plain arithmetic, not bitwise operators, so sizes
 * and indices are exact up to Number.MAX_SAFE_INTEGER rather than 2^31.
 */

export function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

export function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** log2 of a power of two. */
export function log2Exact(n: number): number {
  let level = 0;
  while (n > 1) {
    n /= 2;
    level++;
  }
  return level;
}

/** The largest power of two strictly less than n (n ≥ 2): the RFC 9162 split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** floor(x / 2): a right shift that stays exact above 2^31. */
export function half(x: number): number {
  return Math.floor(x / 2);
}

export function isOdd(x: number): boolean {
  return x % 2 === 1;
}
