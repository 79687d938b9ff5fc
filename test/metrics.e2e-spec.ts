import { FederatedHomeserver, startFederation } from './support/federation-harness';
import { freshFederationServers } from './support/federation-databases';
import { registerAccount } from './support/accounts';
import { DeviceSocket } from './support/device-socket';
import { eventually } from './support/bus-listener';
import { call } from './support/http';
import { sample, scrape } from './support/metrics-scrape';

/**
 * Every service serves Prometheus metrics at /metrics: HTTP answers by route pattern and status,
 * and what each service does (claims, stored/pushed/acked envelopes, federation outcomes) — with
 * no address, token or content in any label.
 */
describe('metrics', () => {
  let nu: FederatedHomeserver;
  let xi: FederatedHomeserver;
  beforeAll(async () => {
    await freshFederationServers(['nu.test', 'xi.test']);
    [nu, xi] = await startFederation(['nu.test', 'xi.test']);
  });
  afterAll(async () => {
    await nu?.close();
    await xi?.close();
  });

  it('count a federated claim and delivery on both homeservers, by route pattern, without user data', async () => {
    const alice = await registerAccount(nu.directoryUrl, { stem: 'alice' });
    const bob = await registerAccount(xi.directoryUrl, { stem: 'bob' });
    const socket = await DeviceSocket.connect(xi.relayUrl, bob.token, true);
    const claim = await call('GET', `${nu.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(claim.status).toBe(200);
    const content = Buffer.from('metrics-spec-secret-content').toString('base64');
    const sent = await call('PUT', `${nu.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: { timestamp: 1, messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content }] },
    });
    expect(sent.status).toBe(200);
    await eventually(() => socket.envelopes.length === 1, 10_000);

    const nuDirectory = await scrape(nu.directoryUrl);
    expect(sample(nuDirectory, 'sealpost_directory_bundle_claims_total', 'target="remote"')).toBe(1);
    expect(sample(nuDirectory, 'sealpost_directory_account_changes_total', 'change="registration"')).toBeGreaterThanOrEqual(1);
    expect(sample(nuDirectory, 'sealpost_http_requests_total', 'method="GET",route="/v1/keys/:address/:deviceId",status="200"')).toBe(1);
    expect(sample(nuDirectory, 'sealpost_kt_tree_size')).toBeGreaterThanOrEqual(1);

    const xiDirectory = await scrape(xi.directoryUrl);
    expect(sample(xiDirectory, 'sealpost_directory_bundle_claims_total', 'target="local"')).toBe(1);

    expect(sample(await scrape(nu.gatewayUrl), 'sealpost_federation_outbound_deliveries_total', 'outcome="delivered"')).toBe(1);

    await eventually(async () => sample(await scrape(xi.relayUrl), 'sealpost_relay_envelopes_acked_total') === 1);
    const xiRelay = await scrape(xi.relayUrl);
    expect(sample(xiRelay, 'sealpost_relay_envelopes_stored_total')).toBe(1);
    expect(sample(xiRelay, 'sealpost_relay_envelopes_pushed_total')).toBe(1);
    expect(sample(xiRelay, 'sealpost_relay_websockets')).toBe(1);

    const everything = [
      nuDirectory,
      xiDirectory,
      await scrape(nu.relayUrl),
      xiRelay,
      await scrape(nu.gatewayUrl),
      await scrape(xi.gatewayUrl),
    ].join('\n');
    for (const secret of [alice.localpart, bob.localpart, alice.token, bob.token, content, alice.accountId, bob.accountId]) {
      expect(everything).not.toContain(secret);
    }
    await socket.close();
  });

  it('reports the outbox per destination while a peer is down, read from Postgres', async () => {
    const alice = await registerAccount(nu.directoryUrl);
    const bob = await registerAccount(xi.directoryUrl);
    await xi.stopGateway();
    try {
      const sent = await call('PUT', `${nu.relayUrl}/v1/messages/${bob.address}`, {
        token: alice.token,
        body: { timestamp: 2, messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content: 'AAAA' }] },
      });
      expect(sent.status).toBe(200);
      const gateway = await scrape(nu.gatewayUrl);
      expect(sample(gateway, 'sealpost_federation_outbox_deliveries', 'destination="xi.test"')).toBe(1);
      expect(sample(gateway, 'sealpost_federation_outbound_deliveries_total', 'outcome="queued"')).toBe(1);
    } finally {
      await xi.startGateway();
    }
    await eventually(
      async () => sample(await scrape(nu.gatewayUrl), 'sealpost_federation_outbox_deliveries', 'destination="xi.test"') === 0,
      20_000,
    );
  });
});
