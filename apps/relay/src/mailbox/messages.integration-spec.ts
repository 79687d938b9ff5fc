import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { DeviceSocket } from '../../../../test/support/device-socket';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { call } from '../../../../test/support/http';

const sealed = (text: string) => Buffer.from(text).toString('base64');

describe('relay: send and deliver', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver();
  });
  afterAll(async () => {
    await hs.close();
  });

  it('stores an identified send and pushes it to the recipient, then queue-empty, and deletes it on ack', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const sent = await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: { timestamp: 1234, messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content: sealed('ciphertext-1') }] },
    });
    expect(sent.status).toBe(200);
    expect(sent.body.serverTimestamp).toEqual(expect.any(Number));

    const socket = await DeviceSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmpty === 1);
    expect(socket.envelopes).toHaveLength(1);
    expect(socket.envelopes[0]).toEqual({
      id: expect.any(String),
      type: 1,
      source: alice.address,
      sourceDevice: 1,
      destinationDevice: 1,
      clientTimestamp: 1234,
      serverTimestamp: sent.body.serverTimestamp,
      content: sealed('ciphertext-1'),
    });

    // A live socket gets new envelopes pushed at once.
    await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: { timestamp: 1235, messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content: sealed('ciphertext-2') }] },
    });
    await eventually(() => socket.envelopes.length === 2);
    socket.ack(socket.envelopes.map((e) => e.id));
    await socket.close();

    const again = await DeviceSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => again.queueEmpty === 1);
    expect(again.envelopes).toHaveLength(0);
    await again.close();
  });
});
