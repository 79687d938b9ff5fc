import { LookupAddress, LookupOptions, lookup as dnsLookup } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isNonPublicAddress } from './non-public-address';

export { isNonPublicAddress } from './non-public-address';

export class PeerAddressRefused extends Error {
  readonly code = 'ESEALPOSTPRIVATEPEER';
}

const refusal = (host: string) => new PeerAddressRefused(`refusing to contact ${host}: it resolves to a private or loopback address`);

/**
 * Early SSRF check of a peer URL: an IP literal must be public, and so must every address the
 * name resolves to now. The check that counts is at connect time (`refusePrivateAtConnect`): a
 * name can resolve differently between this lookup and the connect (DNS rebinding).
 */
export async function assertPublicPeer(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  if (addresses.length === 0 || addresses.some(isNonPublicAddress)) throw refusal(host);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `net.connect` (undici `Agent({connect: {lookup}})`): resolves the name and fails
 * the connect when any address it resolves to is not public, so the address connected to is the
 * address checked. (An IP literal host skips lookup; PeerHttp checks literals itself.)
 */
export function refusePrivateAtConnect(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    if (addresses.length === 0 || addresses.some((a) => isNonPublicAddress(a.address))) return callback(refusal(hostname), []);
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0].address, addresses[0].family);
  });
}
