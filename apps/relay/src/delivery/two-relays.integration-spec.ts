import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { call } from '../../../../test/support/http';
import { RecordingSocket, closeAllSockets, linkDevice, primary, send } from '../../../../test/support/relay-testkit';
import Redis from 'ioredis';
import { RELAY_INSTANCE_ID } from '../relay.tokens';

const contents = (socket: RecordingSocket) => socket.envelopes.map((e) => Buffer.from(e.content, 'base64').toString());

/**
 * Two relay replicas of one homeserver (DESIGN §1, issue 3): wake-ups cross replicas over Redis,
 * one socket per device across replicas, and order is kept whichever replica took the send.
 */
describe('relay: two replicas', () => {
  let hs: RunningHomeserver;
  let relayA: string;
  let relayB: string;
  // The safety poll (every 10 ping intervals) is far away: only a wake-up can deliver promptly.
  beforeAll(async () => {
    hs = await startHomeserver({ relays: 2, env: { WS_PING_INTERVAL_SECONDS: '60' } });
    [relayA, relayB] = hs.relayUrls;
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
  });

  it('a send through relay A is pushed promptly to the recipient connected to relay B, on the same open socket', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const onB = await RecordingSocket.connect(relayB, bob.token);
    await eventually(() => onB.queueEmptyCount === 1);

    for (let i = 0; i < 3; i++) {
      const sent = await send(relayA, bob.address, [primary(bob)], `via A ${i}`, { token: alice.token });
      expect(sent.status).toBe(200);
      await eventually(() => onB.envelopes.length === i + 1, 5000);
      expect(onB.isOpen).toBe(true);
    }
    expect(contents(onB)).toEqual(['via A 0', 'via A 1', 'via A 2']);
    expect(onB.closeCode).toBeNull();
    expect(onB.queueEmptyCount).toBe(1); // the same connection all along, never a fresh backlog
  });

  it('wakes every device of the recipient, each on the replica holding its socket', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const second = await linkDevice(hs.directoryUrl, bob);
    const oneOnA = await RecordingSocket.connect(relayA, bob.token);
    const twoOnB = await RecordingSocket.connect(relayB, second.token);
    await eventually(() => oneOnA.queueEmptyCount === 1 && twoOnB.queueEmptyCount === 1);
    const sent = await send(relayB, bob.address, [primary(bob), { deviceId: 2, registrationId: second.registrationId }], 'to both', {
      token: alice.token,
    });
    expect(sent.status).toBe(200);
    await eventually(() => oneOnA.envelopes.length === 1 && twoOnB.envelopes.length === 1, 5000);
    expect([oneOnA.envelopes[0].destinationDevice, twoOnB.envelopes[0].destinationDevice]).toEqual([1, 2]);
  });

  it('a second connection of the same device on relay B closes the first one on relay A with 4409; B gets the queue and new envelopes', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    await send(relayA, bob.address, [primary(bob)], 'queued', { token: alice.token });
    const onA = await RecordingSocket.connect(relayA, bob.token);
    await eventually(() => onA.queueEmptyCount === 1);

    const onB = await RecordingSocket.connect(relayB, bob.token);
    await eventually(() => onA.closeCode !== null);
    expect(onA.closeCode).toBe(4409);
    await eventually(() => onB.queueEmptyCount === 1);
    expect(onB.envelopes.map((e) => e.id)).toEqual(onA.envelopes.map((e) => e.id));
    expect(onB.isOpen).toBe(true);

    // New envelopes, sent through A, now go to B.
    await send(relayA, bob.address, [primary(bob)], 'after the switch', { token: alice.token });
    await eventually(() => onB.envelopes.length === 2, 5000);
    expect(contents(onB)).toEqual(['queued', 'after the switch']);
    expect(onA.envelopes).toHaveLength(1);
  });

  it('and back: reconnecting on A closes B with 4409', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const onB = await RecordingSocket.connect(relayB, bob.token);
    await eventually(() => onB.queueEmptyCount === 1);
    const onA = await RecordingSocket.connect(relayA, bob.token);
    await eventually(() => onB.closeCode !== null);
    expect(onB.closeCode).toBe(4409);
    await eventually(() => onA.queueEmptyCount === 1);
    expect(onA.isOpen).toBe(true);
  });

  it('two simultaneous connections of one device on A and B: exactly one survives, the other is closed with 4409', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    for (let round = 0; round < 5; round++) {
      const [onA, onB] = await Promise.all([RecordingSocket.connect(relayA, bob.token), RecordingSocket.connect(relayB, bob.token)]);
      await eventually(() => onA.closeCode !== null || onB.closeCode !== null, 5000);
      const [closed, open] = onA.closeCode !== null ? [onA, onB] : [onB, onA];
      expect(closed.closeCode).toBe(4409);
      await eventually(() => open.queueEmptyCount === 1);
      expect(open.isOpen).toBe(true);
      await open.close();
    }
  });

  it("the connection that claims the device last wins, whatever the replicas' clocks say", async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const redis = new Redis(process.env.TEST_REDIS_URL!);
    const presenceKey = `${hs.relayConfig.redisPrefix}presence:{${bob.accountId}}:1`;
    const instanceA = hs.relays[0].get(RELAY_INSTANCE_ID) as string;
    const realNow = Date.now.bind(Date);
    // Relay A's clock runs a minute ahead while bob connects to it: its connection looks newer.
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 60_000);
    try {
      const onA = await RecordingSocket.connect(relayA, bob.token);
      await eventually(async () => (await redis.get(presenceKey))?.startsWith(`${instanceA}/`) === true);
      clock.mockRestore();
      const onB = await RecordingSocket.connect(relayB, bob.token);
      await eventually(() => onA.closeCode !== null);
      expect(onA.closeCode).toBe(4409);
      await eventually(() => onB.queueEmptyCount === 1);
      expect(onB.isOpen).toBe(true);
    } finally {
      clock.mockRestore();
      await redis.quit();
    }
  });

  it('removing a device closes its socket with 4410 on whichever replica holds it', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const second = await linkDevice(hs.directoryUrl, bob);
    const twoOnB = await RecordingSocket.connect(relayB, second.token);
    await eventually(() => twoOnB.queueEmptyCount === 1);
    expect((await call('DELETE', `${hs.directoryUrl}/v1/devices/2`, { token: bob.token })).status).toBe(204);
    await eventually(() => twoOnB.closeCode !== null);
    expect(twoOnB.closeCode).toBe(4410);
  });

  it('keeps send order across replicas: 100 sequential sends alternating between A and B arrive in send order', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const onB = await RecordingSocket.connect(relayB, bob.token);
    onB.autoAck = true;
    await eventually(() => onB.queueEmptyCount === 1);
    const texts = Array.from({ length: 100 }, (_, i) => `alt ${i}`);
    for (const [i, text] of texts.entries()) {
      const sent = await send(i % 2 === 0 ? relayA : relayB, bob.address, [primary(bob)], text, { token: alice.token });
      expect(sent.status).toBe(200);
    }
    await eventually(() => onB.envelopes.length >= 100, 10_000);
    expect(contents(onB)).toEqual(texts);
  });

  it('keeps send order across replicas for a backlog fetched after connecting elsewhere', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const texts = Array.from({ length: 40 }, (_, i) => `backlog ${i}`);
    for (const [i, text] of texts.entries()) {
      expect((await send(i % 2 === 0 ? relayA : relayB, bob.address, [primary(bob)], text, { token: alice.token })).status).toBe(200);
    }
    const onA = await RecordingSocket.connect(relayA, bob.token);
    await eventually(() => onA.queueEmptyCount === 1);
    expect(contents(onA)).toEqual(texts);
  });
});
