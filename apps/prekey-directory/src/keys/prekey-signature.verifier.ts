import { ApiError } from '@sealpost/http';
import { ValidationError } from '@sealpost/contracts';
import type { OneTimePreKey, SignedKey } from '@sealpost/contracts';
import { isEcPublicKey, isKemPublicKey, verifyIdentitySignature } from '@sealpost/crypto';

export interface KeysToCheck {
  signedPreKey?: SignedKey;
  pqLastResortPreKey?: SignedKey;
  preKeys?: OneTimePreKey[];
  pqPreKeys?: SignedKey[];
}

/**
 * Checks key formats (400) and that every signed key is signed by the account identity key (422):
 * XEdDSA for Curve25519 identity keys, Ed25519 for Ed25519 ones, over the serialised public key.
 * `at` prefixes the field names in error messages (e.g. `devices[1].`).
 */
export function assertKeysSignedByIdentity(identityKey: Buffer, keys: KeysToCheck, at = ''): void {
  if (keys.signedPreKey) {
    checkEcFormat(keys.signedPreKey.publicKey, `${at}signedPreKey.publicKey`);
    checkSignature(identityKey, keys.signedPreKey, `${at}signedPreKey`);
  }
  if (keys.pqLastResortPreKey) {
    checkKemFormat(keys.pqLastResortPreKey.publicKey, `${at}pqLastResortPreKey.publicKey`);
    checkSignature(identityKey, keys.pqLastResortPreKey, `${at}pqLastResortPreKey`);
  }
  keys.preKeys?.forEach((key, i) => checkEcFormat(key.publicKey, `${at}preKeys[${i}].publicKey`));
  keys.pqPreKeys?.forEach((key, i) => {
    checkKemFormat(key.publicKey, `${at}pqPreKeys[${i}].publicKey`);
    checkSignature(identityKey, key, `${at}pqPreKeys[${i}]`);
  });
}

function checkEcFormat(publicKey: Buffer, field: string): void {
  if (!isEcPublicKey(publicKey)) throw new ValidationError(field, 'must be a 33-byte Curve25519 key with type byte 0x05');
}

function checkKemFormat(publicKey: Buffer, field: string): void {
  if (!isKemPublicKey(publicKey)) throw new ValidationError(field, 'must be a serialised KEM public key of a known type');
}

function checkSignature(identityKey: Buffer, key: SignedKey, field: string): void {
  if (!verifyIdentitySignature(identityKey, key.publicKey, key.signature)) {
    throw new ApiError(422, 'invalid_signature', `${field}.signature does not verify against the account identity key`);
  }
}
