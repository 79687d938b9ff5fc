import { Pool } from 'pg';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { call } from '../../../../test/support/http';
import {
  RecordingSocket,
  b64,
  linkDevice,
  primary,
  refusedUpgrade,
  send,
  storedEnvelopes,
  testPool,
} from '../../../../test/support/relay-testkit';

/**
 * A send must cover exactly the recipient's current devices (DESIGN §4): 409 for missing/extra
 * devices, 410 for stale registration ids; the relay's cached device lists follow the
 * directory's bus events at once; a removed device loses its queue and its socket.
 */
describe('relay: the message list must cover exactly the current devices', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  // A cache TTL far longer than the tests: only the directory's bus events can make the relay see a change.
  beforeAll(async () => {
    hs = await startHomeserver({ env: { DIRECTORY_CACHE_TTL_SECONDS: '3600' } });
    pool = testPool();
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  async function twoDeviceRecipient() {
    const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
    const second = await linkDevice(hs.directoryUrl, bob);
    expect(second.deviceId).toBe(2);
    return { bob, devices: [primary(bob), { deviceId: 2, registrationId: second.registrationId }], second };
  }

  it('answers 409 mismatched_devices naming a missing device, an extra device, and both, and stores nothing', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const { bob, devices } = await twoDeviceRecipient();
    const [one, two] = devices;

    const missing = await send(hs.relayUrl, bob.address, [one], 'hi', { token: alice.token });
    expect(missing.status).toBe(409);
    expect(missing.body).toEqual({ error: 'mismatched_devices', message: expect.any(String), missingDevices: [2], extraDevices: [] });

    const extra = await send(hs.relayUrl, bob.address, [one, two, { deviceId: 3, registrationId: 7 }], 'hi', { token: alice.token });
    expect(extra.status).toBe(409);
    expect(extra.body).toEqual({ error: 'mismatched_devices', message: expect.any(String), missingDevices: [], extraDevices: [3] });

    const both = await send(hs.relayUrl, bob.address, [one, { deviceId: 5, registrationId: 7 }, { deviceId: 4, registrationId: 7 }], 'hi', {
      token: alice.token,
    });
    expect(both.status).toBe(409);
    expect(both.body).toEqual({ error: 'mismatched_devices', message: expect.any(String), missingDevices: [2], extraDevices: [4, 5] });

    expect(await storedEnvelopes(pool, bob.accountId)).toBe(0);
    const right = await send(hs.relayUrl, bob.address, [one, two], 'hi', { token: alice.token });
    expect(right.status).toBe(200);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(2);
  });

  it('answers 410 stale_devices for a registrationId mismatch, naming only the stale devices, and stores nothing', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const { bob, devices } = await twoDeviceRecipient();
    const [one, two] = devices;

    const stale = await send(hs.relayUrl, bob.address, [one, { deviceId: 2, registrationId: two.registrationId + 1 }], 'hi', {
      token: alice.token,
    });
    expect(stale.status).toBe(410);
    expect(stale.body).toEqual({ error: 'stale_devices', message: expect.any(String), staleDevices: [2] });

    const allStale = await send(
      hs.relayUrl,
      bob.address,
      [
        { deviceId: 2, registrationId: two.registrationId + 1 },
        { deviceId: 1, registrationId: one.registrationId + 1 },
      ],
      'hi',
      { token: alice.token },
    );
    expect(allStale.status).toBe(410);
    expect(allStale.body).toEqual({ error: 'stale_devices', message: expect.any(String), staleDevices: [1, 2] });

    expect(await storedEnvelopes(pool, bob.accountId)).toBe(0);
  });

  it("a send to one's own account must cover the other devices and not the sending device", async () => {
    const alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
    const second = await linkDevice(hs.directoryUrl, alice);
    const aliceTwo = { deviceId: 2, registrationId: second.registrationId };

    const withSelf = await send(hs.relayUrl, alice.address, [primary(alice), aliceTwo], 'note to self', { token: alice.token });
    expect(withSelf.status).toBe(409);
    expect(withSelf.body).toEqual({ error: 'mismatched_devices', message: expect.any(String), missingDevices: [], extraDevices: [1] });

    const othersOnly = await send(hs.relayUrl, alice.address, [aliceTwo], 'note to self', { token: alice.token, timestamp: 42 });
    expect(othersOnly.status).toBe(200);
    // And the other way round: device 2 covers device 1 only.
    expect((await send(hs.relayUrl, alice.address, [aliceTwo], 'from two', { token: second.token })).body).toEqual({
      error: 'mismatched_devices',
      message: expect.any(String),
      missingDevices: [1],
      extraDevices: [2],
    });
    expect((await send(hs.relayUrl, alice.address, [primary(alice)], 'from two', { token: second.token })).status).toBe(200);

    const deviceTwo = await RecordingSocket.connect(hs.relayUrl, second.token);
    await eventually(() => deviceTwo.queueEmptyCount === 1);
    expect(deviceTwo.envelopes).toEqual([
      expect.objectContaining({
        source: alice.address,
        sourceDevice: 1,
        destinationDevice: 2,
        clientTimestamp: 42,
        content: b64('note to self'),
      }),
    ]);
    await deviceTwo.close();
    const deviceOne = await RecordingSocket.connect(hs.relayUrl, alice.token);
    await eventually(() => deviceOne.queueEmptyCount === 1);
    expect(deviceOne.envelopes).toEqual([
      expect.objectContaining({ source: alice.address, sourceDevice: 2, destinationDevice: 1, content: b64('from two') }),
    ]);
    await deviceOne.close();
  });

  it('sees a newly linked device at once (bus event drops the cached list): a send that was right becomes 409 right after the link', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    // Several rounds, because a stale answer is a race (link answered before the relay dropped its cache entry).
    const staleAccepted: number[] = [];
    for (let round = 0; round < 30; round++) {
      const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
      // Caches bob's one-device list in the relay (TTL is an hour here).
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'before', { token: alice.token })).status).toBe(200);
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'before, cached', { token: alice.token })).status).toBe(200);

      const second = await linkDevice(hs.directoryUrl, bob);
      const after = await send(hs.relayUrl, bob.address, [primary(bob)], 'after', { token: alice.token });
      if (after.status === 200) {
        staleAccepted.push(round);
        continue;
      }
      expect(after.status).toBe(409);
      expect(after.body).toEqual({ error: 'mismatched_devices', message: expect.any(String), missingDevices: [2], extraDevices: [] });
      expect(
        (
          await send(hs.relayUrl, bob.address, [primary(bob), { deviceId: 2, registrationId: second.registrationId }], 'after', {
            token: alice.token,
          })
        ).status,
      ).toBe(200);
    }
    // Rounds in which a send right after the link was accepted without the new device.
    expect(staleAccepted).toEqual([]);
  });

  it("removing a device deletes its queued envelopes, keeps the other devices' queues, and closes its open socket with 4410", async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const { bob, devices, second } = await twoDeviceRecipient();
    for (const text of ['one', 'two', 'three']) {
      expect((await send(hs.relayUrl, bob.address, devices, text, { token: alice.token })).status).toBe(200);
    }
    const socket = await RecordingSocket.connect(hs.relayUrl, second.token);
    await eventually(() => socket.envelopes.length === 3 && socket.queueEmptyCount === 1);
    expect(await storedEnvelopes(pool, bob.accountId, 2)).toBe(3);

    const removed = await call('DELETE', `${hs.directoryUrl}/v1/devices/2`, { token: bob.token });
    expect(removed.status).toBe(204);

    await eventually(() => socket.closeCode !== null);
    expect(socket.closeCode).toBe(4410);
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId, 2)) === 0);
    expect(await storedEnvelopes(pool, bob.accountId, 1)).toBe(3);

    // The removed device's token no longer opens a socket, and sends must now leave device 2 out.
    expect((await refusedUpgrade(hs.relayUrl, { authorization: `Bearer ${second.token}` })).status).toBe(401);
    const stale = await send(hs.relayUrl, bob.address, devices, 'four', { token: alice.token });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ missingDevices: [], extraDevices: [2] });
  });
});
