import { isBytes } from './bytes.util';

/** libsignal `PublicKey` type byte for Curve25519 (DJB) keys. */
export const EC_PUBLIC_KEY_TYPE = 0x05;
/** Serialised libsignal Curve25519 public key: type byte followed by 32 bytes of little-endian u. */
export const EC_PUBLIC_KEY_LENGTH = 33;

/** libsignal `kem::KeyType::Kyber1024`: 1-byte type + 1568-byte (ML-)KEM-1024 encapsulation key. */
export const KEM_KEY_TYPE_KYBER1024 = 0x08;
/**
 * libsignal `kem::KeyType::MLKEM1024` exists in the Rust sources only behind the `mlkem1024` cargo
 * feature. The shipped @signalapp/libsignal-client (0.103.0) rejects it
 * (`KEMPublicKey.deserialize` → "bad KEM key type <0x0a>"), so it is deliberately NOT in
 * `KEM_PUBLIC_KEY_TYPES`: storing such a key would hand peers a prekey bundle they cannot use.
 */
export const KEM_KEY_TYPE_MLKEM1024 = 0x0a;

/** Accepted KEM public key type byte → exact serialised length (type byte included). */
export const KEM_PUBLIC_KEY_TYPES: ReadonlyMap<number, number> = new Map([[KEM_KEY_TYPE_KYBER1024, 1 + 1568]]);

/** True for a 33-byte serialised libsignal Curve25519 public key (`0x05 || u`). Structural check only. */
export function isEcPublicKey(bytes: Uint8Array): boolean {
  return isBytes(bytes) && bytes.length === EC_PUBLIC_KEY_LENGTH && bytes[0] === EC_PUBLIC_KEY_TYPE;
}

/** True when the type byte is an accepted KEM type and the total length matches it exactly. */
export function isKemPublicKey(bytes: Uint8Array): boolean {
  if (!isBytes(bytes) || bytes.length === 0) return false;
  const expected = KEM_PUBLIC_KEY_TYPES.get(bytes[0]);
  return expected !== undefined && bytes.length === expected;
}
