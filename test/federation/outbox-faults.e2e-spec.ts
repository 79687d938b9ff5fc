import { Pool } from 'pg';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EnvelopeJson } from '../../libs/contracts/src';
import { createGatewayApp } from '../../apps/federation-gateway/src/gateway.app';
import { OutboundDelivery } from '../../apps/federation-gateway/src/outbound/outbound-delivery.service';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { TestAccount, registerAccount } from '../support/accounts';
import { DeviceSocket } from '../support/device-socket';
import { eventually } from '../support/bus-listener';
import { identifiedDelivery, outboxRows, serverPool } from '../support/federation-testkit';
import { PrivateRedis } from '../support/redis-server';
import { sleep } from '../support/send-stream';
import { UNLIMITED_RELAY_RATES } from '../../bench/support/unlimited-rates';

/**
 * Issue 8: the outbox keeps its promises under faults — per-sender order while a backlog drains
 * (several flushers, several replicas), retries that come back by themselves after Redis lost
 * its data, and a backoff that grows per attempt, not per failed batch.
 */

jest.setTimeout(180_000);
const text = (e: EnvelopeJson) => Buffer.from(e.content, 'base64').toString();
const numbered = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function deliveryOf(sender: TestAccount, recipient: TestAccount, destination: string, content: string, timestamp: number) {
  return {
    destination,
    delivery: identifiedDelivery({ to: recipient, source: sender.address, text: content, timestamp }),
    sender: { accountId: sender.accountId, deviceId: 1 },
  };
}

async function destinationRow(db: Pool, destination: string): Promise<{ failures: number; next_attempt_at: Date } | null> {
  const { rows } = await db.query<{ failures: number; next_attempt_at: Date }>(
    'SELECT failures, next_attempt_at FROM federation.destinations WHERE destination = $1',
    [destination],
  );
  return rows[0] ?? null;
}

describe('outbox order while a backlog drains: concurrent flushes on two gateway replicas', () => {
  let kappa: FederatedHomeserver;
  let lambda: FederatedHomeserver;
  let replicaB: NestFastifyApplication;
  let kappaDb: Pool;

  beforeAll(async () => {
    await freshFederationServers(['kappa.test', 'lambda.test']);
    // One sender device's 250 envelopes reach one recipient: lambda's relay budgets that pair.
    [kappa, lambda] = await startFederation(['kappa.test', 'lambda.test'], { 'lambda.test': { ...UNLIMITED_RELAY_RATES } });
    replicaB = await createGatewayApp(kappa.gatewayConfig);
    await replicaB.listen(0, '127.0.0.1');
    kappaDb = serverPool(kappa);
  });
  afterAll(async () => {
    await kappaDb?.end();
    await replicaB?.close();
    await kappa?.close();
    await lambda?.close();
  });

  it('250 envelopes of one sender device queued while the peer was down arrive exactly once and in send order, though both replicas flush at once', async () => {
    const N = 250;
    const alice = await registerAccount(kappa.directoryUrl, { stem: 'alice' });
    const bob = await registerAccount(lambda.directoryUrl, { stem: 'bob' });
    const bobSocket = await DeviceSocket.connect(lambda.relayUrl, bob.token, true);
    try {
      await lambda.stopGateway();
      const replicaA = kappa.gateway!.get(OutboundDelivery);
      for (let i = 0; i < N; i++) {
        expect((await replicaA.deliver(deliveryOf(alice, bob, 'lambda.test', `m${i}`, 1000 + i))).status).toBe(202);
      }
      expect(await outboxRows(kappaDb, 'lambda.test', alice.accountId)).toBe(N);

      await lambda.startGateway();
      // What BullMQ does with concurrency 8, retry jobs and the sweep, on two replicas: flushes of
      // one destination started together. Only one may send at a time.
      await Promise.all([
        replicaA.flush('lambda.test'),
        replicaB.get(OutboundDelivery).flush('lambda.test'),
        replicaA.flush('lambda.test'),
        replicaB.get(OutboundDelivery).flush('lambda.test'),
      ]);

      await eventually(() => bobSocket.envelopes.length >= N, 60_000);
      await eventually(async () => (await outboxRows(kappaDb, 'lambda.test')) === 0, 10_000);
      const got = bobSocket.envelopes.map(text);
      expect(new Set(bobSocket.envelopes.map((e) => e.id)).size).toBe(got.length);
      expect(got).toEqual(numbered('m', N));
    } finally {
      await bobSocket.close();
    }
  });
});

describe('outbox retries come back by themselves after Redis restarts empty (sending homeserver on a private Redis)', () => {
  let redis: PrivateRedis;
  let mu: FederatedHomeserver;
  let nu: FederatedHomeserver;
  let muDb: Pool;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    await freshFederationServers(['mu.test', 'nu.test']);
    // Retries 1–2 s apart: a flush is hardly ever running at the instant Redis stops.
    [mu, nu] = await startFederation(['mu.test', 'nu.test'], {
      'mu.test': { REDIS_URL: redis.url, FEDERATION_RETRY_BASE_MS: '2000', FEDERATION_RETRY_MAX_MS: '2000' },
    });
    muDb = serverPool(mu);
  });
  afterAll(async () => {
    await muDb?.end();
    await mu?.close();
    await nu?.close();
    await redis?.kill();
  });

  it('a backlog kept before Redis lost everything is delivered once the peer is back, without restarting the gateway (bound: 20 s)', async () => {
    const N = 30;
    const alice = await registerAccount(mu.directoryUrl, { stem: 'alice' });
    const bob = await registerAccount(nu.directoryUrl, { stem: 'bob' });
    const bobSocket = await DeviceSocket.connect(nu.relayUrl, bob.token, true);
    try {
      await nu.stopGateway();
      const gateway = mu.gateway!;
      for (let i = 0; i < N; i++) {
        expect((await gateway.get(OutboundDelivery).deliver(deliveryOf(alice, bob, 'nu.test', `r${i}`, 1000 + i))).status).toBe(202);
      }
      await eventually(async () => ((await destinationRow(muDb, 'nu.test'))?.failures ?? 0) >= 1, 10_000);

      await redis.stop();
      await sleep(500);
      await redis.start();
      await nu.startGateway();

      await eventually(() => bobSocket.envelopes.length >= N, 20_000);
      expect(mu.gateway).toBe(gateway);
      expect(bobSocket.envelopes.map(text)).toEqual(numbered('r', N));
      await eventually(async () => (await outboxRows(muDb, 'nu.test')) === 0, 10_000);
    } finally {
      await bobSocket.close();
    }
  });
});

describe('outbox backoff grows per attempt, not per failed batch (FEDERATION_RETRY_BASE_MS=1000, MAX_MS=2000, batches of 10)', () => {
  const BASE_MS = 1000;
  const MAX_MS = 2000;
  let xi: FederatedHomeserver;
  let omicron: FederatedHomeserver;
  let xiDb: Pool;

  /** The most failures attempts could record in `elapsedMs`: each window lasts at least half its backoff (jitter). */
  function attemptsPossible(elapsedMs: number): number {
    let failures = 1;
    let at = 0;
    for (;;) {
      at += 0.5 * Math.min(MAX_MS, BASE_MS * 2 ** (failures - 1));
      if (at > elapsedMs) return failures;
      failures += 1;
    }
  }

  beforeAll(async () => {
    await freshFederationServers(['xi.test', 'omicron.test']);
    [xi, omicron] = await startFederation(['xi.test', 'omicron.test'], {
      'xi.test': {
        FEDERATION_RETRY_BASE_MS: String(BASE_MS),
        FEDERATION_RETRY_MAX_MS: String(MAX_MS),
        FEDERATION_DELIVERY_BATCH_SIZE: '10',
      },
      // 200 deliveries of one sender reach one recipient at once: omicron's relay budgets that pair.
      'omicron.test': { ...UNLIMITED_RELAY_RATES },
    });
    xiDb = serverPool(xi);
  });
  afterAll(async () => {
    await xiDb?.end();
    await xi?.close();
    await omicron?.close();
  });

  it("an 8 s outage during which 200 deliveries fail in many concurrent batches counts about one failure per attempt window; delivery resumes within seconds of the peer's return", async () => {
    const N = 200;
    const alice = await registerAccount(xi.directoryUrl, { stem: 'alice' });
    const bob = await registerAccount(omicron.directoryUrl, { stem: 'bob' });
    const bobSocket = await DeviceSocket.connect(omicron.relayUrl, bob.token, true);
    try {
      await omicron.stopGateway();
      const delivery = xi.gateway!.get(OutboundDelivery);
      const downAt = Date.now();
      // All at once: up to 8 batches of 10 are in flight together, and each fails.
      const replies = await Promise.all(
        Array.from({ length: N }, (_, i) => delivery.deliver(deliveryOf(alice, bob, 'omicron.test', `b${i}`, 1000 + i))),
      );
      expect(replies.every((r) => r.status === 202)).toBe(true);
      expect(await outboxRows(xiDb, 'omicron.test')).toBe(N);

      await sleep(8000);
      const row = await destinationRow(xiDb, 'omicron.test');
      const elapsed = Date.now() - downAt;
      expect(row).not.toBeNull();
      expect(row!.failures).toBeGreaterThanOrEqual(2);
      expect(row!.failures).toBeLessThanOrEqual(attemptsPossible(elapsed));
      expect(row!.next_attempt_at.getTime() - Date.now()).toBeLessThanOrEqual(MAX_MS);

      await omicron.startGateway();
      // Within the largest backoff plus a margin for the request itself.
      await eventually(() => bobSocket.envelopes.length >= 1, MAX_MS + 3000);
      await eventually(() => bobSocket.envelopes.length >= N, 20_000);
      expect(bobSocket.envelopes.map(text).sort()).toEqual(numbered('b', N).sort());
      await eventually(async () => (await destinationRow(xiDb, 'omicron.test'))?.failures === 0, 10_000);
    } finally {
      await bobSocket.close();
    }
  });
});
