import { MAX_KEY_ID } from './address';
import { ValidationError, optional, rejectUnknownFields, requireArray, requireBase64, requireInt, requireObject } from './validation';

/** Serialised Curve25519 public key: type byte 0x05 + 32 bytes. */
export const EC_KEY_BYTES = 33;
/** Serialised KEM public keys (Kyber / ML-KEM) are large; the exact type and length are checked by the directory. */
export const KEM_KEY_MAX_BYTES = 2048;
export const SIGNATURE_BYTES = 64;

export interface OneTimePreKey {
  keyId: number;
  publicKey: Buffer;
}

/** A prekey signed by the account identity key: signed EC prekeys and all PQ prekeys. */
export interface SignedKey {
  keyId: number;
  publicKey: Buffer;
  signature: Buffer;
}

export type PreKeyKind = 'ec' | 'pq';

export function parseSignedKey(value: unknown, field: string, kind: PreKeyKind): SignedKey {
  const obj = requireObject(value, field);
  rejectUnknownFields(obj, ['keyId', 'publicKey', 'signature'], field);
  return {
    keyId: requireInt(obj.keyId, `${field}.keyId`, 0, MAX_KEY_ID),
    publicKey: parsePublicKey(obj.publicKey, `${field}.publicKey`, kind),
    signature: requireBase64(obj.signature, `${field}.signature`, SIGNATURE_BYTES, SIGNATURE_BYTES),
  };
}

export function parseOneTimePreKey(value: unknown, field: string): OneTimePreKey {
  const obj = requireObject(value, field);
  rejectUnknownFields(obj, ['keyId', 'publicKey'], field);
  return {
    keyId: requireInt(obj.keyId, `${field}.keyId`, 0, MAX_KEY_ID),
    publicKey: parsePublicKey(obj.publicKey, `${field}.publicKey`, 'ec'),
  };
}

function parsePublicKey(value: unknown, field: string, kind: PreKeyKind): Buffer {
  return kind === 'ec' ? requireBase64(value, field, EC_KEY_BYTES, EC_KEY_BYTES) : requireBase64(value, field, 2, KEM_KEY_MAX_BYTES);
}

/** Parses a list of keys and refuses duplicate key ids inside it. */
export function parseKeyList<T extends { keyId: number }>(
  value: unknown,
  field: string,
  maxItems: number,
  parseItem: (v: unknown, f: string) => T,
): T[] | undefined {
  const list = optional(value, (v) => requireArray(v, field, maxItems));
  if (!list) return undefined;
  const parsed = list.map((item, i) => parseItem(item, `${field}[${i}]`));
  const seen = new Set<number>();
  for (const key of parsed) {
    if (seen.has(key.keyId)) throw new ValidationError(field, `key id ${key.keyId} appears twice`);
    seen.add(key.keyId);
  }
  return parsed;
}

/** What a device publishes about itself: at registration, at linking and on upload. */
export interface DeviceKeys {
  signedPreKey: SignedKey;
  pqLastResortPreKey: SignedKey;
  preKeys: OneTimePreKey[];
  pqPreKeys: SignedKey[];
}

export function parseDeviceKeyFields(obj: Record<string, unknown>, maxPerUpload: number): DeviceKeys {
  if (obj.signedPreKey === undefined) throw new ValidationError('signedPreKey', 'is required');
  if (obj.pqLastResortPreKey === undefined) throw new ValidationError('pqLastResortPreKey', 'is required');
  return {
    signedPreKey: parseSignedKey(obj.signedPreKey, 'signedPreKey', 'ec'),
    pqLastResortPreKey: parseSignedKey(obj.pqLastResortPreKey, 'pqLastResortPreKey', 'pq'),
    preKeys: parseKeyList(obj.preKeys, 'preKeys', maxPerUpload, parseOneTimePreKey) ?? [],
    pqPreKeys: parseKeyList(obj.pqPreKeys, 'pqPreKeys', maxPerUpload, (v, f) => parseSignedKey(v, f, 'pq')) ?? [],
  };
}
