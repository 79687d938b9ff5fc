import { Pool } from 'pg';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import {
  RecordingSocket,
  linkDevice,
  primary,
  registerWithAccessKey,
  send,
  storedEnvelopes,
  testPool,
} from '../../../../test/support/relay-testkit';

/** Rate limits per sending device and per recipient (429 rate_limited + Retry-After), and the per-device queue cap. */
describe('relay: send and receive rate limits', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver({
      env: { SEND_RATE_BURST: '3', SEND_RATE_PER_MINUTE: '1', RECEIVE_RATE_BURST: '3', RECEIVE_RATE_PER_MINUTE: '1' },
    });
    pool = testPool();
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  const freshRecipients = (n: number) => Promise.all(Array.from({ length: n }, () => registerAccount(hs.directoryUrl, { stem: 'rcpt' })));

  it('the 4th send from one device (burst 3) is 429 rate_limited with Retry-After >= 1, while another sender still succeeds', async () => {
    const alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
    const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
    // A different recipient each time, so only alice's sender bucket is tested.
    const recipients = await freshRecipients(4);
    for (const r of recipients.slice(0, 3)) {
      expect((await send(hs.relayUrl, r.address, [primary(r)], 'x', { token: alice.token })).status).toBe(200);
    }
    const fourth = await send(hs.relayUrl, recipients[3].address, [primary(recipients[3])], 'x', { token: alice.token });
    expect(fourth.status).toBe(429);
    expect(fourth.body).toEqual({ error: 'rate_limited', message: expect.any(String), retryAfter: expect.any(Number) });
    const retryAfter = Number(fourth.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60); // one token per minute
    expect(fourth.body.retryAfter).toBe(retryAfter);
    expect(await storedEnvelopes(pool, recipients[3].accountId)).toBe(0);

    const other = await send(hs.relayUrl, recipients[3].address, [primary(recipients[3])], 'from carol', { token: carol.token });
    expect(other.status).toBe(200);
  });

  it('the 4th send to one recipient (burst 3) from different senders is 429 rate_limited with Retry-After', async () => {
    const senders = await Promise.all(Array.from({ length: 4 }, () => registerAccount(hs.directoryUrl, { stem: 'sender' })));
    const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
    for (const s of senders.slice(0, 3)) {
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'x', { token: s.token })).status).toBe(200);
    }
    const fourth = await send(hs.relayUrl, bob.address, [primary(bob)], 'x', { token: senders[3].token });
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ error: 'rate_limited' });
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(3);
    // The 4th sender is not itself limited: it can still send to someone else.
    const [other] = await freshRecipients(1);
    expect((await send(hs.relayUrl, other.address, [primary(other)], 'x', { token: senders[3].token })).status).toBe(200);
  });

  it("sealed-sender sends count against the recipient's limit too", async () => {
    const bob = await registerWithAccessKey(hs.directoryUrl);
    for (let i = 0; i < 3; i++) {
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'x', { accessKey: bob.accessKey })).status).toBe(200);
    }
    const fourth = await send(hs.relayUrl, bob.address, [primary(bob)], 'x', { accessKey: bob.accessKey });
    expect(fourth.status).toBe(429);
    expect(fourth.body.error).toBe('rate_limited');
  });

  it("sends refused by the sender's own limit do not use up the recipient's budget (a limited sender cannot starve a recipient)", async () => {
    const mallory = await registerAccount(hs.directoryUrl, { stem: 'mallory' });
    const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
    const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
    for (const r of await freshRecipients(3)) {
      expect((await send(hs.relayUrl, r.address, [primary(r)], 'x', { token: mallory.token })).status).toBe(200);
    }
    // Mallory is now over her own limit: each of these is refused for that reason.
    for (let i = 0; i < 3; i++) {
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'x', { token: mallory.token })).status).toBe(429);
    }
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(0);
    // Bob has received nothing, so his budget of 3 must be intact.
    const fromCarol = await send(hs.relayUrl, bob.address, [primary(bob)], 'hello bob', { token: carol.token });
    expect(fromCarol.status).toBe(200);
  });
});

describe('relay: per-device queue cap', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { QUEUE_CAP_PER_DEVICE: '5' } });
    pool = testPool();
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  it('the 6th undelivered envelope to a device (cap 5) is 429 recipient_queue_full; after the device connects and acks, sends succeed again', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    for (let i = 0; i < 5; i++) {
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], `m${i}`, { token: alice.token })).status).toBe(200);
    }
    const sixth = await send(hs.relayUrl, bob.address, [primary(bob)], 'm5', { token: alice.token });
    expect(sixth.status).toBe(429);
    expect(sixth.body).toEqual({ error: 'recipient_queue_full', message: expect.any(String), fullDevices: [1] });
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(5);

    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.envelopes.length === 5 && socket.queueEmptyCount === 1);
    socket.ack(socket.envelopes.map((e) => e.id));
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0);

    const again = await send(hs.relayUrl, bob.address, [primary(bob)], 'm5', { token: alice.token });
    expect(again.status).toBe(200);
    await eventually(() => socket.envelopes.length === 6);
    await socket.close();
  });

  it('names only the full device when one of two devices has drained its queue', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const second = await linkDevice(hs.directoryUrl, bob);
    const both = [primary(bob), { deviceId: 2, registrationId: second.registrationId }];
    for (let i = 0; i < 5; i++) {
      expect((await send(hs.relayUrl, bob.address, both, `m${i}`, { token: alice.token })).status).toBe(200);
    }
    const deviceTwo = await RecordingSocket.connect(hs.relayUrl, second.token);
    await eventually(() => deviceTwo.envelopes.length === 5);
    deviceTwo.ack(deviceTwo.envelopes.map((e) => e.id));
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId, 2)) === 0);

    const sixth = await send(hs.relayUrl, bob.address, both, 'm5', { token: alice.token });
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({ error: 'recipient_queue_full', fullDevices: [1] });
    // Nothing of the refused send reached device 2 either.
    expect(await storedEnvelopes(pool, bob.accountId, 2)).toBe(0);
    await deviceTwo.close();
  });
});
