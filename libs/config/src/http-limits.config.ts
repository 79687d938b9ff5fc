import { EnvReader } from './env-reader';

/**
 * Bounds on what one HTTP client can hold open, the same for all three services, so that a client
 * who sends headers or a body slowly (or never finishes) cannot pin memory and sockets forever.
 * Every value is in milliseconds except the per-client cap and the body budget; 0 is not allowed
 * for any of them.
 */
export interface HttpLimits {
  /** Whole request (headers and body) must arrive within this (`HTTP_REQUEST_TIMEOUT_MS`); else 408 and the socket is closed. */
  requestTimeoutMs: number;
  /** Headers must arrive within this (`HTTP_HEADERS_TIMEOUT_MS`, at most the request timeout). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (`HTTP_KEEP_ALIVE_TIMEOUT_MS`). */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (`HTTP_IDLE_TIMEOUT_MS`); WebSockets keep their own pings. */
  idleTimeoutMs: number;
  /**
   * Requests in flight at once from one client address (`HTTP_MAX_REQUESTS_PER_CLIENT`); the next
   * one gets 429. The address is the TCP peer, or the X-Forwarded-For hop chosen by TRUST_PROXY.
   */
  maxRequestsPerClient: number;
  /**
   * Request-body bytes one process may be receiving at once, all clients together
   * (`HTTP_MAX_BODY_BYTES_IN_FLIGHT`): a body is counted by its declared Content-Length (a chunked
   * one by the bytes that have arrived) from the end of its headers until it is parsed or its
   * connection closes. A body that does not fit is refused 503 `busy` before it is read. Bodies over
   * SMALL_BODY_MAX_BYTES may use only the large-body share (see largeBodyShare), so they never
   * starve small ones.
   */
  maxBodyBytesInFlight: number;
  /**
   * A body that is being received and then gets no byte for this long is answered 408 and its
   * connection closed (`HTTP_BODY_IDLE_TIMEOUT_MS`); above HTTP_REQUEST_TIMEOUT_MS it has no effect.
   */
  bodyIdleTimeoutMs: number;
  /**
   * A body must also arrive at this average rate over each HTTP_BODY_IDLE_TIMEOUT_MS window
   * (`HTTP_BODY_MIN_BYTES_PER_SECOND`, 0 = any byte will do), else 408 and the connection is
   * closed: a client trickling a byte every few seconds holds nothing for long. The default, 500,
   * is Apache mod_reqtimeout's MinRate; a phone on a poor link sends thousands of bytes a second.
   */
  bodyMinBytesPerSecond: number;
  /**
   * Malformed requests (unparseable, headers too large, too slow, no Host) one client address may
   * send (`HTTP_MALFORMED_REQUEST_BURST`), refilled at `HTTP_MALFORMED_REQUESTS_PER_SECOND`; past it
   * the address's new connections are closed at accept until a token grows back. Off behind TRUST_PROXY.
   */
  malformedRequestBurst: number;
  malformedRequestsPerSecond: number;
}

/**
 * Bodies up to this size (declared, or arrived so far when chunked) are "small": they may use the
 * whole of HTTP_MAX_BODY_BYTES_IN_FLIGHT. Legitimate sends, key uploads and claims are a few KiB.
 */
export const SMALL_BODY_MAX_BYTES = 64 * 1024;

/**
 * The part of the body budget larger bodies may use together: three quarters. The last quarter is
 * kept for small bodies (16 MiB of the default: 256 small bodies at their largest, thousands of
 * real sends), so however many large bodies are held, small ones are still admitted.
 */
export function largeBodyShare(limits: Pick<HttpLimits, 'maxBodyBytesInFlight'>): number {
  return Math.floor((limits.maxBodyBytesInFlight * 3) / 4);
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
  maxRequestsPerClient: 128,
  malformedRequestBurst: 20,
  malformedRequestsPerSecond: 2,
  // 64 MiB: the gateway's largest federation batch (~42.8 MiB) fits in the large-body share (48 MiB),
  // as do 12 relay bodies of 4 MiB at once; Fastify holds a body about once more as its parse, so a
  // full budget costs ~64-128 MiB of RSS, not the 700 MiB that 200 held relay bodies took (issue 9).
  maxBodyBytesInFlight: 64 * 1024 * 1024,
  // Clients write a body as fast as their link allows: 5 s without one byte is a stalled sender.
  bodyIdleTimeoutMs: 5_000,
  bodyMinBytesPerSecond: 500,
};

const HOUR_MS = 3_600_000;

export function readHttpLimits(env: EnvReader): HttpLimits {
  const limits: HttpLimits = {
    requestTimeoutMs: env.int('HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs, 100, HOUR_MS),
    headersTimeoutMs: env.int('HTTP_HEADERS_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.headersTimeoutMs, 100, HOUR_MS),
    keepAliveTimeoutMs: env.int('HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs, 100, HOUR_MS),
    idleTimeoutMs: env.int('HTTP_IDLE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.idleTimeoutMs, 100, HOUR_MS),
    maxRequestsPerClient: env.int('HTTP_MAX_REQUESTS_PER_CLIENT', DEFAULT_HTTP_LIMITS.maxRequestsPerClient, 1, 1_000_000),
    malformedRequestBurst: env.int('HTTP_MALFORMED_REQUEST_BURST', DEFAULT_HTTP_LIMITS.malformedRequestBurst, 1, 1_000_000),
    malformedRequestsPerSecond: env.int('HTTP_MALFORMED_REQUESTS_PER_SECOND', DEFAULT_HTTP_LIMITS.malformedRequestsPerSecond, 1, 1_000_000),
    maxBodyBytesInFlight: env.int(
      'HTTP_MAX_BODY_BYTES_IN_FLIGHT',
      DEFAULT_HTTP_LIMITS.maxBodyBytesInFlight,
      4 * SMALL_BODY_MAX_BYTES,
      64 * 1024 * 1024 * 1024,
    ),
    bodyIdleTimeoutMs: env.int('HTTP_BODY_IDLE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.bodyIdleTimeoutMs, 100, HOUR_MS),
    bodyMinBytesPerSecond: env.int('HTTP_BODY_MIN_BYTES_PER_SECOND', DEFAULT_HTTP_LIMITS.bodyMinBytesPerSecond, 0, 1024 * 1024 * 1024),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    env.report(
      `HTTP_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) must not be above HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs}): the headers are part of the request`,
    );
  }
  return limits;
}

/**
 * A service's largest body must fit in the large-body share of HTTP_MAX_BODY_BYTES_IN_FLIGHT, or
 * a body the route accepts could never be admitted (refused 503 forever): reported at start-up.
 */
export function requireBodyWithinBudget(env: EnvReader, limits: HttpLimits, maxBodyBytes: number, variable: string): void {
  const share = largeBodyShare(limits);
  if (maxBodyBytes > share) {
    env.report(
      `${variable} (${maxBodyBytes}) must not be above three quarters of HTTP_MAX_BODY_BYTES_IN_FLIGHT (${share} of ${limits.maxBodyBytesInFlight}): raise HTTP_MAX_BODY_BYTES_IN_FLIGHT to at least ${Math.ceil((maxBodyBytes * 4) / 3)}`,
    );
  }
}
