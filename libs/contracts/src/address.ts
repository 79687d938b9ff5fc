import { ValidationError } from './validation';

export const LOCALPART_PATTERN = /^[a-z0-9._-]{1,64}$/;
export const SERVER_PATTERN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** The device that registered the account: the only one that may change its identity key or delete it. */
export const PRIMARY_DEVICE_ID = 1;
export const MIN_DEVICE_ID = 1;
export const MAX_DEVICE_ID = 127;
export const MAX_KEY_ID = 2 ** 31 - 1;

/** `localpart@server`, as used everywhere in the API. */
export interface Address {
  localpart: string;
  server: string;
}

export function parseAddress(value: unknown, field = 'address'): Address {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be an address localpart@server');
  const at = value.lastIndexOf('@');
  const localpart = value.slice(0, at);
  const server = value.slice(at + 1);
  if (at <= 0 || !LOCALPART_PATTERN.test(localpart) || !SERVER_PATTERN.test(server)) {
    throw new ValidationError(field, 'must be an address localpart@server (localpart [a-z0-9._-]{1,64})');
  }
  return { localpart, server };
}

export function formatAddress(address: Address): string {
  return `${address.localpart}@${address.server}`;
}

/** A device id path segment: 1..127, or `*` for every device. */
export function parseDeviceSelector(value: unknown, field = 'deviceId'): number | '*' {
  if (value === '*') return '*';
  if (typeof value === 'string' && /^[1-9][0-9]{0,2}$/.test(value)) {
    const n = Number(value);
    if (n >= MIN_DEVICE_ID && n <= MAX_DEVICE_ID) return n;
  }
  throw new ValidationError(field, `must be a device id ${MIN_DEVICE_ID}..${MAX_DEVICE_ID} or *`);
}
