import { Pool } from 'pg';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { TestAccount, registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import {
  RecordingSocket,
  b64,
  closeAllSockets,
  holdsFor,
  primary,
  refusedUpgrade,
  send,
  storedEnvelopes,
  testPool,
} from '../../../../test/support/relay-testkit';

const contents = (socket: RecordingSocket) => socket.envelopes.map((e) => Buffer.from(e.content, 'base64').toString());

/**
 * `GET /v1/websocket` (DESIGN §4): token-authenticated upgrade; backlog in order, then one
 * queue-empty, then live envelopes; acks delete; unacked ones come again; one socket per device.
 */
describe('relay: WebSocket delivery', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver();
    pool = testPool();
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  async function queue(from: TestAccount, to: TestAccount, texts: string[]) {
    for (const text of texts) expect((await send(hs.relayUrl, to.address, [primary(to)], text, { token: from.token })).status).toBe(200);
  }

  it('refuses an upgrade without a token, with an unknown token or a malformed Authorization: HTTP 401 with the JSON error body', async () => {
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      { authorization: 'Bearer !!!' },
      { authorization: 'Basic YWxpY2U6cHc=' },
    ];
    for (const headers of cases) {
      const refused = await refusedUpgrade(hs.relayUrl, headers);
      expect(refused.status).toBe(401);
      expect(refused.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(refused.body)).toEqual({ error: 'unauthorized', message: expect.any(String) });
    }
  });

  it('pushes the backlog in queue order, then exactly one queue-empty, then live envelopes', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const backlog = Array.from({ length: 12 }, (_, i) => `backlog ${i}`);
    await queue(alice, bob, backlog);

    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    expect(socket.frames.map((f) => f.type)).toEqual([...Array(12).fill('envelope'), 'queue-empty']);
    expect(contents(socket)).toEqual(backlog);
    expect(socket.envelopes.every((e) => e.destinationDevice === 1 && e.source === alice.address)).toBe(true);
    expect(new Set(socket.envelopes.map((e) => e.id)).size).toBe(12);

    await queue(alice, bob, ['live 1', 'live 2']);
    await eventually(() => socket.envelopes.length === 14);
    expect(contents(socket).slice(12)).toEqual(['live 1', 'live 2']);
    // Acking everything drains the queue; still one queue-empty in all.
    socket.ack(socket.envelopes.map((e) => e.id));
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0);
    await queue(alice, bob, ['live 3']);
    await eventually(() => socket.envelopes.length === 15);
    expect(socket.queueEmptyCount).toBe(1);
    await socket.close();
  });

  it('says queue-empty once, at once, when there is no backlog', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    expect(socket.frames).toEqual([{ type: 'queue-empty' }]);
    await socket.close();
  });

  it('keeps per sender-device → recipient-device order for 200 sequential sends (100 queued before connecting, 100 while connected)', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const texts = Array.from({ length: 200 }, (_, i) => `seq ${i}`);
    await queue(alice, bob, texts.slice(0, 100));
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    socket.autoAck = true;
    await queue(alice, bob, texts.slice(100));
    await eventually(() => socket.envelopes.length >= 200, 15_000);
    expect(contents(socket)).toEqual(texts);
    expect(socket.queueEmptyCount).toBe(1);
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0);
    await socket.close();
  });

  it('redelivers unacked envelopes on the next connection with the same ids, and not the acked ones', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    await queue(alice, bob, ['a', 'b', 'c', 'd', 'e']);
    const first = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => first.queueEmptyCount === 1);
    const ids = first.envelopes.map((e) => e.id);
    expect(ids).toHaveLength(5);
    first.ack([ids[0], ids[2]]);
    // Acks are deleted in batches: wait for the delete to commit (the immediate case is the next test).
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 3);
    await first.close();

    const second = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => second.queueEmptyCount === 1);
    expect(second.envelopes.map((e) => e.id)).toEqual([ids[1], ids[3], ids[4]]);
    expect(contents(second)).toEqual(['b', 'd', 'e']);
    // The same envelopes, field for field.
    expect(second.envelopes).toEqual([first.envelopes[1], first.envelopes[3], first.envelopes[4]]);
    second.ack(second.envelopes.map((e) => e.id));
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0);
    await second.close();

    const third = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => third.queueEmptyCount === 1);
    expect(third.envelopes).toEqual([]);
    await third.close();
  });

  it('an ack sent just before closing is honoured by the very next connection (acked envelopes are not delivered again)', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const redelivered: string[] = [];
    // Several rounds: the client acks everything, closes, and reconnects at once (an app going to
    // the background and back, a network switch).
    for (let round = 0; round < 5; round++) {
      await queue(alice, bob, [`round ${round}`]);
      const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
      await eventually(() => socket.queueEmptyCount === 1);
      const acked = socket.envelopes.map((e) => e.id);
      socket.ack(acked);
      await socket.close();
      const next = await RecordingSocket.connect(hs.relayUrl, bob.token);
      await eventually(() => next.queueEmptyCount === 1);
      redelivered.push(...next.envelopes.filter((e) => acked.includes(e.id)).map((e) => Buffer.from(e.content, 'base64').toString()));
      next.ack(next.envelopes.map((e) => e.id));
      await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0);
      await next.close();
    }
    expect(redelivered).toEqual([]);
  });

  it("ignores acks of ids that are not this device's: another device's envelope stays queued", async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const carol = await registerAccount(hs.directoryUrl);
    await queue(alice, bob, ['for bob']);
    await queue(alice, carol, ['for carol']);
    const bobSocket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => bobSocket.queueEmptyCount === 1);
    const carolSocket = await RecordingSocket.connect(hs.relayUrl, carol.token);
    await eventually(() => carolSocket.queueEmptyCount === 1);
    // Carol acks bob's envelope id: nothing of bob's may go.
    carolSocket.ack([bobSocket.envelopes[0].id]);
    carolSocket.ack([carolSocket.envelopes[0].id]);
    await eventually(async () => (await storedEnvelopes(pool, carol.accountId)) === 0);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(1);
    await bobSocket.close();
    await carolSocket.close();
  });

  it('a second connection of the same device closes the first with 4409, and the second gets the queue', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    await queue(alice, bob, ['q1', 'q2', 'q3']);
    const first = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => first.queueEmptyCount === 1);
    expect(contents(first)).toEqual(['q1', 'q2', 'q3']);

    const second = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => first.closeCode !== null);
    expect(first.closeCode).toBe(4409);
    await eventually(() => second.queueEmptyCount === 1);
    expect(second.envelopes.map((e) => e.id)).toEqual(first.envelopes.map((e) => e.id));

    await queue(alice, bob, ['q4']);
    await eventually(() => second.envelopes.length === 4);
    expect(contents(second)[3]).toBe('q4');
    expect(first.envelopes).toHaveLength(3);
    expect(second.isOpen).toBe(true);
    await second.close();
  });

  it('answers an invalid frame with an {"type":"error"} frame and keeps the socket open and working', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    const invalid = ['not json', '{"type":"ack","ids":"nope"}', '{"type":"ack","ids":["not-a-uuid"]}', '{"type":"hello"}', 'null', '[]'];
    for (const text of invalid) socket.sendRaw(text);
    socket.sendRaw(Buffer.from([0xde, 0xad]));
    await eventually(() => socket.errors.length === invalid.length + 1);
    for (const error of socket.errors) expect(error).toEqual({ type: 'error', error: 'invalid_frame', message: expect.any(String) });
    expect(socket.isOpen).toBe(true);

    await queue(alice, bob, ['still works']);
    await eventually(() => socket.envelopes.length === 1);
    socket.ack([socket.envelopes[0].id]);
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 0);
    expect(socket.isOpen).toBe(true);
    await socket.close();
  });

  it('closes a socket that sends a frame over the size limit (RELAY_MAX_BODY_BYTES + 2 KiB, for send frames) instead of buffering it', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    socket.sendRaw(JSON.stringify({ type: 'ack', ids: [], pad: 'x'.repeat(hs.relayConfig.maxBodyBytes + 2048) }));
    await eventually(() => socket.closeCode !== null);
    expect(socket.closeCode).toBe(1009);
  });

  it('delivers a sealed envelope exactly as content bytes were sent (content is opaque, binary-safe)', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const res = await send(hs.relayUrl, bob.address, [primary(bob)], 'ignored', { token: alice.token, type: 6 });
    expect(res.status).toBe(200);
    const binary = await fetch(`${hs.relayUrl}/v1/messages/${bob.address}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        timestamp: 9,
        messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 3, content: bytes.toString('base64') }],
      }),
    });
    expect(binary.status).toBe(200);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    expect(socket.envelopes.map((e) => [e.type, e.content])).toEqual([
      [6, b64('ignored')],
      [3, bytes.toString('base64')],
    ]);
    await socket.close();
  });
});

describe('relay: WebSocket backpressure (MAX_IN_FLIGHT_PER_SOCKET=5)', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { MAX_IN_FLIGHT_PER_SOCKET: '5' } });
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
  });

  it('an unacking socket gets exactly 5 of 20 queued envelopes; acking them releases the next 5, and so on, in order, then queue-empty', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const texts = Array.from({ length: 20 }, (_, i) => `bp ${i}`);
    for (const text of texts) expect((await send(hs.relayUrl, bob.address, [primary(bob)], text, { token: alice.token })).status).toBe(200);

    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    for (let round = 1; round <= 4; round++) {
      await eventually(() => socket.envelopes.length === round * 5);
      // Nothing more arrives while these 5 are unacked (a bounded quiet window: absence can't be awaited).
      await holdsFor(() => socket.envelopes.length === round * 5 && socket.queueEmptyCount === 0, 300, `exactly ${round * 5} envelopes`);
      socket.ack(socket.envelopes.slice((round - 1) * 5).map((e) => e.id));
    }
    await eventually(() => socket.queueEmptyCount === 1);
    expect(contents(socket)).toEqual(texts);
    expect(socket.frames.at(-1)).toEqual({ type: 'queue-empty' });
    await socket.close();
  });

  it('live envelopes respect the window too: with 5 unacked, a 6th send is held until an ack', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerAccount(hs.directoryUrl);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    for (let i = 0; i < 6; i++)
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], `live ${i}`, { token: alice.token })).status).toBe(200);
    await eventually(() => socket.envelopes.length === 5);
    await holdsFor(() => socket.envelopes.length === 5, 300, 'exactly 5 envelopes in flight');
    socket.ack([socket.envelopes[0].id]);
    await eventually(() => socket.envelopes.length === 6);
    expect(contents(socket)).toEqual(Array.from({ length: 6 }, (_, i) => `live ${i}`));
    await socket.close();
  });
});

describe('relay: WebSocket keep-alive (WS_PING_INTERVAL_SECONDS=1)', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { WS_PING_INTERVAL_SECONDS: '1' } });
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
  });

  it('keeps a socket that answers pings open, and terminates one that does not', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const carol = await registerAccount(hs.directoryUrl);
    const alive = await RecordingSocket.connect(hs.relayUrl, bob.token);
    const dead = await RecordingSocket.connect(hs.relayUrl, carol.token, { autoPong: false });
    await eventually(() => dead.closeCode !== null, 5000);
    expect(dead.closeCode).toBe(1006); // terminated, no close handshake
    expect(alive.isOpen).toBe(true);
    await holdsFor(() => alive.isOpen, 1500, 'the ponging socket stays open');
    await alive.close();
  });
});

describe('relay: shutdown with connected sockets', () => {
  afterEach(closeAllSockets);

  it('closes open sockets (1001 going away) and finishes shutting down while clients are still connected', async () => {
    const hs = await startHomeserver();
    try {
      const bob = await registerAccount(hs.directoryUrl);
      const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
      await eventually(() => socket.queueEmptyCount === 1);
      const closing = hs.relays[0].close().then(() => 'closed' as const);
      // Bounded: a relay that waits for its clients to leave would hang a rolling restart.
      const outcome = await Promise.race([closing, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 5000))]);
      const codeSeen = socket.closeCode;
      await closeAllSockets();
      await closing;
      expect(outcome).toBe('closed');
      expect(codeSeen).toBe(1001);
    } finally {
      await hs.directory.close();
    }
  });
});
