import { createHash } from 'node:crypto';

/**
 * SHA-256 via node:crypto (OpenSSL, native, SHA-NI where available). Chosen over libsodium's
 * `crypto_hash_sha256` because it needs no `sodium.ready`, hashes strings as UTF-8 without an extra
 * copy into the WASM heap, and returns a Buffer directly (the shape the DB layer stores).
 */
export function sha256(data: Uint8Array | string): Buffer {
  const hash = createHash('sha256');
  if (typeof data === 'string') hash.update(data, 'utf8');
  else hash.update(data);
  return hash.digest();
}
