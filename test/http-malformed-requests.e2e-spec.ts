import { registerAccount } from './support/accounts';
import { eventually } from './support/bus-listener';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { OutputTap } from './support/output-tap';
import { RawAnswer, jsonBody, openRaw, rawExchange } from './support/raw-http';

/**
 * Issue 9, defect 9: requests that Node, Fastify or `ws` refuse before any route sees them still
 * get the API's answer — a 4xx with a JSON `{error, message}` body (a snake_case code) — sent over
 * raw sockets because `fetch` will not send them. A HEAD answer never carries a body, and a client
 * hanging up mid-body is not an ERROR in the logs.
 */

function expectApiError(answer: RawAnswer, status: number): void {
  expect({ status: answer.status, raw: answer.raw.slice(0, 300) }).toEqual({ status, raw: expect.any(String) });
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = jsonBody(answer) as Record<string, unknown> | undefined;
  expect(body && Object.keys(body).sort()).toEqual(['error', 'message']);
  expect(body!.error).toMatch(/^[a-z][a-z_]*$/);
  expect(typeof body!.message).toBe('string');
}

const BIG_HEADER = `X-Filler: ${'a'.repeat(20 * 1024)}\r\n`;

describe('malformed HTTP gets JSON {error, message} answers (raw sockets)', () => {
  let hs: RunningHomeserver;
  let token: string;
  let tap: OutputTap;

  beforeAll(async () => {
    hs = await startHomeserver({ env: { LOG_LEVEL: 'log' } });
    token = (await registerAccount(hs.directoryUrl)).token;
  });
  afterAll(async () => {
    tap?.close();
    await hs?.close();
  });

  it('a request without Host gets a JSON 400, not Node’s empty one', async () => {
    expectApiError(await rawExchange(hs.directoryUrl, 'GET /healthz/live HTTP/1.1\r\nConnection: close\r\n\r\n'), 400);
  });

  it('an unparseable request line gets a JSON 400', async () => {
    expectApiError(await rawExchange(hs.relayUrl, 'GARBAGE\x01 / HTTP/1.1\r\nHost: x\r\n\r\n'), 400);
  });

  it('headers over the size limit get a JSON 431', async () => {
    expectApiError(await rawExchange(hs.directoryUrl, `GET /healthz/live HTTP/1.1\r\nHost: x\r\n${BIG_HEADER}\r\n`), 431);
  });

  it('a HEAD with headers over the size limit gets a 431 without a body', async () => {
    const answer = await rawExchange(hs.directoryUrl, `HEAD /healthz/live HTTP/1.1\r\nHost: x\r\n${BIG_HEADER}\r\n`);
    expect(answer.status).toBe(431);
    expect(answer.body).toBe('');
  });

  it('a body over the limit gets a JSON 413 and a non-JSON body a JSON 415', async () => {
    const big = hs.directoryConfig.maxBodyBytes + 1;
    expectApiError(
      await rawExchange(
        hs.directoryUrl,
        `POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big}\r\nConnection: close\r\n\r\n{`,
      ),
      413,
    );
    expectApiError(
      await rawExchange(
        hs.directoryUrl,
        'POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi',
      ),
      415,
    );
  });

  it('malformed WebSocket upgrades get JSON 400/405 from the relay, not ws’s text/html', async () => {
    const upgrade = (method: string, key: string, version: string) =>
      `${method} /v1/websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    const goodKey = Buffer.alloc(16, 7).toString('base64');
    expectApiError(await rawExchange(hs.relayUrl, upgrade('GET', 'not-a-key', '13')), 400);
    expectApiError(await rawExchange(hs.relayUrl, upgrade('GET', goodKey, '99')), 400);
    expectApiError(await rawExchange(hs.relayUrl, upgrade('POST', goodKey, '13')), 405);
  });

  it('a client hanging up mid-body is counted, not logged as an ERROR with a stack', async () => {
    tap = new OutputTap();
    try {
      for (let i = 0; i < 3; i++) {
        const socket = await openRaw(hs.directoryUrl);
        socket.write(
          'POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"localpart":',
        );
        await new Promise((r) => setTimeout(r, 100));
        socket.destroy();
      }
      const metrics = async () =>
        ((await (await fetch(`${hs.directoryUrl}/metrics`)).text()).match(/^sealpost_http_client_aborts.*$/gm) ?? []).join('\n');
      const counted = /^sealpost_http_client_aborts_total 3$/m;
      await eventually(async () => counted.test(await metrics()), 5000).catch(() => undefined);
      expect(await metrics()).toMatch(counted);
    } finally {
      tap.close();
    }
    expect(tap.matching(/ERROR|\bat .+\(.+:\d+:\d+\)/)).toEqual([]);
  });
});

describe('an address that keeps sending malformed requests has its connections closed at accept, for a while', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { HTTP_MALFORMED_REQUEST_BURST: '3', HTTP_MALFORMED_REQUESTS_PER_SECOND: '1' } });
  });
  afterAll(async () => {
    await hs?.close();
  });

  const junk = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]);
  const healthz = 'GET /healthz/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

  it('boxes 127.0.0.7 after 3 junk requests (its well-formed request then gets no answer), not 127.0.0.8, and lets it back after a second', async () => {
    for (let i = 0; i < 3; i++) expect((await rawExchange(hs.directoryUrl, junk, 3000, '127.0.0.7')).status).toBe(400);
    const boxed = await rawExchange(hs.directoryUrl, healthz, 3000, '127.0.0.7');
    expect({ status: boxed.status, raw: boxed.raw, closed: boxed.closed }).toEqual({ status: null, raw: '', closed: true });
    expect((await rawExchange(hs.directoryUrl, healthz, 3000, '127.0.0.8')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await rawExchange(hs.directoryUrl, healthz, 3000, '127.0.0.7')).status).toBe(200);
  });

  it('malformed WebSocket upgrades (no key, a route that does not upgrade) count too: 127.0.0.9 is boxed on the relay after 3', async () => {
    const noKey = 'GET /v1/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
    const noRoute =
      'GET /v1/nothing HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    expect((await rawExchange(hs.relayUrl, noKey, 3000, '127.0.0.9')).status).toBe(400);
    expect((await rawExchange(hs.relayUrl, noRoute, 3000, '127.0.0.9')).status).toBe(404);
    expect((await rawExchange(hs.relayUrl, noKey, 3000, '127.0.0.9')).status).toBe(400);
    const boxed = await rawExchange(hs.relayUrl, healthz, 3000, '127.0.0.9');
    expect({ status: boxed.status, raw: boxed.raw, closed: boxed.closed }).toEqual({ status: null, raw: '', closed: true });
  });

  it('a service without WebSocket routes answers any upgrade 404 JSON and charges it: 127.0.0.10 is boxed on the directory after 3', async () => {
    const upgrade =
      'GET /v1/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    for (let i = 0; i < 3; i++) {
      const answer = await rawExchange(hs.directoryUrl, upgrade, 3000, '127.0.0.10');
      expect(answer.status).toBe(404);
      expect(answer.raw).toContain('"error":"not_found"');
    }
    const boxed = await rawExchange(hs.directoryUrl, healthz, 3000, '127.0.0.10');
    expect({ status: boxed.status, raw: boxed.raw, closed: boxed.closed }).toEqual({ status: null, raw: '', closed: true });
  });
});
