import { Pool } from 'pg';
import { Queue } from 'bullmq';
import { QueueName, bullPrefix } from '@sealpost/contracts';
import { bullConnection } from '@sealpost/redis';
import { PrivateRedis } from '../../../../test/support/redis-server';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { RecordingSocket, closeAllSockets, primary, send, storedEnvelopes, testPool } from '../../../../test/support/relay-testkit';
import { EnvelopeExpiryProcessor } from './envelope-expiry.processor';

const TTL_MS = 1000;

/**
 * Unacked envelopes older than ENVELOPE_TTL_SECONDS are deleted by the expiry job (DESIGN §4).
 * Note: relay.envelopes is shared by every homeserver of the test database, so counts are
 * checked against what is older than the cutoff, not assumed to be only this spec's rows.
 */
describe('relay: envelope expiry (ENVELOPE_TTL_SECONDS=1), run directly', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { ENVELOPE_TTL_SECONDS: '1' } });
    pool = testPool();
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  const olderThan = async (cutoffMs: number) =>
    (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM relay.envelopes WHERE server_timestamp < $1', [cutoffMs])).rows[0].n;

  it('deletes envelopes older than the TTL and returns how many; an envelope younger than the TTL stays and is still delivered', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const old = await send(hs.relayUrl, bob.address, [primary(bob)], 'old', { token: alice.token });
    expect(old.status).toBe(200);
    // Bounded poll until the envelope is older than the TTL.
    await eventually(() => Date.now() - old.body.serverTimestamp > TTL_MS + 50, 5000);

    const young = await send(hs.relayUrl, bob.address, [primary(bob)], 'young', { token: alice.token });
    expect(young.status).toBe(200);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(2);

    const t0 = Date.now();
    const expiredBefore = await olderThan(t0 - TTL_MS);
    expect(expiredBefore).toBeGreaterThanOrEqual(1);
    const deleted = await hs.relays[0].get(EnvelopeExpiryProcessor).expire();
    expect(deleted).toBeGreaterThanOrEqual(expiredBefore);
    expect(await olderThan(t0 - TTL_MS)).toBe(0);

    expect(await storedEnvelopes(pool, bob.accountId)).toBe(1);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    expect(socket.envelopes.map((e) => Buffer.from(e.content, 'base64').toString())).toEqual(['young']);
    expect(socket.envelopes[0].serverTimestamp).toBe(young.body.serverTimestamp);
  });
});

describe('relay: envelope expiry runs on its own as a BullMQ repeatable job (EXPIRY_INTERVAL_SECONDS=1)', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { ENVELOPE_TTL_SECONDS: '1', EXPIRY_INTERVAL_SECONDS: '1' } });
    pool = testPool();
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  it('an undelivered envelope disappears within a few seconds of passing the TTL, without anyone calling the processor', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'ephemeral', { token: alice.token })).status).toBe(200);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(1);
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0, 8000);
  });
});

describe('relay: the expiry schedule comes back by itself after Redis restarts empty (private Redis, EXPIRY_INTERVAL_SECONDS=1)', () => {
  let redis: PrivateRedis;
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    hs = await startHomeserver({ env: { REDIS_URL: redis.url, ENVELOPE_TTL_SECONDS: '3', EXPIRY_INTERVAL_SECONDS: '1' } });
    pool = testPool();
  });
  afterAll(async () => {
    await hs?.close();
    await pool?.end();
    await redis?.kill();
  });

  it('after Redis lost its data the expire-envelopes job scheduler exists again and an envelope past the TTL is deleted, without restarting the relay (bound: 20 s)', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'outlives-redis', { token: alice.token })).status).toBe(200);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(1);

    await redis.stop();
    await redis.start();
    const queue = new Queue(QueueName.RelayMaintenance, {
      connection: bullConnection(redis.url),
      prefix: bullPrefix(hs.relayConfig.redisPrefix),
    });
    try {
      await eventually(async () => (await queue.getJobScheduler('expire-envelopes')) !== undefined, 20_000);
      await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0, 20_000);
    } finally {
      await queue.close();
    }
  });
});
