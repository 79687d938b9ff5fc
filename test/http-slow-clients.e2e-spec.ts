import type { Socket } from 'node:net';
import { registerAccount } from './support/accounts';
import { DeviceSocket } from './support/device-socket';
import { call } from './support/http';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { collect, jsonBody, openRaw } from './support/raw-http';
import { sleep } from './support/send-stream';

/**
 * Issue 9, defect 4: a client that sends headers and half a body and then stalls must not hold
 * the request (and the bytes received so far) open forever, and one address may not hold more
 * than HTTP_MAX_REQUESTS_PER_CLIENT requests in flight. Short limits are configured so the
 * outcome comes quickly; every wait below is a bounded wait for that outcome.
 */
const REQUEST_TIMEOUT_MS = 1500;
const HEADERS_TIMEOUT_MS = 1000;
const MAX_PER_CLIENT = 4;
/** Bounded wait for the server to end a stalled request: its timeout plus Node's check interval, with room for a busy machine. */
const OUTCOME_WAIT_MS = REQUEST_TIMEOUT_MS + 8000;

/** Opens a connection and sends the headers of a 100 kB JSON PUT and the first half of its body, then nothing more. */
async function stalledSend(url: string): Promise<Socket> {
  const socket = await openRaw(url);
  const body = `{"timestamp":1,"messages":[{"deviceId":1,"registrationId":1,"type":1,"content":"${'A'.repeat(100_000)}"}]}`;
  socket.write(
    `PUT /v1/messages/nobody@alpha.test HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
  );
  socket.write(body.slice(0, body.length / 2));
  return socket;
}

describe('slow and stalled HTTP clients (request timeouts, requests in flight per client address)', () => {
  let hs: RunningHomeserver;

  beforeAll(async () => {
    hs = await startHomeserver({
      env: {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_MAX_REQUESTS_PER_CLIENT: String(MAX_PER_CLIENT),
      },
    });
  });
  afterAll(async () => {
    await hs?.close();
  });

  it('a request whose body stalls halfway is ended (408 JSON, connection closed) after the request timeout', async () => {
    const socket = await stalledSend(hs.relayUrl);
    const answer = await collect(socket, OUTCOME_WAIT_MS);
    expect({ closed: answer.closed, status: answer.status }).toEqual({ closed: true, status: 408 });
    expect(jsonBody(answer)).toEqual({ error: 'request_timeout', message: expect.any(String) });
  });

  it('a request whose headers never end is closed after the headers timeout', async () => {
    const socket = await openRaw(hs.directoryUrl);
    const answer = await collect(socket, OUTCOME_WAIT_MS, () => socket.write('GET /healthz/live HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n'));
    expect(answer.closed).toBe(true);
    if (answer.status !== null) expect(answer.status).toBe(408);
  });

  it(`${MAX_PER_CLIENT} stalled requests from one address are served; one more is refused with 429 JSON; once they end the address is served again`, async () => {
    const stalled = await Promise.all(Array.from({ length: MAX_PER_CLIENT }, () => stalledSend(hs.relayUrl)));
    try {
      // Each stalled request has been admitted once the server has read its headers; poll until the next one is refused.
      let refused = await call('GET', `${hs.relayUrl}/healthz/live`);
      for (let i = 0; i < 20 && refused.status !== 429; i++) {
        await sleep(50);
        refused = await call('GET', `${hs.relayUrl}/healthz/live`);
      }
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: 'too_many_requests', message: expect.any(String) });
      expect(refused.headers.get('retry-after')).toBe('1');
    } finally {
      for (const socket of stalled) socket.destroy();
    }
    let after = await call('GET', `${hs.relayUrl}/healthz/live`);
    for (let i = 0; i < 40 && after.status !== 200; i++) {
      await sleep(50);
      after = await call('GET', `${hs.relayUrl}/healthz/live`);
    }
    expect(after.status).toBe(200);
  });

  it('an open WebSocket is not ended by the request timeout', async () => {
    const account = await registerAccount(hs.directoryUrl);
    const socket = await DeviceSocket.connect(hs.relayUrl, account.token);
    try {
      await sleep(REQUEST_TIMEOUT_MS + 2000);
      expect(socket.closeCode).toBeNull();
      expect(socket.queueEmpty).toBeGreaterThanOrEqual(1);
    } finally {
      await socket.close();
    }
  });
});
