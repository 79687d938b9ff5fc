/**
 * Bench accounts' keys, made by the client SDK (`DeviceKeyMaterial`): a registration body with an
 * unidentified-access key for sealed sends, and bodies to link more devices of the account.
 */
import { randomBytes } from 'node:crypto';
import { DeviceKeyMaterial } from '@sealpost/client';

export interface BenchAccountKeys {
  identity: DeviceKeyMaterial;
  /** The POST /v1/accounts body (no one-time keys), with an unidentified access key for sealed sends. */
  registration: ReturnType<DeviceKeyMaterial['registration']>;
  /** The 16 bytes, base64: what a sealed sender puts in `Unidentified-Access-Key`. */
  unidentifiedAccessKey: string;
  /** A body for POST /v1/devices with this code: a new registration id, keys signed by the account identity. */
  linkBody(code: string): { code: string } & ReturnType<DeviceKeyMaterial['deviceUpload']>;
}

/**
 * A fresh account identity. Linked devices share one signed EC prekey and one signed PQ
 * last-resort key made once per account (valid signatures by the identity; keeps setup fast).
 */
export function benchAccountKeys(localpart: string): BenchAccountKeys {
  const identity = DeviceKeyMaterial.generate();
  const unidentifiedAccessKey = randomBytes(16).toString('base64');
  const linkKeys = identity.linkedDevice().deviceUpload();
  return {
    identity,
    registration: identity.registration(localpart, {}, { unidentifiedAccessKey }),
    unidentifiedAccessKey,
    linkBody: (code) => ({ code, ...linkKeys, registrationId: identity.linkedDevice().registrationId }),
  };
}
