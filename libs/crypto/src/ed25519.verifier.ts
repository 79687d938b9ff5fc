import sodium from 'libsodium-wrappers';
import { isBytes, toLocalBytes } from './bytes.util';

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/**
 * Strict Ed25519 verification with libsodium (`crypto_sign_verify_detached`): rejects
 * non-canonical S, small-order A/R and non-canonical A. Returns false on bad input, never throws.
 * Requires `initCrypto()` / `CryptoModule`.
 */
export function verifyEd25519(publicKey32: Uint8Array, message: Uint8Array, signature64: Uint8Array): boolean {
  try {
    if (!isBytes(publicKey32) || !isBytes(message) || !isBytes(signature64)) return false;
    if (publicKey32.length !== ED25519_PUBLIC_KEY_LENGTH || signature64.length !== SIGNATURE_LENGTH) return false;
    return sodium.crypto_sign_verify_detached(toLocalBytes(signature64), toLocalBytes(message), toLocalBytes(publicKey32)) === true;
  } catch {
    return false;
  }
}
