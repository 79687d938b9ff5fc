import type * as Signal from '@signalapp/libsignal-client';
import { libsignal } from '@sealpost/crypto';

const PREFIX = 'sealpost-link:v1';
/** HPKE `info` of the provisioning seal: binds the ciphertext to this use. */
export const PROVISIONING_INFO = 'sealpost provisioning v1';
const bytes = (data: Uint8Array) => Uint8Array.from(data) as Uint8Array<ArrayBuffer>;

/** What the new device shows (as text or QR): its homeserver, the relay's provisioning address and an ephemeral public key. */
export interface LinkCode {
  server: string;
  provisioningAddress: string;
  /** libsignal PublicKey, serialised. */
  publicKey: Uint8Array;
}

export function formatLinkCode(code: LinkCode): string {
  return [PREFIX, code.server, encodeURIComponent(code.provisioningAddress), Buffer.from(code.publicKey).toString('base64url')].join(':');
}

export function parseLinkCode(text: string): LinkCode {
  const parts = text.trim().split(':');
  if (parts.length !== 5 || `${parts[0]}:${parts[1]}` !== PREFIX) throw new Error('not a Sealpost link code (sealpost-link:v1:…)');
  const publicKey = Buffer.from(parts[4], 'base64url');
  libsignal().PublicKey.deserialize(bytes(publicKey)); // throws on a malformed key
  return { server: parts[2], provisioningAddress: decodeURIComponent(parts[3]), publicKey };
}

/** What the primary device seals to the new one: everything it needs to become a device of the account. */
export interface ProvisioningPayload {
  address: string;
  accountId: string;
  /** libsignal IdentityKeyPair, serialised, base64: the account's identity (shared by its devices, as in Signal). */
  identityKeyPair: string;
  /** The one-time code for `POST /v1/devices`. */
  linkCode: string;
  accessKey: string;
}

/** HPKE-seals the payload to the new device's ephemeral key (libsignal `PublicKey.seal`). */
export function sealProvisioning(payload: ProvisioningPayload, publicKey: Uint8Array): string {
  const key = libsignal().PublicKey.deserialize(bytes(publicKey));
  return Buffer.from(key.seal(bytes(Buffer.from(JSON.stringify(payload))), PROVISIONING_INFO)).toString('base64');
}

export function openProvisioning(body: string, privateKey: Signal.PrivateKey): ProvisioningPayload {
  const opened = privateKey.open(bytes(Buffer.from(body, 'base64')), PROVISIONING_INFO);
  const payload = JSON.parse(Buffer.from(opened).toString('utf8')) as Partial<ProvisioningPayload>;
  for (const field of ['address', 'accountId', 'identityKeyPair', 'linkCode', 'accessKey'] as const) {
    if (typeof payload[field] !== 'string') throw new Error(`the provisioning message has no ${field}`);
  }
  return payload as ProvisioningPayload;
}
