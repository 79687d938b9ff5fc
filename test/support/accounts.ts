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
export function registrationBody(identity: SignalIdentity, localpart: string, opts: { preKeys?: number; pqPreKeys?: number; registrationId?: number } = {}) {
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

export async function registerAccount(baseUrl: string, opts: { preKeys?: number; pqPreKeys?: number; registrationToken?: string; stem?: string } = {}): Promise<TestAccount> {
  const identity = makeSignalIdentity({ reuseKemKey: true });
  const localpart = uniqueLocalpart(opts.stem);
  const body = { ...registrationBody(identity, localpart, opts), ...(opts.registrationToken ? { registrationToken: opts.registrationToken } : {}) };
  const res = await call('POST', `${baseUrl}/v1/accounts`, { body });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { identity, localpart, address: res.body.address, accountId: res.body.accountId, token: res.body.token, registrationId: body.registrationId };
}
