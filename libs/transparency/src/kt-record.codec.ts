import { canonicalJson } from '@sealpost/crypto';

/**
 * One leaf of the key-transparency log: an account's device list at one version. Encoded as
 * canonical JSON (sorted keys, no whitespace, devices sorted by id) — the exact bytes hashed.
 */
export interface KtRecord {
  address: string;
  version: number;
  /** Base64 of the account identity key. */
  identityKey: string;
  devices: { deviceId: number; registrationId: number }[];
  /** Base64 leaf hash of the previous record of this address, or null for version 1. */
  prevHash: string | null;
  timestamp: number;
}

export function encodeKtRecord(record: KtRecord): Buffer {
  const devices = [...record.devices]
    .sort((a, b) => a.deviceId - b.deviceId)
    .map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId }));
  return Buffer.from(canonicalJson({ ...record, devices }), 'utf8');
}

/** Parses record bytes; null unless they are exactly the canonical encoding of a well-formed record. */
export function decodeKtRecord(bytes: Uint8Array): KtRecord | null {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as KtRecord;
    if (
      typeof value.address !== 'string' ||
      !Number.isInteger(value.version) ||
      typeof value.identityKey !== 'string' ||
      !Array.isArray(value.devices)
    )
      return null;
    return encodeKtRecord(value).equals(Buffer.from(bytes)) ? value : null;
  } catch {
    return null;
  }
}
