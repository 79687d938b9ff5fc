import type { Socket } from 'node:net';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { metric } from './support/metrics-scrape';
import { RawAnswer, collect, jsonBody, openRaw } from './support/raw-http';
import { SealedAccount, primary, registerWithAccessKey, send } from './support/relay-testkit';
import { sleep } from './support/send-stream';

/**
 * Issue 9, held request bodies: many clients (from many addresses, so the per-address cap does not
 * help) each send most of a large body and stall. The bytes being received are bounded per process
 * (HTTP_MAX_BODY_BYTES_IN_FLIGHT: the next large body is refused 503 before it is read, small ones
 * still pass) and a body that stops arriving is ended long before the request timeout
 * (HTTP_BODY_IDLE_TIMEOUT_MS). A small budget and short idle timeout are configured; every wait is bounded.
 */
const MiB = 1024 * 1024;
/** Large bodies may use three quarters of it (3 MiB): three held 1 MiB bodies fill that share. */
const BUDGET = 4 * MiB;
const HELD_BODY = MiB;
const HELD_COUNT = 3;
const IDLE_TIMEOUT_MS = 2000;
/** The held bodies get TRICKLE_BYTES this often (640 B/s, above the default 500 B/s minimum body rate), so they stay held during the budget checks. */
const TRICKLE_MS = 200;
const TRICKLE_BYTES = 128;
/** Left at its default: a stalled body must be ended by the idle timeout, not this. */
const REQUEST_TIMEOUT_MS = 30_000;

function sealedHead(address: string, headers: string): string {
  return (
    `PUT /v1/messages/${encodeURIComponent(address)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Unidentified-Access-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\n${headers}\r\n`
  );
}

/** The first `sent` bytes of a declared `declared`-byte sealed send (the rest never comes unless trickled). */
async function partialSend(url: string, address: string, declared: number, sent: number): Promise<Socket> {
  const socket = await openRaw(url);
  socket.on('error', () => socket.destroy());
  socket.write(sealedHead(address, `Content-Length: ${declared}\r\n`));
  socket.write(`{"timestamp":1,"messages":[{"deviceId":1,"registrationId":1,"type":6,"content":"${'A'.repeat(sent - 80)}`);
  return socket;
}

describe('held request bodies (body bytes in flight per process, body idle timeout)', () => {
  let hs: RunningHomeserver;
  let bob: SealedAccount;
  const held: { socket: Socket; timer: NodeJS.Timeout }[] = [];

  const dropHeld = () => {
    for (const { socket, timer } of held.splice(0)) {
      clearInterval(timer);
      socket.destroy();
    }
  };

  beforeAll(async () => {
    hs = await startHomeserver({
      env: {
        HTTP_MAX_BODY_BYTES_IN_FLIGHT: String(BUDGET),
        HTTP_BODY_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        RELAY_MAX_BODY_BYTES: String(2 * MiB),
      },
    });
    bob = await registerWithAccessKey(hs.directoryUrl, 'bob');
  });
  afterEach(dropHeld);
  afterAll(async () => {
    dropHeld();
    await hs?.close();
  });

  /** Opens HELD_COUNT large sends that stop short of their end and then get one byte per TRICKLE_MS. */
  async function holdLargeBodies(): Promise<void> {
    for (let i = 0; i < HELD_COUNT; i++) {
      const socket = await partialSend(hs.relayUrl, bob.address, HELD_BODY, HELD_BODY - 100 * 1024);
      held.push({ socket, timer: setInterval(() => socket.write('A'.repeat(TRICKLE_BYTES)), TRICKLE_MS) });
    }
  }

  /** A large body (500 kB declared, 300 kB sent) as a stalling client would send it; its answer within `waitMs`. */
  async function largeProbe(waitMs: number): Promise<RawAnswer> {
    const socket = await partialSend(hs.relayUrl, bob.address, 500_000, 300_000);
    return collect(socket, waitMs);
  }

  it('with large bodies held to the budget, the next large body is refused 503 at once, unread, while a small send succeeds', async () => {
    await holdLargeBodies();
    // The held bodies are admitted once the relay has read their headers: probe until the next one is refused (bounded).
    let probe = await largeProbe(1500);
    for (let i = 0; i < 10 && probe.status !== 503; i++) probe = await largeProbe(1500);
    expect({ status: probe.status, closed: probe.closed }).toEqual({ status: 503, closed: true });
    expect(probe.closedAfterMs).toBeLessThan(1500);
    expect(jsonBody(probe)).toEqual({ error: 'busy', message: expect.any(String), retryAfter: 1 });
    expect(probe.headers['retry-after']).toBe('1');
    expect(probe.headers.connection).toBe('close');
    expect(await metric(hs.relayUrl, 'sealpost_http_body_bytes_in_flight')).toBe(HELD_COUNT * HELD_BODY);

    const small = await send(hs.relayUrl, bob.address, [primary(bob)], 'hello while held', { accessKey: bob.accessKey });
    expect(small.status).toBe(200);
  });

  it('a chunked body is cut off with 503 when its bytes no longer fit', async () => {
    await holdLargeBodies();
    let answer: RawAnswer | undefined;
    for (let attempt = 0; attempt < 10 && answer?.status !== 503; attempt++) {
      const socket = await openRaw(hs.relayUrl);
      answer = await collect(socket, 1500, () => {
        socket.write(sealedHead(bob.address, 'Transfer-Encoding: chunked\r\n'));
        for (let i = 0; i < 8; i++) socket.write(`8000\r\n${'A'.repeat(0x8000)}\r\n`);
      });
    }
    expect({ status: answer?.status, closed: answer?.closed }).toEqual({ status: 503, closed: true });
    expect(jsonBody(answer!)).toEqual({ error: 'busy', message: expect.any(String), retryAfter: 1 });
  });

  it('once the held bodies are closed the budget is given back: a large send is accepted', async () => {
    await holdLargeBodies();
    let probe = await largeProbe(1500);
    for (let i = 0; i < 10 && probe.status !== 503; i++) probe = await largeProbe(1500);
    expect(probe.status).toBe(503);
    dropHeld();
    const content = 'L'.repeat(200 * 1024); // ~270 kB of JSON: a large body
    let large = await send(hs.relayUrl, bob.address, [primary(bob)], content, { accessKey: bob.accessKey });
    for (let i = 0; i < 40 && large.status === 503; i++) {
      await sleep(50);
      large = await send(hs.relayUrl, bob.address, [primary(bob)], content, { accessKey: bob.accessKey });
    }
    expect(large.status).toBe(200);
    expect(await metric(hs.relayUrl, 'sealpost_http_body_bytes_in_flight')).toBe(0);
  });

  it('a body that stops arriving is answered 408 request_timeout and closed after the idle timeout, not the request timeout', async () => {
    const socket = await partialSend(hs.relayUrl, bob.address, 100_000, 50_000);
    const answer = await collect(socket, IDLE_TIMEOUT_MS + 6000);
    expect({ status: answer.status, closed: answer.closed }).toEqual({ status: 408, closed: true });
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 100);
    expect(jsonBody(answer)).toEqual({ error: 'request_timeout', message: expect.any(String) });
    expect(await metric(hs.relayUrl, 'sealpost_http_refused_total', 'status="408"')).toBeGreaterThanOrEqual(1);
  });

  it('a body that trickles (a byte every 200 ms, under the 500 B/s minimum) is answered 408 after one window, not the request timeout', async () => {
    const socket = await partialSend(hs.relayUrl, bob.address, 100_000, 50_000);
    const trickle = setInterval(() => socket.write('A'), 200);
    try {
      const answer = await collect(socket, IDLE_TIMEOUT_MS + 6000);
      expect({ status: answer.status, closed: answer.closed }).toEqual({ status: 408, closed: true });
      expect(jsonBody(answer)).toEqual({ error: 'request_timeout', message: expect.stringContaining('too slowly') });
    } finally {
      clearInterval(trickle);
    }
  });
});
