import { sha256 } from './hash.util';
import { randomBytes } from './random.util';

export const BEARER_TOKEN_BYTES = 32;
/** 32 bytes in standard padded base64: 43 alphabet characters + one '='. */
const BEARER_TOKEN_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

export interface BearerToken {
  /** Handed to the client once; never stored. Standard padded base64 of 32 random bytes. */
  token: string;
  /** sha256 of the raw 32 bytes; this is what gets stored and looked up. */
  hash: Buffer;
}

export interface SecretCode {
  /** Handed out once; base64url without padding. */
  code: string;
  /** sha256 of the UTF-8 code string. */
  hash: Buffer;
}

/** New bearer token: 32 random bytes, standard padded base64, hash = sha256(raw bytes). Requires `initCrypto()`. */
export function newBearerToken(): BearerToken {
  const raw = randomBytes(BEARER_TOKEN_BYTES);
  return { token: raw.toString('base64'), hash: sha256(raw) };
}

/**
 * Hash of a presented bearer token, or null unless it is the canonical standard-base64 encoding of
 * exactly 32 bytes (Buffer's base64 decoder is lenient, so the alphabet, length and a re-encode
 * round trip are all checked). Never throws.
 */
export function hashBearerToken(token: string): Buffer | null {
  if (typeof token !== 'string' || !BEARER_TOKEN_PATTERN.test(token)) return null;
  const raw = Buffer.from(token, 'base64');
  if (raw.length !== BEARER_TOKEN_BYTES || raw.toString('base64') !== token) return null;
  return sha256(raw);
}

/** New short secret (e.g. a one-time linking code) of `bytes` random bytes, base64url without padding. Requires `initCrypto()`. */
export function newSecretCode(bytes: number): SecretCode {
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`newSecretCode: invalid length ${bytes}`);
  const code = randomBytes(bytes).toString('base64url');
  return { code, hash: hashSecretCode(code) };
}

/**
 * sha256 of the UTF-8 code string. No canonicality check is needed: codes are random and single use,
 * and a mistyped code simply hashes to a value that matches nothing.
 */
export function hashSecretCode(code: string): Buffer {
  return sha256(code);
}
