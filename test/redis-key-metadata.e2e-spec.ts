import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { registerAccount } from './support/accounts';
import { FakeGateway, startFakeGateway } from './support/fake-gateway';
import { call } from './support/http';
import { dumpHomeserverKeys } from './support/redis-dump';
import { linkDevice, primary, registerWithAccessKey, send } from './support/relay-testkit';

/**
 * Issue 8, defects 10 and 12: whoever can read Redis must not learn who registered from where,
 * who fetched whose keys, or who sent to whom. Rate-limit buckets and device-list generations are
 * named by keyed hashes (HMAC with the server secret in KEYS_DIR), never by an address, a
 * localpart, an account id or a client IP — nor by an unkeyed hash of one, which a dictionary of
 * IPv4 addresses or of known addresses reverses.
 */
describe('Redis key names carry no address, localpart, account id or client IP', () => {
  let hs: RunningHomeserver;
  let gateway: FakeGateway;
  let redis: Redis;
  beforeAll(async () => {
    hs = await startHomeserver();
    gateway = await startFakeGateway(process.env.TEST_REDIS_URL!, hs.relayConfig.redisPrefix);
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(async () => {
    await gateway.close();
    await hs.close();
    await redis.quit();
  });

  it('after registrations, a device link, claims, identified, sealed and remote sends', async () => {
    const alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
    const bob = await registerWithAccessKey(hs.directoryUrl, 'bob');
    await linkDevice(hs.directoryUrl, alice);
    const claimed = await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(claimed.status).toBe(200);
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'identified', { token: alice.token })).status).toBe(200);
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'sealed', { accessKey: bob.accessKey })).status).toBe(200);
    const remote = 'dave-remote@beta.test';
    expect((await send(hs.relayUrl, remote, [{ deviceId: 1, registrationId: 7 }], 'remote', { token: alice.token })).status).toBe(200);
    expect(gateway.received).toHaveLength(1);

    const prefix = hs.relayConfig.redisPrefix;
    const keys = await dumpHomeserverKeys(redis, prefix);
    // Not vacuous: every kind of bucket this flow takes is there, and the device-list generations.
    for (const kind of ['rl:register:', 'rl:claim:', 'rl:send:', 'rl:recv:', 'devlist-gen:']) {
      expect({ kind, present: keys.some((k) => k.key.includes(kind)) }).toEqual({ kind, present: true });
    }

    const clientIp = '127.0.0.1';
    const unkeyed = (text: string) => createHash('sha256').update(text).digest('hex');
    const forbidden: [string, string][] = [
      ...[alice, bob].flatMap((a): [string, string][] => [
        [`address ${a.address}`, a.address],
        [`localpart ${a.localpart}`, a.localpart],
        [`account id of ${a.localpart}`, a.accountId],
        [`unkeyed SHA-256 of ${a.address}`, unkeyed(a.address).slice(0, 32)],
      ]),
      [`remote address ${remote}`, remote],
      ['remote localpart', 'dave-remote'],
      ['client IP', clientIp],
      ['unkeyed SHA-256 of the client IP', unkeyed(`${prefix}${clientIp}`).slice(0, 32)],
      ['unkeyed SHA-256 of the client IP (no prefix)', unkeyed(clientIp).slice(0, 32)],
    ];
    // Keys that name one device's queue or socket (presence, prekeys-low) keep the account id by
    // design (docs/ARCHITECTURE.md, "What Redis can tell"); the buckets and generations may not.
    const metadataKeys = keys.filter((k) => /rl:|devlist-gen:/.test(k.key));
    const leaks = metadataKeys.flatMap(({ key, values }) =>
      forbidden.flatMap(([what, needle]) => [
        ...(key.includes(needle) ? [`key ${key} names ${what}`] : []),
        ...(values.some((v) => v.includes(Buffer.from(needle))) ? [`value of ${key} holds ${what}`] : []),
      ]),
    );
    const addressLeaks = keys
      .filter((k) => !metadataKeys.includes(k))
      .flatMap(({ key }) =>
        forbidden
          .filter(([what]) => !what.startsWith('account id'))
          .filter(([, needle]) => key.includes(needle))
          .map(([what]) => `key ${key} names ${what}`),
      );
    expect([...leaks, ...addressLeaks]).toEqual([]);

    // Every hash tag is still one well-formed {…} (Redis Cluster slots by it).
    for (const { key } of metadataKeys) expect(key.slice(prefix.length)).toMatch(/^[a-z:-]+\{[A-Za-z0-9_-]+\}(:[A-Za-z0-9_-]+)?$/);
  });
});
