import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { call } from '../../../../test/support/http';
import { RecordingSocket, closeAllSockets, linkDevice, primary, registerWithAccessKey, send } from '../../../../test/support/relay-testkit';
import { dumpHomeserverKeys } from '../../../../test/support/redis-dump';

/**
 * DESIGN §7: no bearer token, access key or envelope content ever lands in Redis. Redis holds
 * only what is fast and disposable (presence, wake-ups, rate buckets, caches), keyed by ids.
 */
describe('relay: nothing secret and no content in Redis', () => {
  let hs: RunningHomeserver;
  let redis: Redis;
  let sub: Redis;
  const published: { channel: string; message: Buffer }[] = [];
  beforeAll(async () => {
    hs = await startHomeserver({ relays: 2 });
    redis = new Redis(process.env.TEST_REDIS_URL!);
    sub = new Redis(process.env.TEST_REDIS_URL!);
    sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
      published.push({ channel: channel.toString(), message });
    });
    await sub.psubscribe(`${hs.relayConfig.redisPrefix}*`, `{${hs.relayConfig.redisPrefix}*`);
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
    await redis.quit();
    await sub.quit();
  });

  it('after identified and sealed sends, deliveries, acks and a cross-replica wake-up, no Redis key or value holds a token, access key or content', async () => {
    const alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
    const bob = await registerWithAccessKey(hs.directoryUrl, 'bob');
    const bobTwo = await linkDevice(hs.directoryUrl, bob);
    const linkCode = (await call('POST', `${hs.directoryUrl}/v1/devices/link-codes`, { token: bob.token })).body.code as string;
    const bobDevices = [primary(bob), { deviceId: 2, registrationId: bobTwo.registrationId }];

    // Device 1 on relay A, device 2 on relay B: presence keys and wake-ups across replicas.
    const oneOnA = await RecordingSocket.connect(hs.relayUrls[0], bob.token);
    const twoOnB = await RecordingSocket.connect(hs.relayUrls[1], bobTwo.token);
    await eventually(() => oneOnA.queueEmptyCount === 1 && twoOnB.queueEmptyCount === 1);

    const contents: string[] = [];
    for (let i = 0; i < 3; i++) {
      const identified = `identified-plaintext-${randomBytes(12).toString('hex')}`;
      const sealed = `sealed-plaintext-${randomBytes(12).toString('hex')}`;
      contents.push(identified, sealed);
      expect(
        (await send(hs.relayUrls[i % 2], bob.address, bobDevices, identified, { token: alice.token, idempotencyKey: `idem-${i}` })).status,
      ).toBe(200);
      expect(
        (
          await send(hs.relayUrls[(i + 1) % 2], bob.address, bobDevices, sealed, {
            accessKey: bob.accessKey,
            idempotencyKey: `sealed-${i}`,
          })
        ).status,
      ).toBe(200);
    }
    await eventually(() => oneOnA.envelopes.length === 6 && twoOnB.envelopes.length === 6);
    oneOnA.ack(oneOnA.envelopes.slice(0, 3).map((e) => e.id));
    // A wrong key and a bad token are handled too (and must not be remembered either).
    const wrongKey = randomBytes(16).toString('base64');
    expect((await send(hs.relayUrl, bob.address, bobDevices, 'x', { accessKey: wrongKey })).status).toBe(401);
    const wrongToken = randomBytes(32).toString('base64');
    expect((await send(hs.relayUrl, bob.address, bobDevices, 'x', { token: wrongToken })).status).toBe(401);

    const secrets: [string, Buffer][] = [
      ['alice token', Buffer.from(alice.token)],
      ['bob token', Buffer.from(bob.token)],
      ['bob device 2 token', Buffer.from(bobTwo.token)],
      ['presented wrong token', Buffer.from(wrongToken)],
      ['link code', Buffer.from(linkCode)],
      ['access key (base64)', Buffer.from(bob.accessKey)],
      ['access key (raw bytes)', Buffer.from(bob.accessKey, 'base64')],
      ['wrong access key (base64)', Buffer.from(wrongKey)],
      ...contents.flatMap((c): [string, Buffer][] => [
        [`content base64 of ${c}`, Buffer.from(Buffer.from(c).toString('base64'))],
        [`content bytes of ${c}`, Buffer.from(c)],
      ]),
    ];

    const prefix = hs.relayConfig.redisPrefix;
    const keys = await dumpHomeserverKeys(redis, prefix);
    // Not vacuous: presence and rate-limit keys of this homeserver are there.
    expect(keys.some((k) => k.key.includes('presence'))).toBe(true);
    expect(keys.some((k) => k.key.includes('rl:'))).toBe(true);

    const leaks: string[] = [];
    for (const { key, values } of keys) {
      for (const [what, secret] of secrets) {
        if (Buffer.from(key).includes(secret)) leaks.push(`key name ${key} contains ${what}`);
        for (const value of values) if (value.includes(secret)) leaks.push(`value of ${key} contains ${what}`);
      }
    }
    expect(leaks).toEqual([]);

    // Pub/sub (bus requests, events, wake-ups) never carries a token, link code or access key either.
    const channelLeaks = published.flatMap(({ channel, message }) =>
      secrets
        .filter(([what]) => !what.startsWith('content'))
        .filter(([, secret]) => message.includes(secret) || Buffer.from(channel).includes(secret))
        .map(([what]) => `message on ${channel} contains ${what}`),
    );
    expect(published.length).toBeGreaterThan(0);
    expect(channelLeaks).toEqual([]);
  });
});
