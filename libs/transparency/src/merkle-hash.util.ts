import { createHash } from 'node:crypto';

/** Size in bytes of every hash in the log (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);

/**
 * Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1, MTH({}) = HASH()).
 * A shared Buffer; do not mutate it (`rootHash(0, …)` returns a fresh copy).
 */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 ‖ data). Domain-separated from `nodeHash`. */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 9162 §2.1.1 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}
