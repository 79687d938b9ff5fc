import sodium from 'libsodium-wrappers';
import { isBytes, toLocalBytes } from './bytes.util';
import { SIGNATURE_LENGTH } from './ed25519.verifier';
import { EC_PUBLIC_KEY_LENGTH, EC_PUBLIC_KEY_TYPE } from './key-formats';
import { cachedMontgomeryUToEdwardsY } from './montgomery-edwards.util';

/**
 * libsignal-compatible XEdDSA verification (rust `curve25519.rs` `verify_signature`) of a serialised
 * Signal Curve25519 public key `0x05 || u`. The Edwards public key is derived from u with the sign
 * bit carried in signature[63] bit 7, then checked with libsodium's strict Ed25519 verify.
 * Returns false for any malformed input; never throws. Requires `initCrypto()` / `CryptoModule`.
 */
export function verifyXEdDsa(curvePublicKey33: Uint8Array, message: Uint8Array, signature64: Uint8Array): boolean {
  try {
    if (!isBytes(curvePublicKey33) || !isBytes(message) || !isBytes(signature64)) return false;
    if (curvePublicKey33.length !== EC_PUBLIC_KEY_LENGTH || curvePublicKey33[0] !== EC_PUBLIC_KEY_TYPE) return false;
    if (signature64.length !== SIGNATURE_LENGTH) return false;

    const y = cachedMontgomeryUToEdwardsY(curvePublicKey33.subarray(1));
    if (y === null) return false; // u ≡ -1 (mod p): no Edwards image

    const edPublicKey = Uint8Array.from(y); // cached value is shared; copy before setting the sign bit
    edPublicKey[31] |= signature64[63] & 0x80;

    const signature = Uint8Array.from(signature64);
    signature[63] &= 0x7f;
    if ((signature[63] & 0xe0) !== 0) return false;

    return sodium.crypto_sign_verify_detached(signature, toLocalBytes(message), edPublicKey) === true;
  } catch {
    return false;
  }
}
