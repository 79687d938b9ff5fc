import { randomBytes } from 'node:crypto';
import { SignalIdentity, makeSignalIdentity } from '../../libs/crypto/src/testing/signal-identity';
import { call } from './http';

export interface TestAccount {
  identity: SignalIdentity;
  localpart: string;
  address: string;
  accountId: string;
  token: string;
  registrationId: number;
}

export function uniqueLocalpart(stem = 'user'): string {
  return `${stem}-${randomBytes(5).toString('hex')}`;
}

/** A registration body exactly as a libsignal client would build it. */
export function registrationBody(
  identity: SignalIdentity,
  localpart: string,
  opts: { preKeys?: number; pqPreKeys?: number; registrationId?: number } = {},
) {
  const preKeys = Array.from({ length: opts.preKeys ?? 5 }, (_, i) => identity.preKey(i + 1));
  const pqPreKeys = Array.from({ length: opts.pqPreKeys ?? 5 }, (_, i) => identity.pqPreKey(1000 + i));
  return {
    localpart,
    identityKey: identity.identityKeyBase64,
    registrationId: opts.registrationId ?? 1 + Math.floor(Math.random() * 16000),
    signedPreKey: identity.signedPreKey(1),
    pqLastResortPreKey: identity.pqPreKey(999),
    preKeys,
    pqPreKeys,
  };
}

export async function registerAccount(
  baseUrl: string,
  opts: { preKeys?: number; pqPreKeys?: number; registrationToken?: string; stem?: string } = {},
): Promise<TestAccount> {
  const identity = makeSignalIdentity({ reuseKemKey: true });
  const localpart = uniqueLocalpart(opts.stem);
  const body = {
    ...registrationBody(identity, localpart, opts),
    ...(opts.registrationToken ? { registrationToken: opts.registrationToken } : {}),
  };
  const res = await call('POST', `${baseUrl}/v1/accounts`, { body });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    identity,
    localpart,
    address: res.body.address,
    accountId: res.body.accountId,
    token: res.body.token,
    registrationId: body.registrationId,
  };
}

export interface LinkedDevice {
  deviceId: number;
  token: string;
  registrationId: number;
}

/** Links one more device to `account` through the directory (link code, then POST /v1/devices). */
export async function linkDevice(
  directoryUrl: string,
  account: TestAccount,
  registrationId = 1 + Math.floor(Math.random() * 16000),
): Promise<LinkedDevice> {
  const codeAnswer = await call('POST', `${directoryUrl}/v1/devices/link-codes`, { token: account.token });
  if (codeAnswer.status !== 201) throw new Error(`link code failed: ${codeAnswer.status} ${JSON.stringify(codeAnswer.body)}`);
  const keyBase = 10_000 + Math.floor(Math.random() * 1_000_000);
  const linked = await call('POST', `${directoryUrl}/v1/devices`, {
    body: {
      code: codeAnswer.body.code,
      registrationId,
      signedPreKey: account.identity.signedPreKey(keyBase),
      pqLastResortPreKey: account.identity.pqPreKey(keyBase + 1),
      preKeys: [account.identity.preKey(keyBase + 2)],
      pqPreKeys: [account.identity.pqPreKey(keyBase + 3)],
    },
  });
  if (linked.status !== 201) throw new Error(`link failed: ${linked.status} ${JSON.stringify(linked.body)}`);
  return { deviceId: linked.body.deviceId, token: linked.body.token, registrationId };
}
