import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { metric, sample, scrape } from '../../../../test/support/metrics-scrape';
import { RecordingSocket, closeAllSockets, primary, send, storedEnvelopes, testPool } from '../../../../test/support/relay-testkit';

const ACKED = 'sealpost_relay_envelopes_acked_total';
const AWAITING = 'sealpost_relay_acks_awaiting_delete';
const IGNORED = 'sealpost_relay_acks_ignored_total';

/**
 * Issue 9, defect 3: an ack frame can only delete what its connection was sent and has not acked
 * yet, and a socket sending frames faster than its budget is closed (4429), so one socket cannot
 * make the relay queue unbounded deletes.
 */
describe('relay: ack flood', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { WS_FRAME_BURST: '100', WS_FRAME_RATE_PER_SECOND: '1' } });
    pool = testPool();
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  it('acks of random ids queue no delete and leave acked_total unchanged; only the ids this socket was sent are deleted', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    for (const text of ['one', 'two', 'three'])
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], text, { token: alice.token })).status).toBe(200);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1 && socket.envelopes.length === 3);
    const before = await scrape(hs.relayUrl);

    // 50 frames of 1,000 random ids each (within the frame budget of 100).
    for (let f = 0; f < 50; f++) socket.ack(Array.from({ length: 1000 }, () => randomUUID()));
    // The real acks come last; once they are deleted, every frame before them was handled.
    const real = socket.envelopes.map((e) => e.id);
    socket.ack([...real, ...real]);
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0);
    await eventually(async () => (await metric(hs.relayUrl, AWAITING)) === 0, 10_000);

    const after = await scrape(hs.relayUrl);
    expect(sample(after, ACKED) - sample(before, ACKED)).toBe(3);
    expect(sample(after, IGNORED) - sample(before, IGNORED)).toBe(50 * 1000 + 3);
    expect(socket.isOpen).toBe(true);
  });

  it('closes a socket that sends frames past its budget (burst 100, 1 per second) with 4429 and a reason', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    const closedBefore = await metric(hs.relayUrl, 'sealpost_relay_sockets_closed_frame_rate_total');
    for (let f = 0; f < 300; f++) socket.ack([randomUUID()]);
    await eventually(() => socket.closeCode !== null);
    expect(socket.closeCode).toBe(4429);
    expect(socket.closeReason).toMatch(/too many frames/);
    expect(await metric(hs.relayUrl, 'sealpost_relay_sockets_closed_frame_rate_total')).toBe(closedBefore + 1);
  });
});
