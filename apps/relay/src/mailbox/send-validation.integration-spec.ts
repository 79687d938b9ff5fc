import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { TestAccount, registerAccount } from '../../../../test/support/accounts';
import { call } from '../../../../test/support/http';
import { startFakeGateway } from '../../../../test/support/fake-gateway';
import { primary, send, storedEnvelopes, testPool } from '../../../../test/support/relay-testkit';

/**
 * Every bad send gets a clear 4xx with `{error, message}` and stores nothing (DESIGN §4, §7):
 * size cap 413, malformed bodies 400, unknown local addresses 404, bad tokens 401; remote
 * addresses go to the federation gateway, whose answer is passed back.
 */
describe('relay: send validation', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  let alice: TestAccount;
  let bob: TestAccount;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { MAX_ENVELOPE_BYTES: '1024', RELAY_MAX_BODY_BYTES: '65536' } });
    pool = testPool();
    alice = await registerAccount(hs.directoryUrl, { stem: 'alice' });
    bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  const put = (address: string, body: unknown, token: string | undefined = alice.token) =>
    call('PUT', `${hs.relayUrl}/v1/messages/${address}`, { token, body });
  const message = (over: Record<string, unknown> = {}) => ({
    deviceId: 1,
    registrationId: bob.registrationId,
    type: 1,
    content: Buffer.from('x').toString('base64'),
    ...over,
  });

  it('content of exactly MAX_ENVELOPE_BYTES (1024) is accepted; 1025 bytes is 413 payload_too_large and nothing is stored', async () => {
    const before = await storedEnvelopes(pool, bob.accountId);
    const atCap = await put(bob.address, { timestamp: 1, messages: [message({ content: randomBytes(1024).toString('base64') })] });
    expect(atCap.status).toBe(200);
    const over = await put(bob.address, { timestamp: 1, messages: [message({ content: randomBytes(1025).toString('base64') })] });
    expect(over.status).toBe(413);
    expect(over.body).toEqual({ error: 'payload_too_large', message: expect.stringContaining('messages[0].content') });
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(before + 1);
  });

  it('a request body over RELAY_MAX_BODY_BYTES is 413 payload_too_large with the JSON error body', async () => {
    const huge = await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      rawBody: JSON.stringify({ timestamp: 1, messages: [message({ content: randomBytes(70_000).toString('base64') })] }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ error: 'payload_too_large', message: expect.any(String) });
  });

  const badBodies: [string, () => unknown, string][] = [
    ['empty messages', () => ({ timestamp: 1, messages: [] }), 'messages'],
    ['duplicate deviceId', () => ({ timestamp: 1, messages: [message(), message()] }), 'messages[1].deviceId'],
    ['content that is not base64', () => ({ timestamp: 1, messages: [message({ content: '@@@@' })] }), 'messages[0].content'],
    ['unpadded base64 content', () => ({ timestamp: 1, messages: [message({ content: 'eA' })] }), 'messages[0].content'],
    ['url-safe base64 content', () => ({ timestamp: 1, messages: [message({ content: '-_-_' })] }), 'messages[0].content'],
    ['empty content', () => ({ timestamp: 1, messages: [message({ content: '' })] }), 'messages[0].content'],
    ['content that is not a string', () => ({ timestamp: 1, messages: [message({ content: 12 })] }), 'messages[0].content'],
    ['type 256', () => ({ timestamp: 1, messages: [message({ type: 256 })] }), 'messages[0].type'],
    ['type -1', () => ({ timestamp: 1, messages: [message({ type: -1 })] }), 'messages[0].type'],
    ['missing timestamp', () => ({ messages: [message()] }), 'timestamp'],
    ['a string timestamp', () => ({ timestamp: '1', messages: [message()] }), 'timestamp'],
    ['a negative timestamp', () => ({ timestamp: -1, messages: [message()] }), 'timestamp'],
    ['messages that is not an array', () => ({ timestamp: 1, messages: {} }), 'messages'],
    ['deviceId 0', () => ({ timestamp: 1, messages: [message({ deviceId: 0 })] }), 'messages[0].deviceId'],
    ['deviceId 128', () => ({ timestamp: 1, messages: [message({ deviceId: 128 })] }), 'messages[0].deviceId'],
    ['missing registrationId', () => ({ timestamp: 1, messages: [message({ registrationId: undefined })] }), 'messages[0].registrationId'],
    ['an unknown field', () => ({ timestamp: 1, messages: [message()], extra: true }), 'extra'],
    ['urgent that is not a boolean', () => ({ timestamp: 1, urgent: 'yes', messages: [message()] }), 'urgent'],
    ['a JSON array body', () => [message()], 'body'],
  ];

  it.each(badBodies)('a body with %s is 400 invalid_request naming the field, and nothing is stored', async (_label, body, field) => {
    const before = await storedEnvelopes(pool, bob.accountId);
    const res = await put(bob.address, body());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', message: expect.stringContaining(field) });
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(before);
  });

  it('a body that is not JSON is 400 invalid_json; a non-JSON content type is 415', async () => {
    const broken = await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      rawBody: '{"timestamp": 1, "messages": [',
    });
    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({ error: 'invalid_json', message: expect.any(String) });
    const text = await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      rawBody: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body).toEqual({ error: 'unsupported_media_type', message: expect.any(String) });
  });

  it('an address that is not localpart@server is 400 invalid_request', async () => {
    for (const address of ['no-at-sign', 'UPPER@alpha.test', '@alpha.test', 'bob@', 'bob@-bad-.test']) {
      const res = await put(encodeURIComponent(address), { timestamp: 1, messages: [message()] });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', message: expect.stringContaining('address') });
    }
  });

  it("a remote address is not looked up locally: it is handed to the federation gateway, and the gateway's refusal is the answer", async () => {
    const gateway = await startFakeGateway(process.env.TEST_REDIS_URL!, hs.relayConfig.redisPrefix);
    try {
      gateway.reply = { status: 404, body: { error: 'unknown_server', message: 'beta.example is not a known homeserver' } };
      const refused = await put('bob@beta.example', { timestamp: 7, messages: [message({ registrationId: 99 })] });
      expect(refused.status).toBe(404);
      expect(refused.body).toEqual({ error: 'unknown_server', message: 'beta.example is not a known homeserver' });
      expect(gateway.received).toEqual([
        {
          destination: 'beta.example',
          sender: { accountId: alice.accountId, deviceId: 1 },
          delivery: {
            id: expect.any(String),
            address: 'bob@beta.example',
            timestamp: 7,
            urgent: false,
            messages: [{ deviceId: 1, registrationId: 99, type: 1, content: Buffer.from('x').toString('base64') }],
            source: alice.address,
            sourceDevice: 1,
          },
        },
      ]);
      // Kept in the gateway's outbox (202) is a success for the sender.
      gateway.reply = { status: 202, body: {} };
      const accepted = await put('bob@beta.example', { timestamp: 8, messages: [message({ registrationId: 99 })] });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({ serverTimestamp: expect.any(Number) });
    } finally {
      await gateway.close();
    }
  });

  it('an unknown local address with a valid token is 404 not_found', async () => {
    const res = await put(`nobody-${randomBytes(4).toString('hex')}@alpha.test`, { timestamp: 1, messages: [message()] });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('a bad bearer token is 401 unauthorized, also when an access key is given too; nothing is stored', async () => {
    const before = await storedEnvelopes(pool, bob.accountId);
    for (const authorization of [`Bearer ${randomBytes(32).toString('base64')}`, 'Bearer not a token', 'Basic YWxpY2U6cHc=', 'Bearer ']) {
      const res = await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
        headers: { authorization },
        body: { timestamp: 1, messages: [message()] },
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
    }
    const withKey = await send(hs.relayUrl, bob.address, [primary(bob)], 'x', {
      headers: { authorization: `Bearer ${randomBytes(32).toString('base64')}` },
      accessKey: randomBytes(16).toString('base64'),
    });
    expect(withKey.status).toBe(401);
    expect(await storedEnvelopes(pool, bob.accountId)).toBe(before);
  });
});
