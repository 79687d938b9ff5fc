/**
 * Realm-independent Uint8Array check (Buffers included). `instanceof` fails for arrays created in
 * another VM context (e.g. values produced outside Jest's sandbox), so the tag is used instead.
 */
export function isBytes(value: unknown): value is Uint8Array {
  return Object.prototype.toString.call(value) === '[object Uint8Array]';
}

/** Returns `value` if it is a Uint8Array of this realm, otherwise a same-realm copy (libsodium checks `instanceof`). */
export function toLocalBytes(value: Uint8Array): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

/** Lower-case hex of `bytes` (no prefix). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
