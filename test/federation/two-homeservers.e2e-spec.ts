import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { registerAccount } from '../support/accounts';
import { DeviceSocket } from '../support/device-socket';
import { eventually } from '../support/bus-listener';
import { call } from '../support/http';

const content = (text: string) => Buffer.from(text).toString('base64');

describe('two homeservers federating on loopback', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  beforeAll(async () => {
    [alpha, beta] = await startFederation(['alpha.test', 'beta.test']);
  });
  afterAll(async () => {
    await alpha?.close();
    await beta?.close();
  });

  it('publishes self-signed server keys and discovery', async () => {
    const keys = await call('GET', `${alpha.gatewayUrl}/federation/v1/server-keys`);
    expect(keys.status).toBe(200);
    expect(keys.body.server).toBe('alpha.test');
    expect(keys.body.keys.length).toBeGreaterThan(0);
    const discovery = await call('GET', `${alpha.gatewayUrl}/.well-known/sealpost`);
    expect(discovery.body).toMatchObject({ server: 'alpha.test', federation: alpha.gatewayUrl });
  });

  it("alice@alpha claims bob@beta's bundle through both gateways, taking his one-time keys atomically", async () => {
    const bob = await registerAccount(beta.directoryUrl, { preKeys: 1, pqPreKeys: 1 });
    const alice = await registerAccount(alpha.directoryUrl);
    const first = await call('GET', `${alpha.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ address: bob.address, accountId: bob.accountId, identityKey: bob.identity.identityKeyBase64 });
    expect(first.body.devices[0].preKey.keyId).toBe(1);
    const second = await call('GET', `${alpha.directoryUrl}/v1/keys/${bob.address}/1`, { token: alice.token });
    expect(second.body.devices[0].preKey).toBeNull();
    const missing = await call('GET', `${alpha.directoryUrl}/v1/keys/nobody-zz@beta.test/*`, { token: alice.token });
    expect(missing.status).toBe(404);
  });

  it("delivers an identified envelope alice@alpha → bob@beta, and passes back beta's 409", async () => {
    const bob = await registerAccount(beta.directoryUrl);
    const alice = await registerAccount(alpha.directoryUrl);
    const socket = await DeviceSocket.connect(beta.relayUrl, bob.token, true);
    const sent = await call('PUT', `${alpha.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: { timestamp: 42, messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content: content('hello bob') }] },
    });
    expect(sent.status).toBe(200);
    await eventually(() => socket.envelopes.length === 1, 10_000);
    expect(socket.envelopes[0]).toMatchObject({
      source: alice.address,
      sourceDevice: 1,
      clientTimestamp: 42,
      content: content('hello bob'),
    });

    const wrong = await call('PUT', `${alpha.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: { timestamp: 43, messages: [{ deviceId: 2, registrationId: 5, type: 1, content: content('x') }] },
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatchObject({ error: 'mismatched_devices', missingDevices: [1], extraDevices: [2] });
    await socket.close();
  });
});
