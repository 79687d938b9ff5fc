import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Pool } from 'pg';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { TestAccount, registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { startFakeGateway } from '../../../../test/support/fake-gateway';
import { JsonAnswer, call } from '../../../../test/support/http';
import { metric } from '../../../../test/support/metrics-scrape';
import {
  LinkedDevice,
  RecordingSocket,
  SealedAccount,
  SendResult,
  b64,
  closeAllSockets,
  holdsFor,
  linkDevice,
  primary,
  refusedUpgrade,
  registerWithAccessKey,
  send,
  sendFrameFields,
  storedEnvelopes,
  testPool,
} from '../../../../test/support/relay-testkit';

/** One send as both transports carry it: the address, the Idempotency-Key and the body (`message` in a frame). */
interface SameSend {
  address: string;
  message: unknown;
  idempotencyKey?: string;
  /** Sealed: the Unidentified-Access-Key header / the frame's `unidentifiedAccessKey` (absent: none given). */
  accessKey?: string;
}

/** `PUT /v1/messages/{address}`: identified with `token`, else sealed (no Authorization). */
function overHttp(relayUrl: string, send: SameSend, token?: string): Promise<JsonAnswer> {
  const headers: Record<string, string> = {};
  if (send.idempotencyKey !== undefined) headers['idempotency-key'] = send.idempotencyKey;
  if (send.accessKey !== undefined) headers['unidentified-access-key'] = send.accessKey;
  return call('PUT', `${relayUrl}/v1/messages/${encodeURIComponent(send.address)}`, { token, headers, body: send.message });
}

function overSocket(socket: RecordingSocket, send: SameSend): Promise<SendResult> {
  return socket.request({
    address: send.address,
    ...(send.idempotencyKey !== undefined ? { idempotencyKey: send.idempotencyKey } : {}),
    ...(send.accessKey !== undefined ? { unidentifiedAccessKey: send.accessKey } : {}),
    message: send.message,
  });
}

/** The socket's answer is the HTTP answer: status, body (a 200's serverTimestamp aside) and Retry-After. */
function expectSameAnswer(http: JsonAnswer, socket: SendResult, fieldNames: Record<string, string> = {}): void {
  expect(socket.status).toBe(http.status);
  if (http.status === 200) {
    expect(socket.body).toEqual({ serverTimestamp: expect.any(Number) });
    expect(http.body).toEqual({ serverTimestamp: expect.any(Number) });
  } else {
    let message = String(http.body.message);
    for (const [httpName, frameName] of Object.entries(fieldNames)) message = message.replace(httpName, frameName);
    expect(socket.body).toEqual({ ...http.body, message });
  }
  const retryAfter = http.headers.get('retry-after');
  if (retryAfter === null) expect(socket.retryAfter).toBeUndefined();
  else expect(socket.retryAfter).toBe(Number(retryAfter));
}

const envelope = (to: { deviceId: number; registrationId: number }, over: Record<string, unknown> = {}) => ({
  deviceId: to.deviceId,
  registrationId: to.registrationId,
  type: 1,
  content: b64('x'),
  ...over,
});

/**
 * Sends over the socket (DESIGN §8): a device's `/v1/websocket` and the unauthenticated
 * `/v1/websocket/unidentified` take `send` frames and answer each with the status and body of
 * `PUT /v1/messages/{address}`, after the same durable commit.
 */
describe('relay: sends over the socket', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  let alice: TestAccount;
  let bob: SealedAccount;
  let bobPhone: LinkedDevice;
  let bobDevices: { deviceId: number; registrationId: number }[];
  let aliceSocket: RecordingSocket;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { MAX_ENVELOPE_BYTES: '1024', RELAY_MAX_BODY_BYTES: '65536' } });
    pool = testPool();
    alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
    bob = await registerWithAccessKey(hs.directoryUrl, 'bob');
    bobPhone = await linkDevice(hs.directoryUrl, bob);
    bobDevices = [primary(bob), { deviceId: bobPhone.deviceId, registrationId: bobPhone.registrationId }];
  });
  beforeEach(async () => {
    aliceSocket = await RecordingSocket.connect(hs.relayUrl, alice.token);
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  it("a send frame on a device socket is answered 200 {serverTimestamp} once stored, and reaches the recipient's socket as from that device", async () => {
    const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
    const carolSocket = await RecordingSocket.connect(hs.relayUrl, carol.token);
    await eventually(() => carolSocket.queueEmptyCount === 1);
    const result = await aliceSocket.request(sendFrameFields(carol.address, [primary(carol)], 'over the socket', { timestamp: 42 }));
    expect(result).toEqual({
      type: 'send-result',
      requestId: expect.any(String),
      status: 200,
      body: { serverTimestamp: expect.any(Number) },
    });
    // The answer follows the commit: the envelope is in Postgres when it arrives.
    expect(await storedEnvelopes(pool, carol.accountId)).toBe(1);
    await eventually(() => carolSocket.envelopes.length === 1);
    expect(carolSocket.envelopes[0]).toEqual({
      id: expect.any(String),
      type: 1,
      source: alice.address,
      sourceDevice: 1,
      destinationDevice: 1,
      clientTimestamp: 42,
      serverTimestamp: result.body.serverTimestamp,
      content: b64('over the socket'),
    });
  });

  it('answers may come out of order; each carries the requestId of its send', async () => {
    const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
    const ids = Array.from({ length: 10 }, (_, i) => `id-${i}-${randomBytes(4).toString('hex')}`);
    // Even ones need a directory lookup and a commit; odd ones are refused by the validator at once.
    const answers = await Promise.all(
      ids.map((requestId, i) =>
        aliceSocket.request({
          requestId,
          ...sendFrameFields(carol.address, [primary(carol)], `n${i}`),
          ...(i % 2 === 1 ? { message: { timestamp: 1, messages: [] } } : {}),
        }),
      ),
    );
    expect(answers.map((a) => a.requestId)).toEqual(ids);
    expect(answers.map((a) => a.status)).toEqual(ids.map((_, i) => (i % 2 === 0 ? 200 : 400)));
    const arrival = aliceSocket.results.map((r) => r.requestId);
    expect(new Set(arrival)).toEqual(new Set(ids));
    expect(arrival).not.toEqual(ids);
    expect(arrival.indexOf(ids[1])).toBeLessThan(arrival.indexOf(ids[0]));
    expect(await storedEnvelopes(pool, carol.accountId)).toBe(5);
  });

  describe('the same send over HTTP and over the socket gets the same status, body and Retry-After', () => {
    const identified: [string, number, () => SameSend][] = [
      ['a valid send', 200, () => ({ address: bob.address, message: { timestamp: 1, messages: bobDevices.map((d) => envelope(d)) } })],
      ['a device missing', 409, () => ({ address: bob.address, message: { timestamp: 1, messages: [envelope(primary(bob))] } })],
      [
        'an extra device',
        409,
        () => ({
          address: bob.address,
          message: { timestamp: 1, messages: [...bobDevices.map((d) => envelope(d)), envelope({ deviceId: 9, registrationId: 9 })] },
        }),
      ],
      [
        'a stale registration id',
        410,
        () => ({
          address: bob.address,
          message: { timestamp: 1, messages: [envelope(primary(bob)), envelope({ deviceId: bobPhone.deviceId, registrationId: 16000 })] },
        }),
      ],
      [
        'an unknown local address',
        404,
        () => ({
          address: `nobody-${randomBytes(4).toString('hex')}@alpha.test`,
          message: { timestamp: 1, messages: [envelope(primary(bob))] },
        }),
      ],
      ['an address that is not localpart@server', 400, () => ({ address: 'UPPER@alpha.test', message: { timestamp: 1, messages: [] } })],
      ['an empty message list', 400, () => ({ address: bob.address, message: { timestamp: 1, messages: [] } })],
      [
        'a duplicate deviceId',
        400,
        () => ({ address: bob.address, message: { timestamp: 1, messages: [envelope(primary(bob)), envelope(primary(bob))] } }),
      ],
      [
        'content that is not base64',
        400,
        () => ({ address: bob.address, message: { timestamp: 1, messages: [envelope(primary(bob), { content: '@@@@' })] } }),
      ],
      ['type 256', 400, () => ({ address: bob.address, message: { timestamp: 1, messages: [envelope(primary(bob), { type: 256 })] } })],
      ['a missing timestamp', 400, () => ({ address: bob.address, message: { messages: [envelope(primary(bob))] } })],
      [
        'an unknown field in the body',
        400,
        () => ({ address: bob.address, message: { timestamp: 1, messages: [envelope(primary(bob))], x: 1 } }),
      ],
      [
        'urgent that is not a boolean',
        400,
        () => ({ address: bob.address, message: { timestamp: 1, urgent: 'yes', messages: [envelope(primary(bob))] } }),
      ],
      ['a body that is an array', 400, () => ({ address: bob.address, message: [envelope(primary(bob))] })],
      [
        'content over MAX_ENVELOPE_BYTES',
        413,
        () => ({
          address: bob.address,
          message: { timestamp: 1, messages: [envelope(primary(bob), { content: randomBytes(1025).toString('base64') })] },
        }),
      ],
      [
        'a remote address while no federation gateway runs',
        503,
        () => ({ address: 'bob@beta.example', message: { timestamp: 1, messages: [envelope({ deviceId: 1, registrationId: 5 })] } }),
      ],
    ];

    it.each(identified)('identified, %s: %d, and nothing more is stored than over HTTP', async (_label, status, make) => {
      const sent = make();
      const before = await storedEnvelopes(pool, bob.accountId);
      const http = await overHttp(hs.relayUrl, sent, alice.token);
      const afterHttp = await storedEnvelopes(pool, bob.accountId);
      const socket = await overSocket(aliceSocket, sent);
      expect(http.status).toBe(status);
      // A 400 names the field as each transport carries it: the body is the frame's `message`.
      expectSameAnswer(http, socket, { 'body:': 'message:' });
      expect((await storedEnvelopes(pool, bob.accountId)) - afterHttp).toBe(afterHttp - before);
    });

    it('an Idempotency-Key that is not 1..128 of [A-Za-z0-9._:-]: 400 naming the field each carries it in', async () => {
      const sent = {
        address: bob.address,
        idempotencyKey: 'has spaces',
        message: { timestamp: 1, messages: bobDevices.map((d) => envelope(d)) },
      };
      const http = await overHttp(hs.relayUrl, sent, alice.token);
      expect(http.status).toBe(400);
      expect(http.body.message).toMatch(/^Idempotency-Key: /);
      expectSameAnswer(http, await overSocket(aliceSocket, sent), { 'Idempotency-Key': 'idempotencyKey' });
    });

    const sealed: [string, number, () => SameSend][] = [
      [
        'the right key',
        200,
        () => ({ address: bob.address, accessKey: bob.accessKey, message: { timestamp: 1, messages: bobDevices.map((d) => envelope(d)) } }),
      ],
      [
        'a wrong key',
        401,
        () => ({
          address: bob.address,
          accessKey: randomBytes(16).toString('base64'),
          message: { timestamp: 1, messages: bobDevices.map((d) => envelope(d)) },
        }),
      ],
      [
        'an unknown recipient',
        401,
        () => ({
          address: `nobody-${randomBytes(4).toString('hex')}@alpha.test`,
          accessKey: bob.accessKey,
          message: { timestamp: 1, messages: [envelope(primary(bob))] },
        }),
      ],
      [
        'a malformed key',
        401,
        () => ({ address: bob.address, accessKey: 'not-a-key', message: { timestamp: 1, messages: bobDevices.map((d) => envelope(d)) } }),
      ],
      ['no key at all', 401, () => ({ address: bob.address, message: { timestamp: 1, messages: bobDevices.map((d) => envelope(d)) } })],
      [
        'a wrong key and a wrong device list (the list is not revealed)',
        401,
        () => ({
          address: bob.address,
          accessKey: randomBytes(16).toString('base64'),
          message: { timestamp: 1, messages: [envelope(primary(bob))] },
        }),
      ],
      [
        'the right key and a device missing',
        409,
        () => ({ address: bob.address, accessKey: bob.accessKey, message: { timestamp: 1, messages: [envelope(primary(bob))] } }),
      ],
      [
        'the right key and an invalid body',
        400,
        () => ({ address: bob.address, accessKey: bob.accessKey, message: { timestamp: 1, messages: [] } }),
      ],
    ];

    it.each(sealed)('sealed over /v1/websocket/unidentified, %s: %d', async (_label, status, make) => {
      const unidentified = await RecordingSocket.connectUnidentified(hs.relayUrl);
      const sent = make();
      const before = await storedEnvelopes(pool, bob.accountId);
      const http = await overHttp(hs.relayUrl, sent);
      const afterHttp = await storedEnvelopes(pool, bob.accountId);
      const socket = await overSocket(unidentified, sent);
      expect(http.status).toBe(status);
      expectSameAnswer(http, socket, { 'body:': 'message:' });
      expect((await storedEnvelopes(pool, bob.accountId)) - afterHttp).toBe(afterHttp - before);
    });
  });

  describe('Idempotency-Key across transports: the scope is the same, so a retry over the other transport stores nothing twice', () => {
    it('a socket send retried over HTTP with the same key gets the first answer; one envelope is stored', async () => {
      const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
      const key = randomUUID();
      const first = await aliceSocket.request(sendFrameFields(carol.address, [primary(carol)], 'once', { idempotencyKey: key }));
      const retry = await send(hs.relayUrl, carol.address, [primary(carol)], 'once', { token: alice.token, idempotencyKey: key });
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body);
      expect(await storedEnvelopes(pool, carol.accountId)).toBe(1);
    });

    it('an HTTP send retried over the socket with the same key gets the first answer; one envelope is stored', async () => {
      const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
      const key = randomUUID();
      const first = await send(hs.relayUrl, carol.address, [primary(carol)], 'once', { token: alice.token, idempotencyKey: key });
      const retries = await Promise.all(
        [1, 2, 3].map(() => aliceSocket.request(sendFrameFields(carol.address, [primary(carol)], 'once', { idempotencyKey: key }))),
      );
      expect(first.status).toBe(200);
      for (const retry of retries) expect(retry).toMatchObject({ status: 200, body: first.body });
      expect(await storedEnvelopes(pool, carol.accountId)).toBe(1);
    });

    it('a sealed socket send retried over HTTP (sealed) with the same key stores one envelope, and vice versa', async () => {
      const dave = await registerWithAccessKey(hs.directoryUrl, 'dave');
      const unidentified = await RecordingSocket.connectUnidentified(hs.relayUrl);
      const one = randomUUID();
      const viaSocket = await unidentified.request(
        sendFrameFields(dave.address, [primary(dave)], 'sealed', { idempotencyKey: one, accessKey: dave.accessKey }),
      );
      const viaHttp = await send(hs.relayUrl, dave.address, [primary(dave)], 'sealed', { accessKey: dave.accessKey, idempotencyKey: one });
      expect(viaSocket.status).toBe(200);
      expect(viaHttp.body).toEqual(viaSocket.body);
      const two = randomUUID();
      const httpFirst = await send(hs.relayUrl, dave.address, [primary(dave)], 'sealed 2', {
        accessKey: dave.accessKey,
        idempotencyKey: two,
      });
      const socketRetry = await unidentified.request(
        sendFrameFields(dave.address, [primary(dave)], 'sealed 2', { idempotencyKey: two, accessKey: dave.accessKey }),
      );
      expect(socketRetry).toMatchObject({ status: 200, body: httpFirst.body });
      expect(await storedEnvelopes(pool, dave.accountId)).toBe(2);
    });
  });

  describe('/v1/websocket/unidentified', () => {
    it('delivers a sealed send without source; the socket itself never receives envelopes, notices or queue-empty', async () => {
      const dave = await registerWithAccessKey(hs.directoryUrl, 'dave');
      // An Authorization header is ignored: the socket is nobody's, not even dave's.
      const unidentified = await RecordingSocket.connectUnidentified(hs.relayUrl, { authorization: `Bearer ${dave.token}` });
      const result = await unidentified.request(
        sendFrameFields(dave.address, [primary(dave)], 'sealed', { accessKey: dave.accessKey, type: 6 }),
      );
      expect(result.status).toBe(200);
      await send(hs.relayUrl, dave.address, [primary(dave)], 'identified', { token: alice.token });
      const daveSocket = await RecordingSocket.connect(hs.relayUrl, dave.token);
      await eventually(() => daveSocket.queueEmptyCount === 1);
      expect(daveSocket.envelopes.map((e) => Buffer.from(e.content, 'base64').toString())).toEqual(['sealed', 'identified']);
      expect('source' in daveSocket.envelopes[0]).toBe(false);
      await holdsFor(() => unidentified.frames.every((f) => f.type === 'send-result'), 300, 'only send-results on the unidentified socket');
      expect(unidentified.frames).toHaveLength(1);
    });

    it('takes only send frames: an ack, a notice-like or a non-JSON frame gets invalid_frame and the socket stays open', async () => {
      const unidentified = await RecordingSocket.connectUnidentified(hs.relayUrl);
      unidentified.ack([randomUUID()]);
      unidentified.sendRaw('{"type":"hello"}');
      unidentified.sendRaw('not json');
      await eventually(() => unidentified.errors.length === 3);
      for (const error of unidentified.errors)
        expect(error).toEqual({ type: 'error', error: 'invalid_frame', message: expect.any(String) });
      expect(unidentified.isOpen).toBe(true);
    });

    it('refuses a malformed upgrade with the JSON 400 of /v1/websocket, before any budget is taken', async () => {
      const refused = await upgradeWithoutKey(hs.relayUrl, '/v1/websocket/unidentified');
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body)).toEqual({ error: 'invalid_request', message: 'Sec-WebSocket-Key is missing or malformed' });
    });

    it('a sealed send to another homeserver goes through remote admission and reaches the gateway without a sender', async () => {
      const gateway = await startFakeGateway(process.env.TEST_REDIS_URL!, hs.relayConfig.redisPrefix);
      try {
        const unidentified = await RecordingSocket.connectUnidentified(hs.relayUrl);
        const key = randomBytes(16).toString('base64');
        const result = await unidentified.request(
          sendFrameFields('erin@beta.example', [{ deviceId: 1, registrationId: 7 }], 'far', { accessKey: key }),
        );
        expect(result.status).toBe(200);
        expect(gateway.received[0]).not.toHaveProperty('sender');
        expect(gateway.received).toEqual([
          expect.objectContaining({
            destination: 'beta.example',
            delivery: expect.objectContaining({ unidentifiedAccessKeyHash: expect.any(String) }),
          }),
        ]);
        expect('source' in gateway.received[0].delivery).toBe(false);
        gateway.reply = { status: 404, body: { error: 'unknown_server', message: 'beta.example is not a known homeserver' } };
        const refused = await unidentified.request(
          sendFrameFields('erin@beta.example', [{ deviceId: 1, registrationId: 7 }], 'far', { accessKey: key }),
        );
        expect(refused).toMatchObject({
          status: 404,
          body: { error: 'unknown_server', message: 'beta.example is not a known homeserver' },
        });
      } finally {
        await gateway.close();
      }
    });

    it('an access key on a device socket is refused 400 (sealed sends go over the unidentified socket) and nothing is stored', async () => {
      const before = await storedEnvelopes(pool, bob.accountId);
      const result = await aliceSocket.request(sendFrameFields(bob.address, bobDevices, 'x', { accessKey: bob.accessKey }));
      expect(result).toMatchObject({
        status: 400,
        body: { error: 'invalid_request', message: expect.stringMatching(/^unidentifiedAccessKey: /) },
      });
      expect(await storedEnvelopes(pool, bob.accountId)).toBe(before);
    });
  });

  describe('bad frames get clear answers; nothing is stored or lost', () => {
    it('not JSON, an unknown type or a binary frame: invalid_frame, the socket stays open and its sends still work', async () => {
      for (const text of ['not json', '{"type":"shout"}', 'null', '[]', '{"type":"send"']) aliceSocket.sendRaw(text);
      aliceSocket.sendRaw(Buffer.from([0xde, 0xad]));
      await eventually(() => aliceSocket.errors.length === 6);
      for (const error of aliceSocket.errors) expect(error).toEqual({ type: 'error', error: 'invalid_frame', message: expect.any(String) });
      const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
      expect((await aliceSocket.request(sendFrameFields(carol.address, [primary(carol)], 'still works'))).status).toBe(200);
    });

    it('a send frame with a usable requestId but bad fields: a 400 send-result naming the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ address: bob.address }, 'message'],
        [{ address: 7, message: {} }, 'address'],
        [{ address: bob.address, message: { timestamp: 1, messages: [envelope(primary(bob))] }, extra: true }, 'extra'],
        [
          { address: bob.address, idempotencyKey: 12, message: { timestamp: 1, messages: bobDevices.map((d) => envelope(d)) } },
          'idempotencyKey',
        ],
      ];
      const before = await storedEnvelopes(pool, bob.accountId);
      for (const [fields, field] of cases) {
        const result = await aliceSocket.request(fields);
        expect(result).toMatchObject({
          status: 400,
          body: { error: 'invalid_request', message: expect.stringMatching(new RegExp(`^${field}: `)) },
        });
      }
      expect(await storedEnvelopes(pool, bob.accountId)).toBe(before);
      expect(aliceSocket.isOpen).toBe(true);
    });

    it.each([
      ['no requestId', {}],
      ['an empty requestId', { requestId: '' }],
      ['a requestId of 65 characters', { requestId: 'r'.repeat(65) }],
      ['a numeric requestId', { requestId: 12 }],
    ])('a send frame with %s closes the socket with 4400 (no answer could be paired)', async (_label, id) => {
      aliceSocket.sendRaw(JSON.stringify({ type: 'send', ...id, ...sendFrameFields(bob.address, bobDevices, 'x') }));
      await eventually(() => aliceSocket.closeCode !== null);
      expect(aliceSocket.closeCode).toBe(4400);
      expect(aliceSocket.results).toEqual([]);
    });

    it('a requestId of exactly 64 characters is fine', async () => {
      const result = await aliceSocket.request({ requestId: 'r'.repeat(64), ...sendFrameFields(bob.address, bobDevices, 'x') });
      expect(result).toMatchObject({ requestId: 'r'.repeat(64), status: 200 });
    });

    it('a frame over RELAY_MAX_BODY_BYTES + 2 KiB closes the socket (1009) unbuffered; a body at the HTTP cap fits in a frame; the relay serves on', async () => {
      const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
      // A message padded with an unknown field to just under the HTTP body cap (65536): HTTP and the socket both read it and answer 400.
      const nearCap = { timestamp: 1, messages: [envelope(primary(carol))], pad: 'p'.repeat(65_536 - 200) };
      expect(JSON.stringify(nearCap).length).toBeLessThan(65_536);
      const http = await overHttp(hs.relayUrl, { address: carol.address, message: nearCap }, alice.token);
      expect(http.status).toBe(400);
      expectSameAnswer(http, await overSocket(aliceSocket, { address: carol.address, message: nearCap }));

      const stored = await aliceSocket.request(sendFrameFields(carol.address, [primary(carol)], 'before the huge frame'));
      expect(stored.status).toBe(200);
      aliceSocket.sendRaw(
        JSON.stringify({ type: 'send', requestId: 'huge', address: carol.address, message: { pad: 'x'.repeat(65_536 + 2048) } }),
      );
      await eventually(() => aliceSocket.closeCode !== null);
      expect(aliceSocket.closeCode).toBe(1009);
      const again = await RecordingSocket.connect(hs.relayUrl, alice.token);
      expect((await again.request(sendFrameFields(carol.address, [primary(carol)], 'after'))).status).toBe(200);
      const carolSocket = await RecordingSocket.connect(hs.relayUrl, carol.token);
      await eventually(() => carolSocket.queueEmptyCount === 1);
      expect(carolSocket.envelopes.map((e) => Buffer.from(e.content, 'base64').toString())).toEqual(['before the huge frame', 'after']);
    });
  });

  it('counts sends by transport in sealpost_relay_sends_total, with no address in any label', async () => {
    const labels = (transport: string) => `transport="${transport}",status="200"`;
    const httpBefore = await metric(hs.relayUrl, 'sealpost_relay_sends_total', labels('http'));
    const socketBefore = await metric(hs.relayUrl, 'sealpost_relay_sends_total', labels('websocket'));
    const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
    expect((await send(hs.relayUrl, carol.address, [primary(carol)], 'h', { token: alice.token })).status).toBe(200);
    expect((await aliceSocket.request(sendFrameFields(carol.address, [primary(carol)], 's'))).status).toBe(200);
    expect((await aliceSocket.request(sendFrameFields(carol.address, [primary(carol)], 's'))).status).toBe(200);
    expect(await metric(hs.relayUrl, 'sealpost_relay_sends_total', labels('http'))).toBe(httpBefore + 1);
    expect(await metric(hs.relayUrl, 'sealpost_relay_sends_total', labels('websocket'))).toBe(socketBefore + 2);
    const text = await (await fetch(`${hs.relayUrl}/metrics`)).text();
    expect(text).not.toContain(carol.localpart);
    expect(text).not.toContain(alice.localpart);
  });
});

/**
 * Bounds on socket sends: WS_MAX_SENDS_IN_FLIGHT per socket, HTTP_MAX_REQUESTS_PER_CLIENT per
 * client address for unidentified sockets (shared with HTTP), sealed-remote buckets shared with
 * HTTP. Group commit waits 300 ms here, so sends stay in flight long enough to be counted.
 */
describe('relay: socket send limits', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  let alice: TestAccount;
  beforeAll(async () => {
    hs = await startHomeserver({
      env: {
        WS_MAX_SENDS_IN_FLIGHT: '2',
        HTTP_MAX_REQUESTS_PER_CLIENT: '3',
        GROUP_COMMIT_MAX_WAIT_MS: '300',
        QUEUE_CAP_PER_DEVICE: '3',
        SEALED_REMOTE_RATE_BURST: '2',
        SEALED_REMOTE_RATE_PER_MINUTE: '0.01',
      },
    });
    pool = testPool();
    alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  it('past WS_MAX_SENDS_IN_FLIGHT (2) a send gets 429 too_many_requests with retryAfter; the socket stays open and the admitted sends are stored', async () => {
    const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
    const socket = await RecordingSocket.connect(hs.relayUrl, alice.token);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => socket.request(sendFrameFields(bob.address, [primary(bob)], `m${i}`))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429, 429, 429]);
    expect(answers[2]).toMatchObject({
      body: { error: 'too_many_requests', message: expect.stringContaining('in flight') },
      retryAfter: 1,
    });
    expect(socket.isOpen).toBe(true);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(2);
    expect((await socket.request(sendFrameFields(bob.address, [primary(bob)], 'later'))).status).toBe(200);
  });

  it("unidentified sockets' sends share their address's HTTP_MAX_REQUESTS_PER_CLIENT (3): the 4th in flight gets HTTP's 429 body", async () => {
    const bob = await registerWithAccessKey(hs.directoryUrl, 'bob');
    const one = await RecordingSocket.connectUnidentified(hs.relayUrl);
    const two = await RecordingSocket.connectUnidentified(hs.relayUrl);
    const frame = () => sendFrameFields(bob.address, [primary(bob)], 'sealed', { accessKey: bob.accessKey });
    const answers = await Promise.all([one.request(frame()), one.request(frame()), two.request(frame()), two.request(frame())]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 429]);
    expect(answers.find((a) => a.status === 429)).toMatchObject({
      body: { error: 'too_many_requests', message: 'too many requests in flight from this address; retry later' },
      retryAfter: 1,
    });
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(3);
  });

  it('a full recipient queue (QUEUE_CAP_PER_DEVICE 3): the same 429 recipient_queue_full over both, Retry-After as retryAfter', async () => {
    const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
    const socket = await RecordingSocket.connect(hs.relayUrl, alice.token);
    for (const text of ['1', '2', '3'])
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], text, { token: alice.token })).status).toBe(200);
    const sent = { address: bob.address, message: { timestamp: 1, messages: [envelope(primary(bob))] } };
    const http = await overHttp(hs.relayUrl, sent, alice.token);
    expect(http.status).toBe(429);
    expect(http.body.error).toBe('recipient_queue_full');
    expectSameAnswer(http, await overSocket(socket, sent));
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(3);
  });

  it('a duplicate requestId while the first is in flight closes the socket (4400); the first send is still stored', async () => {
    const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
    const socket = await RecordingSocket.connect(hs.relayUrl, alice.token);
    const first = socket.request({ requestId: 'same', ...sendFrameFields(bob.address, [primary(bob)], 'first') }).catch((e: Error) => e);
    socket.sendRaw(JSON.stringify({ type: 'send', requestId: 'same', ...sendFrameFields(bob.address, [primary(bob)], 'second') }));
    await eventually(() => socket.closeCode !== null);
    expect(socket.closeCode).toBe(4400);
    expect(await first).toBeInstanceOf(Error);
    await eventually(async () => (await storedEnvelopes(pool, bob.accountId)) === 1);
  });

  it('sealed sends to another homeserver take the same per-address bucket over HTTP and the socket (SEALED_REMOTE_RATE_BURST 2)', async () => {
    const gateway = await startFakeGateway(process.env.TEST_REDIS_URL!, hs.relayConfig.redisPrefix);
    try {
      const socket = await RecordingSocket.connectUnidentified(hs.relayUrl);
      const key = randomBytes(16).toString('base64');
      const sent = {
        address: 'erin@beta.example',
        accessKey: key,
        message: { timestamp: 1, messages: [envelope({ deviceId: 1, registrationId: 7 })] },
      };
      expect((await overHttp(hs.relayUrl, sent)).status).toBe(200);
      expect((await overSocket(socket, sent)).status).toBe(200);
      const refusedOverSocket = await overSocket(socket, sent);
      const refusedOverHttp = await overHttp(hs.relayUrl, sent);
      expect(refusedOverHttp.status).toBe(429);
      expect(refusedOverSocket).toMatchObject({
        status: 429,
        body: { error: 'rate_limited', message: expect.any(String), retryAfter: expect.any(Number) },
        retryAfter: refusedOverSocket.body.retryAfter,
      });
      expect(Object.keys(refusedOverSocket.body).sort()).toEqual(Object.keys(refusedOverHttp.body).sort());
      expect(gateway.received).toHaveLength(2);
    } finally {
      await gateway.close();
    }
  });
});

/** Unidentified upgrades are budgeted per client address; every frame takes from the socket's frame budget. */
describe('relay: unidentified socket admission', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver({
      env: {
        UNIDENTIFIED_SOCKET_RATE_BURST: '2',
        UNIDENTIFIED_SOCKET_RATE_PER_MINUTE: '0.01',
        WS_FRAME_BURST: '3',
        WS_FRAME_RATE_PER_SECOND: '0.01',
      },
    });
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await hs.close();
  });

  it('past UNIDENTIFIED_SOCKET_RATE_BURST upgrades from one address: a JSON 429 rate_limited with Retry-After; send frames count against WS_FRAME_BURST (4429)', async () => {
    const first = await RecordingSocket.connectUnidentified(hs.relayUrl);
    await RecordingSocket.connectUnidentified(hs.relayUrl);
    const refused = await refusedUpgrade(hs.relayUrl, {}, '/v1/websocket/unidentified');
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(refused.body)).toEqual({ error: 'rate_limited', message: expect.any(String) });

    const bob = await registerWithAccessKey(hs.directoryUrl, 'bob');
    const frame = () => sendFrameFields(bob.address, [primary(bob)], 'x', { accessKey: bob.accessKey });
    const answers = await Promise.all([first.request(frame()), first.request(frame()), first.request(frame())]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    first.sendRaw(JSON.stringify({ type: 'send', requestId: 'fourth', ...frame() }));
    await eventually(() => first.closeCode !== null);
    expect(first.closeCode).toBe(4429);
  });
});

/** An upgrade request without Sec-WebSocket-Key (which the ws client always sends): its status and body. */
function upgradeWithoutKey(relayUrl: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const upgrade = request(`${relayUrl}${path}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13' },
    });
    upgrade.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    upgrade.on('upgrade', (_response, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    upgrade.on('error', reject);
    upgrade.end();
  });
}
