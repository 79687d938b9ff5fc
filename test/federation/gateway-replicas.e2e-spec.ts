import { Pool } from 'pg';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EnvelopeJson } from '../../libs/contracts/src';
import { createGatewayApp } from '../../apps/federation-gateway/src/gateway.app';
import { OutboundDelivery } from '../../apps/federation-gateway/src/outbound/outbound-delivery.service';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { registerAccount } from '../support/accounts';
import { DeviceSocket } from '../support/device-socket';
import { eventually } from '../support/bus-listener';
import { identifiedDelivery, outboxRows, serverPool } from '../support/federation-testkit';

const text = (e: EnvelopeJson) => Buffer.from(e.content, 'base64').toString();

/**
 * Two gateway replicas of one homeserver share the outbox in Postgres. A delivery that reaches
 * replica B while replica A holds a backlog for the same destination must queue behind it — B
 * sending it at once would overtake envelopes sent before it.
 */
describe('federation gateway replicas', () => {
  let iota: FederatedHomeserver;
  let theta: FederatedHomeserver;
  let replicaB: NestFastifyApplication;
  let iotaDb: Pool;

  beforeAll(async () => {
    await freshFederationServers(['iota.test', 'theta.test']);
    // Retries far away: only a flush this test causes can empty the outbox.
    const slowRetries = { FEDERATION_RETRY_BASE_MS: '60000', FEDERATION_RETRY_MAX_MS: '60000' };
    [iota, theta] = await startFederation(['iota.test', 'theta.test'], { 'iota.test': slowRetries });
    replicaB = await createGatewayApp(iota.gatewayConfig);
    await replicaB.listen(0, '127.0.0.1');
    iotaDb = serverPool(iota);
  });
  afterAll(async () => {
    await iotaDb?.end();
    await replicaB?.close();
    await iota?.close();
    await theta?.close();
  });

  it("a delivery reaching replica B queues behind replica A's backlog, and all arrive in order", async () => {
    const alice = await registerAccount(iota.directoryUrl);
    const bob = await registerAccount(theta.directoryUrl);
    const socket = await DeviceSocket.connect(theta.relayUrl, bob.token, true);
    const request = (n: number) => ({
      destination: 'theta.test',
      delivery: identifiedDelivery({ to: bob, source: alice.address, text: `m${n}`, timestamp: 1000 + n }),
      sender: { accountId: alice.accountId, deviceId: 1 },
    });

    await theta.stopGateway();
    const replicaA = iota.gateway!.get(OutboundDelivery);
    for (const n of [1, 2, 3]) expect((await replicaA.deliver(request(n))).status).toBe(202);
    expect(await outboxRows(iotaDb, 'theta.test')).toBe(3);

    await theta.startGateway();
    // B never kept anything for theta.test itself; the shared outbox tells it to queue.
    expect(await replicaB.get(OutboundDelivery).deliver(request(4))).toMatchObject({ status: 202 });

    await eventually(() => socket.envelopes.length === 4, 20_000);
    expect(socket.envelopes.map(text)).toEqual(['m1', 'm2', 'm3', 'm4']);
    await eventually(async () => (await outboxRows(iotaDb, 'theta.test')) === 0);
    await socket.close();
  });
});
