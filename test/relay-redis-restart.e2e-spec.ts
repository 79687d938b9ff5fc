import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { join } from 'node:path';
import { TestAccount, registerAccount } from './support/accounts';
import { eventually } from './support/bus-listener';
import { DeviceSocket } from './support/device-socket';
import { testPrefix } from './support/directory-harness';
import { call } from './support/http';
import { PrivateRedis } from './support/redis-server';
import {
  SendStream,
  checkDeliveries,
  expectEachAnsweredSendDeliveredOnce,
  identifiedSend,
  orderViolations,
  sleep,
  streamContent,
  streamCounter,
} from './support/send-stream';
import { ServiceProcess, assertBuilt, freePort, startServiceProcess } from './support/service-process';
import { UNLIMITED_RELAY_RATES } from '../bench/support/unlimited-rates';

/**
 * DESIGN §7: "A send answered 2xx is never lost: ... nor when Redis restarts." Redis holds only
 * what is fast and disposable (presence, wake-ups, caches, the bus); a private `redis-server`
 * that keeps nothing on disk is stopped mid-stream and started again empty on the same port.
 * The BUILT directory and relay(s) must come back by themselves (re-subscribe, re-fetch), and
 * every envelope that got a 2xx must reach the recipient: on its live socket after the relay's
 * post-outage re-fetch, or after reconnecting should the socket have dropped.
 */

const DIRECTORY_ENTRY = 'apps/prekey-directory/src/main.js';
const RELAY_ENTRY = 'apps/relay/src/main.js';
const OUTAGE_MS = 1500;

const counters = (tag: string, socket: DeviceSocket) =>
  socket.envelopes.map((e) => streamCounter(tag, e)).filter((n): n is number => n !== null);

async function sigkill(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => service.child.once('exit', () => resolve()));
  service.child.kill('SIGKILL');
  await exited;
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

describe('Redis restarted (emptied) under a stream of sends (built processes, private redis-server)', () => {
  let redis: PrivateRedis;
  let directory: ServiceProcess;
  const children: ServiceProcess[] = [];
  let env: Record<string, string>;

  const outputs = () =>
    [
      ...children.map((c, i) => `--- child ${i} (${c.url}) ---\n${c.output().slice(-4000)}`),
      `--- redis-server ---\n${redis?.output().slice(-2000) ?? ''}`,
    ].join('\n');

  async function startRelay(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const relay = await startServiceProcess(RELAY_ENTRY, { ...env, RELAY_PORT: String(port), ...extra }, port);
    children.push(relay);
    return relay;
  }

  /** Stops Redis (losing everything), keeps it down for OUTAGE_MS, starts it empty, then waits for every service's /healthz. */
  async function restartRedis(services: ServiceProcess[]): Promise<{ downMs: number; recoveredMs: number }> {
    const stoppedAt = Date.now();
    await redis.stop();
    await sleep(OUTAGE_MS);
    await redis.start();
    const downMs = Date.now() - stoppedAt;
    try {
      await eventually(async () => (await Promise.all(services.map((s) => healthy(s.url)))).every(Boolean), 20_000);
    } catch {
      throw new Error('the services did not report healthy within 20 s of Redis coming back');
    }
    return { downMs, recoveredMs: Date.now() - stoppedAt };
  }

  /**
   * After the restart the bus must work again: a fresh account (no cached token or device list
   * anywhere) can be sent to through `sendVia` and receive on `receiveVia` — which needs the
   * relay to ask the directory over the (re-subscribed) bus for both.
   */
  async function busRoundTrip(sender: TestAccount, sendVia: ServiceProcess, receiveVia: ServiceProcess): Promise<void> {
    const fresh = await registerAccount(directory.url, { stem: 'redis-fresh' });
    let status = 0;
    const deadline = Date.now() + 15_000;
    for (;;) {
      status = (
        await call('PUT', `${sendVia.url}/v1/messages/${fresh.address}`, {
          token: sender.token,
          body: {
            timestamp: Date.now(),
            messages: [{ deviceId: 1, registrationId: fresh.registrationId, type: 1, content: streamContent('fresh', 0) }],
          },
        })
      ).status;
      if (status === 200 || Date.now() > deadline) break;
      await sleep(250);
    }
    expect(status).toBe(200);
    const socket = await DeviceSocket.connect(receiveVia.url, fresh.token, true);
    try {
      await eventually(() => socket.envelopes.length === 1 && socket.queueEmpty === 1, 10_000);
    } finally {
      await socket.close();
    }
  }

  /** Waits until every counter in `wanted` reached the recipient, reconnecting if the relay dropped the socket. */
  async function awaitDelivery(
    sockets: DeviceSocket[],
    relay: ServiceProcess,
    token: string,
    tag: string,
    wanted: number[],
    timeoutMs: number,
  ): Promise<void> {
    const got = () => new Set(sockets.flatMap((s) => counters(tag, s)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const have = got();
      const missing = wanted.filter((n) => !have.has(n));
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `not every 2xx'd envelope arrived within ${timeoutMs} ms; missing ${missing.length}: ${missing.slice(0, 40).join(', ')}` +
            ` (sockets: ${sockets.map((s) => `${s.envelopes.length} env, queueEmpty ${s.queueEmpty}, closed ${s.closeCode}`).join(' | ')})`,
        );
      }
      if (sockets[sockets.length - 1].closeCode !== null) sockets.push(await DeviceSocket.connect(relay.url, token, true));
      await sleep(25);
    }
  }

  /**
   * For the failure message of a stalled live socket: is the device's presence key (which routes
   * wake-ups to the relay holding the socket) still in Redis, and does a fresh connection get the
   * missing envelopes from Postgres (stalled, not lost)?
   */
  async function diagnoseStall(
    relay: ServiceProcess,
    recipient: TestAccount,
    tag: string,
    wanted: number[],
    earlier: DeviceSocket[],
  ): Promise<string> {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    let presence: string;
    try {
      await client.connect();
      const keys = await client.keys(`${env.REDIS_PREFIX}presence:*`);
      presence = keys.length ? keys.join(', ') : 'none';
    } catch (error) {
      presence = `unknown (${(error as Error).message})`;
    } finally {
      client.disconnect();
    }
    const fresh = await DeviceSocket.connect(relay.url, recipient.token, true);
    try {
      await eventually(() => fresh.queueEmpty === 1, 10_000).catch(() => undefined);
      const got = new Set([...earlier, fresh].flatMap((socket) => counters(tag, socket)));
      const stillMissing = wanted.filter((n) => !got.has(n)).length;
      return (
        `diagnosis: presence keys in Redis: ${presence}; a new connection to the same relay got ${fresh.envelopes.length} envelopes ` +
        `(queue-empty ${fresh.queueEmpty}), ${stillMissing} 2xx'd still missing`
      );
    } finally {
      await fresh.close();
    }
  }

  beforeAll(async () => {
    assertBuilt(DIRECTORY_ENTRY, RELAY_ENTRY);
    redis = await PrivateRedis.start();
    const directoryPort = await freePort();
    env = {
      SERVER_NAME: 'alpha.test',
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      REDIS_URL: redis.url,
      REDIS_PREFIX: testPrefix(),
      OPEN_REGISTRATION: 'true',
      REGISTRATION_RATE_BURST: '1000000000',
      LOG_LEVEL: 'warn',
      DIRECTORY_PORT: String(directoryPort),
      ...UNLIMITED_RELAY_RATES,
    };
    directory = await startServiceProcess(DIRECTORY_ENTRY, env, directoryPort);
    children.push(directory);
  }, 40_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => sigkill(c).catch(() => undefined)));
    await redis?.kill();
  });

  it("delivers every 2xx'd envelope to the connected recipient across a Redis restart (one relay)", async () => {
    const relay = await startRelay();
    const sender = await registerAccount(directory.url, { stem: 'redis-sender' });
    const recipient = await registerAccount(directory.url, { stem: 'redis-rcpt' });
    const tag = `r1-${randomBytes(4).toString('hex')}`;
    const sockets = [await DeviceSocket.connect(relay.url, recipient.token, true)];
    const stream = new SendStream(
      identifiedSend(() => relay.url, sender, recipient, tag),
      { concurrency: 4, failureBackoffMs: 100 },
    );
    try {
      await eventually(() => sockets[0].queueEmpty === 1);
      stream.start();
      await stream.until(() => stream.ok.length >= 150, 20_000, '150 2xx before the Redis restart');
      const okBefore = stream.ok.length;
      const { downMs, recoveredMs } = await restartRedis([directory, relay]);
      const okAtRecovery = stream.ok.length;
      const failedAtRecovery = stream.failures.length;
      await stream.until(() => stream.ok.length >= okAtRecovery + 150, 25_000, '150 more 2xx after the services recovered');
      await stream.finish();

      await awaitDelivery(sockets, relay, recipient.token, tag, stream.ok, 15_000);
      const result = checkDeliveries(
        tag,
        stream.ok,
        stream.issued,
        sockets.flatMap((s) => s.envelopes),
      );
      console.log(
        `[relay-redis one relay] 2xx ${stream.ok.length} (${okBefore} before, ${okAtRecovery - okBefore} during the outage), failed ${stream.failures.length} ` +
          `(${failedAtRecovery} by recovery; ${[...new Set(stream.failures.map((f) => f.why))].join('; ')}), Redis down ${downMs} ms, healthy again after ${recoveredMs} ms, ` +
          `sockets ${sockets.length}, redelivered ${result.redelivered}`,
      );
      expectEachAnsweredSendDeliveredOnce(result);
      // Nothing a client did wrong: a refused send during the outage is a 5xx (or a connection error), never a 4xx.
      expect(stream.failures.filter((f) => /^status 4/.test(f.why))).toEqual([]);
      // (Four sends in flight at a time: their relative order is not defined, so no order check here; see the next test.)

      await busRoundTrip(sender, relay, relay);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${outputs()}`);
    } finally {
      await stream.finish();
      for (const socket of sockets) await socket.close();
      await sigkill(relay);
    }
  }, 60_000);

  it('keeps pushing at once across relays after a Redis restart (sender on relay B, recipient connected to relay A)', async () => {
    // The presence sweep interval is pinned to its default, so that the test shows delivery does not wait for it.
    const sweep = { WS_PING_INTERVAL_SECONDS: '30' };
    const [relayA, relayB] = [await startRelay(sweep), await startRelay(sweep)];
    const sender = await registerAccount(directory.url, { stem: 'redis-sender' });
    const recipient = await registerAccount(directory.url, { stem: 'redis-rcpt' });
    const tag = `r2-${randomBytes(4).toString('hex')}`;
    const sockets = [await DeviceSocket.connect(relayA.url, recipient.token, true)];
    const stream = new SendStream(
      identifiedSend(() => relayB.url, sender, recipient, tag),
      { concurrency: 1, failureBackoffMs: 100 },
    );
    try {
      await eventually(() => sockets[0].queueEmpty === 1);
      stream.start();
      await stream.until(() => stream.ok.length >= 100, 20_000, '100 2xx before the Redis restart');
      // Cross-relay wake-ups work before the restart: what was answered has been pushed promptly.
      const answeredBefore = [...stream.ok];
      await eventually(() => answeredBefore.every((n) => counters(tag, sockets[0]).includes(n)), 5000);
      const { recoveredMs } = await restartRedis([directory, relayA, relayB]);
      const okAtRecovery = stream.ok.length;
      await stream.until(() => stream.ok.length >= okAtRecovery + 100, 25_000, '100 more 2xx after the services recovered');
      await stream.finish();

      // The relays' presence sweep runs every WS_PING_INTERVAL_SECONDS (30 s by default): a push
      // "at once" must not wait for it. Allow a few seconds, far less than one sweep.
      try {
        await awaitDelivery(sockets, relayA, recipient.token, tag, stream.ok, 8000);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${await diagnoseStall(relayA, recipient, tag, stream.ok, [...sockets])}`);
      }
      const result = checkDeliveries(
        tag,
        stream.ok,
        stream.issued,
        sockets.flatMap((s) => s.envelopes),
      );
      console.log(
        `[relay-redis two relays] 2xx ${stream.ok.length}, failed ${stream.failures.length}, healthy again after ${recoveredMs} ms, sockets ${sockets.length}, redelivered ${result.redelivered}`,
      );
      expectEachAnsweredSendDeliveredOnce(result);
      for (const socket of sockets) expect(orderViolations(counters(tag, socket))).toEqual([]);

      await busRoundTrip(sender, relayB, relayA);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${outputs()}`);
    } finally {
      await stream.finish();
      for (const socket of sockets) await socket.close();
      await sigkill(relayA);
      await sigkill(relayB);
    }
  }, 60_000);
});
