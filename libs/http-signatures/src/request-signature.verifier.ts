import { verifyEd25519 } from '@sealpost/crypto';
import { utf8 } from './bytes.util';
import { SIGNATURE_ALGORITHM } from './http-signature.constants';
import type { ParsedSignature, SignedRequestParts } from './http-signature.types';
import { signatureBase } from './signature-base.util';

/**
 * Checks the cryptography only. It rebuilds the signature base from `parsed.components` and
 * `parsed.params` over the received request, then verifies the Ed25519 signature with the 32-byte
 * public key, using libsodium's strict `verifyEd25519`. Returns false (never throws) if `alg` is
 * present and not `"ed25519"`, if a covered header is missing, if a component cannot be resolved,
 * if a key or signature has the wrong length, or if the signature does not verify. Without
 * `initCrypto()` it returns false.
 *
 * This does not check policy: which components must be covered, the created/expires window, whether
 * keyid names this key, or replays. Use `checkSignaturePolicy` and your own key lookup and replay
 * cache for those. The body is covered only through Content-Digest, so also call
 * `verifyContentDigest` on the raw body.
 */
export function verifyRequestSignature(parts: SignedRequestParts, parsed: ParsedSignature, publicKey: Uint8Array): boolean {
  try {
    if (parsed === null || typeof parsed !== 'object') return false;
    if (parsed.params.alg !== undefined && parsed.params.alg !== SIGNATURE_ALGORITHM) return false;
    const base = signatureBase(parts, parsed.components, parsed.params);
    return verifyEd25519(publicKey, utf8(base), parsed.signature);
  } catch {
    return false;
  }
}
