import { LOCALPART_PATTERN, MAX_DEVICE_ID } from './address';
import { DeviceKeys, OneTimePreKey, SignedKey, parseDeviceKeyFields, parseKeyList, parseOneTimePreKey, parseSignedKey } from './prekeys';
import {
  ValidationError,
  optional,
  rejectUnknownFields,
  requireArray,
  requireBase64,
  requireInt,
  requireObject,
  requireString,
} from './validation';

/** libsignal registration ids are 14-bit. */
export const MAX_REGISTRATION_ID = 0x3fff;
export const UNIDENTIFIED_ACCESS_KEY_BYTES = 16;

export interface RegisterAccountRequest extends DeviceKeys {
  localpart: string;
  registrationToken?: string;
  identityKey: Buffer;
  registrationId: number;
  unidentifiedAccessKey?: Buffer;
}

export function parseRegisterAccountRequest(body: unknown, maxPerUpload: number): RegisterAccountRequest {
  const obj = requireObject(body, 'body');
  rejectUnknownFields(
    obj,
    [
      'localpart',
      'registrationToken',
      'identityKey',
      'registrationId',
      'signedPreKey',
      'pqLastResortPreKey',
      'preKeys',
      'pqPreKeys',
      'unidentifiedAccessKey',
    ],
    '',
  );
  return {
    localpart: requireString(obj.localpart, 'localpart', LOCALPART_PATTERN, '1 to 64 characters of [a-z0-9._-]'),
    registrationToken: optional(obj.registrationToken, (v) =>
      requireString(v, 'registrationToken', /^[A-Za-z0-9_-]{1,128}$/, 'a registration token'),
    ),
    identityKey: requireBase64(obj.identityKey, 'identityKey', 32, 33),
    registrationId: requireInt(obj.registrationId, 'registrationId', 1, MAX_REGISTRATION_ID),
    unidentifiedAccessKey: optional(obj.unidentifiedAccessKey, (v) =>
      requireBase64(v, 'unidentifiedAccessKey', UNIDENTIFIED_ACCESS_KEY_BYTES, UNIDENTIFIED_ACCESS_KEY_BYTES),
    ),
    ...parseDeviceKeyFields(obj, maxPerUpload),
  };
}

export interface LinkDeviceRequest extends DeviceKeys {
  code: string;
  registrationId: number;
}

export function parseLinkDeviceRequest(body: unknown, maxPerUpload: number): LinkDeviceRequest {
  const obj = requireObject(body, 'body');
  rejectUnknownFields(obj, ['code', 'registrationId', 'signedPreKey', 'pqLastResortPreKey', 'preKeys', 'pqPreKeys'], '');
  return {
    code: requireString(obj.code, 'code', /^[A-Za-z0-9_-]{8,64}$/, 'a link code'),
    registrationId: requireInt(obj.registrationId, 'registrationId', 1, MAX_REGISTRATION_ID),
    ...parseDeviceKeyFields(obj, maxPerUpload),
  };
}

export interface UploadKeysRequest {
  signedPreKey?: SignedKey;
  pqLastResortPreKey?: SignedKey;
  preKeys?: OneTimePreKey[];
  pqPreKeys?: SignedKey[];
}

export function parseUploadKeysRequest(body: unknown, maxPerUpload: number): UploadKeysRequest {
  const obj = requireObject(body, 'body');
  rejectUnknownFields(obj, ['signedPreKey', 'pqLastResortPreKey', 'preKeys', 'pqPreKeys'], '');
  const request: UploadKeysRequest = {
    signedPreKey: optional(obj.signedPreKey, (v) => parseSignedKey(v, 'signedPreKey', 'ec')),
    pqLastResortPreKey: optional(obj.pqLastResortPreKey, (v) => parseSignedKey(v, 'pqLastResortPreKey', 'pq')),
    preKeys: parseKeyList(obj.preKeys, 'preKeys', maxPerUpload, parseOneTimePreKey),
    pqPreKeys: parseKeyList(obj.pqPreKeys, 'pqPreKeys', maxPerUpload, (v, f) => parseSignedKey(v, f, 'pq')),
  };
  if (Object.values(request).every((v) => v === undefined)) {
    throw new ValidationError('body', 'must carry at least one of signedPreKey, pqLastResortPreKey, preKeys, pqPreKeys');
  }
  return request;
}

/** One device's new repeated-use keys in an identity-key change, signed by the new identity key. */
export interface DeviceIdentityKeys {
  deviceId: number;
  registrationId: number;
  signedPreKey: SignedKey;
  pqLastResortPreKey: SignedKey;
}

export interface ChangeIdentityKeyRequest {
  identityKey: Buffer;
  /** Exactly the account's current devices, each once. */
  devices: DeviceIdentityKeys[];
}

export function parseChangeIdentityKeyRequest(body: unknown): ChangeIdentityKeyRequest {
  const obj = requireObject(body, 'body');
  rejectUnknownFields(obj, ['identityKey', 'devices'], '');
  const identityKey = requireBase64(obj.identityKey, 'identityKey', 32, 33);
  const devices = requireArray(obj.devices, 'devices', MAX_DEVICE_ID).map((item, i): DeviceIdentityKeys => {
    const field = `devices[${i}]`;
    const device = requireObject(item, field);
    rejectUnknownFields(device, ['deviceId', 'registrationId', 'signedPreKey', 'pqLastResortPreKey'], field);
    if (device.signedPreKey === undefined) throw new ValidationError(`${field}.signedPreKey`, 'is required');
    if (device.pqLastResortPreKey === undefined) throw new ValidationError(`${field}.pqLastResortPreKey`, 'is required');
    return {
      deviceId: requireInt(device.deviceId, `${field}.deviceId`, 1, MAX_DEVICE_ID),
      registrationId: requireInt(device.registrationId, `${field}.registrationId`, 1, MAX_REGISTRATION_ID),
      signedPreKey: parseSignedKey(device.signedPreKey, `${field}.signedPreKey`, 'ec'),
      pqLastResortPreKey: parseSignedKey(device.pqLastResortPreKey, `${field}.pqLastResortPreKey`, 'pq'),
    };
  });
  if (devices.length === 0) throw new ValidationError('devices', 'must list every device of the account');
  const seen = new Set<number>();
  for (const d of devices) {
    if (seen.has(d.deviceId)) throw new ValidationError('devices', `device ${d.deviceId} appears twice`);
    seen.add(d.deviceId);
  }
  return { identityKey, devices };
}

export function parseDeviceIdParam(value: unknown): number {
  if (typeof value === 'string' && /^[1-9][0-9]{0,2}$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_DEVICE_ID) {
    return Number(value);
  }
  throw new ValidationError('deviceId', `must be a device id 1..${MAX_DEVICE_ID}`);
}

// ---- answers ----

export interface RegisterAccountResponse {
  address: string;
  accountId: string;
  deviceId: 1;
  token: string;
}
export interface LinkCodeResponse {
  code: string;
  expiresAt: string;
}
export interface LinkDeviceResponse {
  address: string;
  deviceId: number;
  token: string;
}
export interface DeviceListResponse {
  devices: { deviceId: number; registrationId: number; createdAt: string; lastSeenAt: string | null }[];
}
/** `version`: the account's key-transparency record that carries the new identity key. */
export interface ChangeIdentityKeyResponse {
  address: string;
  version: number;
}
export interface PreKeyCountResponse {
  count: number;
  pqCount: number;
}

export interface SignedKeyJson {
  keyId: number;
  publicKey: string;
  signature: string;
}
export interface PreKeyJson {
  keyId: number;
  publicKey: string;
}

export interface BundleDeviceJson {
  deviceId: number;
  registrationId: number;
  signedPreKey: SignedKeyJson;
  preKey: PreKeyJson | null;
  pqPreKey: SignedKeyJson;
}

export interface BundleResponse {
  address: string;
  accountId: string;
  identityKey: string;
  devices: BundleDeviceJson[];
}
