import { Agent, request as httpRequest } from 'node:http';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { ServerSigningKey, craftSignedRequest, flipSignatureBit, readSigningKey } from '../support/federation-testkit';
import { streamedUpload } from '../support/streamed-upload';

const MIB = 1024 * 1024;
/** Far above what the gateway could take in before answering if it judged headers first (socket buffers are a few MiB). */
const HUGE = 48 * MIB;
const BATCH_CAP = 4 * MIB;

/**
 * Issue 9, defect 1: the gateway must judge a federation request by its headers (origin,
 * signature, key, window, destination, per-origin budget, declared size) before it reads the
 * body, and cap the body it does read by what the route can legitimately hold. Each refusal here
 * must come while the client is still sending: `bytesSent` far below the body's size.
 */
describe('federation gateway judges headers before reading a body (abuse: huge unauthenticated bodies)', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let alphaKey: ServerSigningKey;

  beforeAll(async () => {
    // A small batch cap, so that reading up to it and no further is plain to see.
    [alpha, beta] = await startFederation(['alpha.test', 'beta.test'], {
      'beta.test': { FEDERATION_MAX_BATCH_BODY_BYTES: String(BATCH_CAP) },
    });
    alphaKey = readSigningKey(alpha);
  });
  afterAll(async () => {
    await alpha?.close();
    await beta?.close();
  });

  const signedHeaders = async (path: string, overrides: { destination?: string } = {}) => {
    const crafted = await craftSignedRequest({
      method: 'PUT',
      baseUrl: beta.gatewayUrl,
      path,
      rawBody: '{}',
      key: alphaKey,
      destination: overrides.destination ?? 'beta.test',
    });
    return crafted.headers;
  };

  it('refuses an unsigned 48 MiB PUT /federation/v1/messages with 401 JSON before the body is sent', async () => {
    const outcome = await streamedUpload({
      url: `${beta.gatewayUrl}/federation/v1/messages`,
      method: 'PUT',
      headers: {},
      totalBytes: HUGE,
    });
    expect(outcome.status).toBe(401);
    expect(outcome.body).toEqual({ error: 'invalid_signature', message: expect.any(String) });
    expect(outcome.bytesSent).toBeLessThan(HUGE / 2);
  });

  it('refuses a badly signed (one bit flipped) 48 MiB delivery with 401 before the body is sent', async () => {
    const headers = await signedHeaders('/federation/v1/messages');
    headers.signature = flipSignatureBit(headers.signature);
    const outcome = await streamedUpload({ url: `${beta.gatewayUrl}/federation/v1/messages`, method: 'PUT', headers, totalBytes: HUGE });
    expect(outcome.status).toBe(401);
    expect(outcome.body).toEqual({ error: 'invalid_signature', message: expect.stringMatching(/signature/) });
    expect(outcome.bytesSent).toBeLessThan(HUGE / 2);
  });

  it('refuses a request for another destination with a huge chunked body before reading it', async () => {
    const headers = await signedHeaders('/federation/v1/messages', { destination: 'gamma.test' });
    const outcome = await streamedUpload({
      url: `${beta.gatewayUrl}/federation/v1/messages`,
      method: 'PUT',
      headers,
      totalBytes: HUGE,
      chunked: true,
    });
    expect(outcome.status).toBe(401);
    expect(outcome.body).toEqual({ error: 'invalid_signature', message: expect.stringMatching(/destination/) });
    expect(outcome.bytesSent).toBeLessThan(HUGE / 2);
  });

  it('answers a correctly signed delivery declaring more than the batch cap 413 JSON before the body is sent', async () => {
    const headers = await signedHeaders('/federation/v1/messages');
    const outcome = await streamedUpload({ url: `${beta.gatewayUrl}/federation/v1/messages`, method: 'PUT', headers, totalBytes: HUGE });
    expect(outcome.status).toBe(413);
    expect(outcome.body).toEqual({ error: 'payload_too_large', message: expect.any(String) });
    expect(outcome.bytesSent).toBeLessThan(HUGE / 2);
  });

  it('stops reading a correctly signed chunked body at the cap of its route (413 JSON) instead of reading it all', async () => {
    const headers = await signedHeaders('/federation/v1/messages');
    const outcome = await streamedUpload({
      url: `${beta.gatewayUrl}/federation/v1/messages`,
      method: 'PUT',
      headers,
      totalBytes: HUGE,
      chunked: true,
    });
    expect(outcome.status).toBe(413);
    expect(outcome.body).toEqual({ error: 'payload_too_large', message: expect.stringContaining(String(BATCH_CAP)) });
    expect(outcome.bytesSent).toBeLessThan(HUGE / 2);
  });

  it('GET routes take no body: a signed claim with a body is refused 413 before it is read', async () => {
    const crafted = await craftSignedRequest({
      method: 'GET',
      baseUrl: beta.gatewayUrl,
      path: '/federation/v1/ping',
      key: alphaKey,
      destination: 'beta.test',
    });
    const outcome = await streamedUpload({
      url: `${beta.gatewayUrl}/federation/v1/ping`,
      method: 'GET',
      headers: crafted.headers,
      totalBytes: 8 * MIB,
    });
    expect(outcome.status).toBe(413);
    expect(outcome.body).toEqual({ error: 'payload_too_large', message: expect.any(String) });
    expect(outcome.bytesSent).toBeLessThan(8 * MIB);
  });

  it('still admits a correctly signed small delivery batch (the gate lets honest peers through)', async () => {
    const crafted = await craftSignedRequest({
      method: 'PUT',
      baseUrl: beta.gatewayUrl,
      path: '/federation/v1/messages',
      body: { deliveries: [] },
      key: alphaKey,
      destination: 'beta.test',
    });
    const answer = await fetch(crafted.url, { method: 'PUT', headers: crafted.headers, body: crafted.body });
    // An empty batch is well signed and parsed: the answer comes from the route's own validation, not the gate.
    expect(answer.status).not.toBe(401);
    expect(answer.status).not.toBe(413);
    expect(await answer.json()).toEqual(expect.any(Object));
  });
  /** Two requests on one keep-alive connection, `gapMs` apart: the second one's outcome, and whether the first said it closes. */
  async function twoOnOneConnection(first: { method: string; path: string; body?: string }, gapMs: number) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; connection: string | undefined; socketId: unknown }>((resolve, reject) => {
        const req = httpRequest(
          `${beta.gatewayUrl}${path}`,
          { method, agent, headers: body ? { 'content-type': 'application/json' } : {} },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socketId: req.socket }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      const a = await send(first.method, first.path, first.body);
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const b = await send('GET', '/federation/v1/ping').catch((error: Error) => ({
        status: 0,
        connection: undefined,
        socketId: error.message,
      }));
      return { first: a, second: b, sameSocket: a.socketId === b.socketId };
    } finally {
      agent.destroy();
    }
  }

  it('a refused request without a body, or with a small one, leaves its keep-alive connection usable; one with a large body says Connection: close before closing it', async () => {
    // unsigned GET: refused 401 on its headers, nothing to discard — the connection must serve the next request
    const bodiless = await twoOnOneConnection({ method: 'GET', path: '/federation/v1/ping' }, 2_500);
    expect(bodiless.first).toMatchObject({ status: 401 });
    expect(bodiless.first.connection).not.toBe('close');
    expect(bodiless.second.status).toBe(401);
    expect(bodiless.sameSocket).toBe(true);
    // unsigned PUT with a small body (a forged request's usual size): Node discards it, the connection stays
    const small = await twoOnOneConnection({ method: 'PUT', path: '/federation/v1/messages', body: '{"deliveries":[]}' }, 2_500);
    expect(small.first).toMatchObject({ status: 401 });
    expect(small.first.connection).not.toBe('close');
    expect(small.second.status).toBe(401);
    expect(small.sameSocket).toBe(true);
    // unsigned PUT with a body past 64 KiB: refused unread, so the connection is closed after a linger — and the answer says so
    const large = JSON.stringify({ deliveries: [], pad: 'x'.repeat(200 * 1024) });
    const withBody = await twoOnOneConnection({ method: 'PUT', path: '/federation/v1/messages', body: large }, 2_500);
    expect(withBody.first).toMatchObject({ status: 401, connection: 'close' });
    expect(withBody.second.status).toBe(401);
    expect(withBody.sameSocket).toBe(false);
  });
});
