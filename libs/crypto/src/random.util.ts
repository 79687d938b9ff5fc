import { timingSafeEqual } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { isBytes } from './bytes.util';

/** `n` cryptographically secure random bytes from libsodium (`randombytes_buf`). Requires `initCrypto()`. */
export function randomBytes(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`randomBytes: invalid length ${n}`);
  if (n === 0) return Buffer.alloc(0);
  const bytes = sodium.randombytes_buf(n);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Constant-time comparison (node:crypto `timingSafeEqual`, works without `sodium.ready`).
 * Different lengths return false immediately — the length itself is not treated as secret.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (!isBytes(a) || !isBytes(b) || a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
