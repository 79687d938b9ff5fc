import { toHex } from './bytes.util';

/** p = 2^255 - 19, the Curve25519 / Ed25519 field prime. */
export const FIELD_PRIME = (1n << 255n) - 19n;
const P_MINUS_2 = FIELD_PRIME - 2n;
const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Reads 32 little-endian bytes as an unsigned integer. */
export function bytesToBigIntLE(bytes: Uint8Array): bigint {
  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i--) hex += BYTE_HEX[bytes[i]];
  return hex.length === 0 ? 0n : BigInt('0x' + hex);
}

/** Writes `value` (0 <= value < 2^256) as 32 little-endian bytes. */
export function bigIntToBytesLE32(value: bigint): Uint8Array {
  const hex = value.toString(16).padStart(64, '0');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(62 - 2 * i, 64 - 2 * i), 16);
  return out;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/**
 * Birational map from a Curve25519 Montgomery u-coordinate (32 bytes, little-endian) to the
 * Ed25519 y-coordinate, exactly as curve25519-dalek's `MontgomeryPoint::to_edwards` used by
 * libsignal: the top bit of byte 31 is ignored, u is reduced mod p, y = (u - 1) / (u + 1).
 * Returns the canonical 32-byte little-endian y with the sign bit (bit 255) clear, or null when
 * u ≡ -1 (mod p), which has no Edwards image. Inversion is u^(p-2) (Fermat); not constant time,
 * which is fine because only public keys pass through here.
 */
export function montgomeryUToEdwardsY(u32: Uint8Array): Uint8Array | null {
  if (u32.length !== 32) return null;
  const masked = Uint8Array.from(u32);
  masked[31] &= 0x7f;
  const u = bytesToBigIntLE(masked) % FIELD_PRIME;
  const denominator = (u + 1n) % FIELD_PRIME;
  if (denominator === 0n) return null;
  const numerator = (u - 1n + FIELD_PRIME) % FIELD_PRIME;
  const y = (numerator * modPow(denominator, P_MINUS_2, FIELD_PRIME)) % FIELD_PRIME;
  return bigIntToBytesLE32(y);
}

/** Max entries of the Montgomery→Edwards cache (≈ 10k × ~150 B ≈ 1.5 MB worst case). */
export const EDWARDS_Y_CACHE_MAX = 10_000;
const edwardsYCache = new Map<string, Uint8Array | null>();

/**
 * `montgomeryUToEdwardsY` behind a small bounded LRU keyed by the hex of the 32 input bytes.
 * Identity keys are long lived and verified repeatedly, and the BigInt inversion costs more than
 * the libsodium verify itself (see docs/CRYPTO.md). Callers must not mutate the returned array.
 */
export function cachedMontgomeryUToEdwardsY(u32: Uint8Array): Uint8Array | null {
  const key = toHex(u32);
  const hit = edwardsYCache.get(key);
  if (hit !== undefined) {
    edwardsYCache.delete(key); // refresh recency: Map iterates in insertion order
    edwardsYCache.set(key, hit);
    return hit;
  }
  const y = montgomeryUToEdwardsY(u32);
  if (edwardsYCache.size >= EDWARDS_Y_CACHE_MAX) {
    const oldest = edwardsYCache.keys().next().value;
    if (oldest !== undefined) edwardsYCache.delete(oldest);
  }
  edwardsYCache.set(key, y);
  return y;
}

/** Empties the conversion cache (tests and benchmarks). */
export function clearEdwardsYCache(): void {
  edwardsYCache.clear();
}

/** Current number of cached conversions (tests). */
export function edwardsYCacheSize(): number {
  return edwardsYCache.size;
}
