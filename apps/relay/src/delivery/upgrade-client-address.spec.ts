import type { IncomingMessage } from 'node:http';
import { upgradeClientAddress } from './upgrade-client-address';

const upgrade = (peer: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

describe('upgradeClientAddress: the client of a WebSocket upgrade under TRUST_PROXY, as Fastify names it', () => {
  it('TRUST_PROXY=false: the TCP peer, whatever X-Forwarded-For claims', () => {
    expect(upgradeClientAddress(upgrade('10.0.0.5', '203.0.113.9'), false)).toBe('10.0.0.5');
  });

  it('a hop count: that many proxies are believed, no more (a client cannot forge its way past them)', () => {
    expect(upgradeClientAddress(upgrade('10.0.0.5', '203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(upgradeClientAddress(upgrade('10.0.0.5', '198.51.100.1, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(upgradeClientAddress(upgrade('10.0.0.5'), 1)).toBe('10.0.0.5');
  });

  it('a list of proxy CIDRs: hops are believed only through listed proxies', () => {
    expect(upgradeClientAddress(upgrade('10.0.0.5', '203.0.113.9'), ['10.0.0.0/8'])).toBe('203.0.113.9');
    expect(upgradeClientAddress(upgrade('192.0.2.7', '203.0.113.9'), ['10.0.0.0/8'])).toBe('192.0.2.7');
  });
});
