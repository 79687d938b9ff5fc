import { DeviceKeyMaterial } from '../../../../libs/client/src';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { DeviceSocket } from '../../../../test/support/device-socket';
import { call } from '../../../../test/support/http';

/**
 * The directory's prekeys-low event becomes a `prekeys-low` frame on the device's socket, from
 * whichever of two relays holds it; it is a notice, not an envelope (never stored or acked).
 */
describe('relay: prekeys-low notice', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver({ relays: 2, env: { PREKEY_LOW_THRESHOLD: '3' } });
  });
  afterAll(async () => {
    await hs.close();
  });

  it('tells the connected device, on the relay that holds its socket, when a claim leaves it under the threshold', async () => {
    const bob = await registerAccount(hs.directoryUrl, { preKeys: 4, pqPreKeys: 4 });
    const alice = await registerAccount(hs.directoryUrl);
    const socket = await DeviceSocket.connect(hs.relayUrls[1], bob.token);
    await eventually(() => socket.queueEmpty === 1);

    // 4 → 3 keys: not under the threshold of 3 yet.
    expect((await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/1`, { token: alice.token })).status).toBe(200);
    // 3 → 2: under it.
    expect((await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/1`, { token: alice.token })).status).toBe(200);
    await eventually(() => socket.notices.length === 1);
    expect(socket.notices).toEqual([{ type: 'prekeys-low', count: 2, pqCount: 2 }]);
    expect(socket.envelopes).toEqual([]);
    await socket.close();
  });

  it('tells every device after an identity-key change dropped its one-time keys', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const socket = await DeviceSocket.connect(hs.relayUrls[0], bob.token);
    await eventually(() => socket.queueEmpty === 1);
    const fresh = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const changed = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: bob.token,
      body: {
        identityKey: fresh.identityKeyBase64,
        devices: [{ deviceId: 1, registrationId: 42, signedPreKey: fresh.signedPreKey(1), pqLastResortPreKey: fresh.pqPreKey(2) }],
      },
    });
    expect(changed.status).toBe(200);
    await eventually(() => socket.notices.length === 1);
    expect(socket.notices).toEqual([{ type: 'prekeys-low', count: 0, pqCount: 0 }]);
    await socket.close();
  });
});
