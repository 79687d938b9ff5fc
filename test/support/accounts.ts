import { randomBytes } from 'node:crypto';
import { DeviceKeyMaterial, HomeserverApi, HomeserverInfo } from '../../libs/client/src';

/**
 * Accounts and devices for specs, made by the client SDK: keys from `DeviceKeyMaterial`, calls
 * through `HomeserverApi` (an error answer throws the SDK's typed error). Specs that need a
 * device that encrypts and decrypts use `SealpostClient` itself.
 */
export interface TestAccount {
  identity: DeviceKeyMaterial;
  localpart: string;
  address: string;
  accountId: string;
  token: string;
  registrationId: number;
}

export function uniqueLocalpart(stem = 'user'): string {
  return `${stem}-${randomBytes(5).toString('hex')}`;
}

/** The SDK's client API on a directory (and relay) given by URL, without discovery. */
export function apiAt(directoryUrl: string, token?: string, relayUrl = directoryUrl): HomeserverApi {
  const info: HomeserverInfo = {
    server: new URL(directoryUrl).host,
    baseUrl: directoryUrl,
    directory: directoryUrl,
    relay: relayUrl,
    federation: directoryUrl,
    sealedSenderTrustRoot: '',
    sealedSenderPreviousTrustRoots: [],
    ktPublicKey: '',
  };
  return new HomeserverApi(info, token);
}

/** A registration body as the SDK builds it (one-time key ids 1…, PQ 1000…; 5 of each unless told). */
export function registrationBody(
  identity: DeviceKeyMaterial,
  localpart: string,
  opts: { preKeys?: number; pqPreKeys?: number; registrationId?: number } = {},
) {
  const body = identity.registration(localpart, { preKeys: opts.preKeys ?? 5, pqPreKeys: opts.pqPreKeys ?? 5 });
  return { ...body, registrationId: opts.registrationId ?? body.registrationId };
}

export async function registerAccount(
  baseUrl: string,
  opts: { preKeys?: number; pqPreKeys?: number; registrationToken?: string; stem?: string; accessKey?: string } = {},
): Promise<TestAccount> {
  const identity = DeviceKeyMaterial.generate({ reuseKemKey: true });
  const localpart = uniqueLocalpart(opts.stem);
  const answer = await apiAt(baseUrl).register({
    ...registrationBody(identity, localpart, opts),
    registrationToken: opts.registrationToken,
    unidentifiedAccessKey: opts.accessKey,
  });
  return {
    identity,
    localpart,
    address: answer.address,
    accountId: answer.accountId,
    token: answer.token,
    registrationId: identity.registrationId,
  };
}

export interface LinkedDevice {
  deviceId: number;
  token: string;
  registrationId: number;
}

/** Links one more device to `account` through the directory (link code, then POST /v1/devices), with keys signed by its identity. */
export async function linkDevice(directoryUrl: string, account: TestAccount, registrationId?: number): Promise<LinkedDevice> {
  const { code } = await apiAt(directoryUrl, account.token).createLinkCode();
  const device = account.identity.linkedDevice(registrationId);
  const firstKeyId = 10_000 + Math.floor(Math.random() * 1_000_000);
  const linked = await apiAt(directoryUrl).linkDevice(code, device.deviceUpload({ preKeys: 1, pqPreKeys: 1, firstKeyId }));
  return { deviceId: linked.deviceId, token: linked.token, registrationId: device.registrationId };
}
