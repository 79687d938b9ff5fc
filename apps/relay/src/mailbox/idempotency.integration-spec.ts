import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import {
  RecordingSocket,
  b64,
  primary,
  registerWithAccessKey,
  send,
  storedEnvelopes,
  testPool,
} from '../../../../test/support/relay-testkit';

/** Idempotency-Key (DESIGN §4): a retried send returns the first answer and stores nothing twice. */
describe('relay: Idempotency-Key', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver();
    pool = testPool();
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  async function delivered(token: string) {
    const socket = await RecordingSocket.connect(hs.relayUrl, token);
    await eventually(() => socket.queueEmptyCount === 1);
    await socket.close();
    return socket.envelopes;
  }

  it('a sequential retry with the same key gets the same answer (same serverTimestamp) and one envelope is stored and delivered', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const key = randomUUID();
    const first = await send(hs.relayUrl, bob.address, [primary(bob)], 'once', { token: alice.token, idempotencyKey: key });
    const retry = await send(hs.relayUrl, bob.address, [primary(bob)], 'once', { token: alice.token, idempotencyKey: key });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(1);
    const envelopes = await delivered(bob.token);
    expect(envelopes).toEqual([expect.objectContaining({ content: b64('once'), serverTimestamp: first.body.serverTimestamp })]);
  });

  it('concurrent sends with the same key (Promise.all) all get the same answer and exactly one envelope is stored and delivered', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        send(hs.relayUrl, bob.address, [primary(bob)], 'racing', { token: alice.token, idempotencyKey: key }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    const timestamps = new Set(answers.map((a) => a.body.serverTimestamp));
    expect(timestamps.size).toBe(1);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(1);
    const envelopes = await delivered(bob.token);
    expect(envelopes).toHaveLength(1);
    expect(envelopes[0].serverTimestamp).toBe(answers[0].body.serverTimestamp);
  });

  it("the same key from different senders is independent: each sender's send is stored", async () => {
    const alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
    const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
    const bob = await registerAccount(hs.directoryUrl);
    const key = randomUUID();
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'from alice', { token: alice.token, idempotencyKey: key })).status).toBe(
      200,
    );
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'from carol', { token: carol.token, idempotencyKey: key })).status).toBe(
      200,
    );
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(2);
    const envelopes = await delivered(bob.token);
    expect(envelopes.map((e) => [e.source, e.content])).toEqual([
      [alice.address, b64('from alice')],
      [carol.address, b64('from carol')],
    ]);
  });

  it('a sealed-sender retry with the same key stores one envelope and returns the first answer', async () => {
    const bob = await registerWithAccessKey(hs.directoryUrl);
    const key = randomUUID();
    const first = await send(hs.relayUrl, bob.address, [primary(bob)], 'sealed once', { accessKey: bob.accessKey, idempotencyKey: key });
    const retry = await send(hs.relayUrl, bob.address, [primary(bob)], 'sealed once', { accessKey: bob.accessKey, idempotencyKey: key });
    expect(first.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(1);
  });

  it.each([
    ['contains a space', 'has space'],
    ['contains a slash', 'a/b'],
    ['is 129 characters', 'k'.repeat(129)],
    ['is empty', ''],
  ])('a malformed Idempotency-Key (%s) is 400 invalid_request and stores nothing', async (_label, key) => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const res = await send(hs.relayUrl, bob.address, [primary(bob)], 'x', { token: alice.token, idempotencyKey: key });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', message: expect.stringContaining('Idempotency-Key') });
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(0);
  });

  it('a 128-character key of every allowed character class is accepted', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const key = `Az09._:-${'x'.repeat(120)}`;
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'x', { token: alice.token, idempotencyKey: key })).status).toBe(200);
  });
});

/** The same race when every send is its own transaction: the loser waits on the key's row and stores nothing. */
describe('relay: Idempotency-Key with one send per transaction (GROUP_COMMIT_MAX_BATCH=1)', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { GROUP_COMMIT_MAX_BATCH: '1' } });
    pool = testPool();
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  it('concurrent sends with the same key in separate transactions get one answer and store one envelope, round after round', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    for (let round = 1; round <= 5; round++) {
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          send(hs.relayUrl, bob.address, [primary(bob)], `round ${round}`, { token: alice.token, idempotencyKey: key }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
      expect(new Set(answers.map((a) => a.body.serverTimestamp)).size).toBe(1);
      expect(await storedEnvelopes(pool, bob.accountId)).toBe(round);
    }
  });
});
