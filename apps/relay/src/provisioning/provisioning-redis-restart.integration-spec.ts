import Redis from 'ioredis';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { ProvisioningSocket, putProvisioningMessage } from '../../../../test/support/provisioning-socket';
import { PrivateRedis } from '../../../../test/support/redis-server';
import { dumpHomeserverKeys } from '../../../../test/support/redis-dump';

/**
 * A provisioning socket outlives a Redis restart that empties Redis: while Redis is down, PUTs
 * and new provisioning upgrades are refused 503 at once (the budgets fail closed); once it is
 * back, the replica holding the socket claims its route again, so a PUT on the other replica
 * reaches it.
 */
describe('relay: provisioning across a Redis restart (private redis-server)', () => {
  let redis: PrivateRedis;
  let hs: RunningHomeserver;
  const opened: ProvisioningSocket[] = [];
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    hs = await startHomeserver({ relays: 2, env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    for (const socket of opened) socket.terminate();
    await redis?.start(); // the services close cleanly only with Redis up
    await hs?.close();
    await redis?.kill();
  });

  it('down: PUT and upgrade 503; back (empty): the route is claimed again and a PUT on the other replica delivers', async () => {
    const [relayA, relayB] = hs.relayUrls;
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-redis' });
    const newDevice = await ProvisioningSocket.open(relayA);
    opened.push(newDevice);
    // Both relays learn the token now (their cache keeps it through the outage; the directory is reached over Redis).
    for (const relay of hs.relayUrls) {
      const unknown = await putProvisioningMessage(relay, 'A'.repeat(22), Buffer.from('warm'), primaryDevice.token);
      expect(unknown.status).toBe(404);
    }

    await redis.stop();
    const refused = await putProvisioningMessage(relayB, newDevice.address, Buffer.from('while down'), primaryDevice.token);
    expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 503, error: 'unavailable' });
    await expect(ProvisioningSocket.open(relayA)).rejects.toThrow('upgrade refused: 503');
    expect(newDevice.isOpen).toBe(true);

    await redis.start();
    const client = new Redis(redis.url);
    try {
      await eventually(
        async () => (await dumpHomeserverKeys(client, hs.relayConfig.redisPrefix)).some((k) => k.key.includes('provisioning:{')),
        10_000,
      );
    } finally {
      await client.quit();
    }
    await eventually(async () => (await fetch(`${relayB}/healthz`)).status === 200, 10_000);
    const body = Buffer.from('after the restart');
    const answer = await putProvisioningMessage(relayB, newDevice.address, body, primaryDevice.token);
    expect(answer.status).toBe(204);
    await newDevice.waitClosed();
    expect(newDevice.messages.map((m) => Buffer.from(String(m.body), 'base64').toString())).toEqual(['after the restart']);
  });
});
