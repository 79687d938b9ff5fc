import { BundleResponse } from './directory-api';

/** Request/response patterns answered by the prekey directory over the Redis transport. */
export const DirectoryPattern = {
  /** {} → {ok: true}: a bus round trip, for the readiness of the directory's callers */
  Ping: 'directory.ping',
  /** → DeviceListReply | null */
  DeviceList: 'directory.device-list',
  /** → BundleResponse | BusError */
  ClaimBundles: 'directory.claim-bundles',
  /** {tokenHash: base64 SHA-256 of a bearer token} → AuthenticatedDevice | null */
  Authenticate: 'directory.authenticate',
  /** {} → SealedSenderTrustRootsReply */
  SealedSenderTrustRoot: 'directory.sealed-sender-trust-root',
  /** {} → the latest SignedTreeHead of the transparency log */
  KtHead: 'directory.kt-head',
  /** {from, to} → {proof: base64[]} | BusError */
  KtConsistency: 'directory.kt-consistency',
  /** {address, version, treeSize?} → the same answer as GET /v1/kt/inclusion | BusError */
  KtInclusion: 'directory.kt-inclusion',
  /** {} → {keyId, publicKey}: the key that signs tree heads now */
  KtPublicKey: 'directory.kt-public-key',
  /** {} → KtKeysDocument: every tree-head key, oldest first, with endorsements */
  KtKeys: 'directory.kt-keys',
} as const;

/** Events the directory emits (fire-and-forget, Redis transport). */
export const DirectoryEvent = {
  /** A device's unused one-time keys fell under the threshold: PrekeysLowEvent. */
  PrekeysLow: 'directory.prekeys-low',
  /** A device was removed: its queue must go too. DeviceRemovedEvent. */
  DeviceRemoved: 'directory.device-removed',
} as const;

/** The current sealed-sender trust root and the replaced ones still in use (base64 public keys, newest first). */
export interface SealedSenderTrustRootsReply {
  trustRoot: string;
  previousTrustRoots: string[];
}

export interface DeviceListRequest {
  address: string;
}

export interface DeviceListReply {
  address: string;
  accountId: string;
  identityKey: string;
  devices: { deviceId: number; registrationId: number }[];
  /** Base64 SHA-256 of the account's unidentified-access key (never the key itself), or null. */
  unidentifiedAccessKeyHash: string | null;
}

export interface AuthenticateRequest {
  tokenHash: string;
}

/** A device whose bearer token hash matched. */
export interface AuthenticatedDevice {
  accountId: string;
  deviceId: number;
  address: string;
}

export interface ClaimBundlesRequest {
  address: string;
  deviceId: number | '*';
  /** Who asks (`localpart@server` of the requesting account, or `server` for a federation peer), for rate limits. */
  requester: string;
}

/** Errors cross the bus as values, never as thrown stack traces. */
export interface BusError {
  error: string;
  message: string;
  status: number;
}

export type ClaimBundlesReply = BundleResponse | BusError;

export function isBusError(value: unknown): value is BusError {
  return typeof value === 'object' && value !== null && 'error' in value && 'status' in value;
}

export interface PrekeysLowEvent {
  address: string;
  accountId: string;
  deviceId: number;
  count: number;
  pqCount: number;
}
export interface DeviceRemovedEvent {
  address: string;
  accountId: string;
  deviceId: number;
}

/**
 * Redis key of an address's device-list generation: raised by the directory on every change,
 * before it answers; relays cache a device list together with the generation it was read at.
 * The address appears only as a keyed hash (`MetadataPseudonyms` of the server secret, which the
 * directory and the relays share through KEYS_DIR), so Redis never lists who has an account.
 */
export function deviceListGenerationKey(
  prefix: string,
  address: string,
  pseudonyms: { of(purpose: string, ...parts: string[]): string },
): string {
  return `${prefix}devlist-gen:{${pseudonyms.of('devlist-gen', address)}}`;
}
