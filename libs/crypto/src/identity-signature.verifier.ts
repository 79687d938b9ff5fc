import { ED25519_PUBLIC_KEY_LENGTH, verifyEd25519 } from './ed25519.verifier';
import { EC_PUBLIC_KEY_LENGTH, EC_PUBLIC_KEY_TYPE } from './key-formats';
import { isBytes } from './bytes.util';
import { verifyXEdDsa } from './xeddsa.verifier';

export type IdentityKeyKind = 'curve25519' | 'ed25519';

/** 33 bytes starting 0x05 → 'curve25519' (Signal identity key); 32 bytes → 'ed25519'; else null. */
export function identityKeyKind(bytes: Uint8Array): IdentityKeyKind | null {
  if (!isBytes(bytes)) return null;
  if (bytes.length === EC_PUBLIC_KEY_LENGTH && bytes[0] === EC_PUBLIC_KEY_TYPE) return 'curve25519';
  if (bytes.length === ED25519_PUBLIC_KEY_LENGTH) return 'ed25519';
  return null;
}

/** Verifies `signature` over `message` with XEdDSA or Ed25519 depending on the identity key's form. Never throws. */
export function verifyIdentitySignature(identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  switch (identityKeyKind(identityKey)) {
    case 'curve25519':
      return verifyXEdDsa(identityKey, message, signature);
    case 'ed25519':
      return verifyEd25519(identityKey, message, signature);
    default:
      return false;
  }
}
