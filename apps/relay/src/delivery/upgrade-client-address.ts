import proxyAddr from '@fastify/proxy-addr';
import type { IncomingMessage } from 'node:http';

type TrustProxy = boolean | number | string[];

/**
 * The client address of a WebSocket upgrade, which never reaches Fastify: the same answer as
 * Fastify's `request.ip` under the same `TRUST_PROXY` (the TCP peer, or the client named by the
 * trusted X-Forwarded-For hops), computed by the library Fastify itself uses.
 */
export function upgradeClientAddress(request: IncomingMessage, trustProxy: TrustProxy): string {
  if (trustProxy === false) return request.socket.remoteAddress ?? 'unknown';
  const addresses = proxyAddr.all(request, trustFunction(trustProxy));
  return addresses[addresses.length - 1] ?? 'unknown';
}

function trustFunction(trustProxy: true | number | string[]): (address: string, hop: number) => boolean {
  if (trustProxy === true) return () => true;
  if (typeof trustProxy === 'number') return (_address, hop) => hop < trustProxy;
  return proxyAddr.compile(trustProxy);
}
