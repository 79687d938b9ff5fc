import { EnvReader } from './env-reader';

/**
 * Bounds on what one HTTP client can hold open, the same for all three services, so that a client
 * who sends headers or a body slowly (or never finishes) cannot pin memory and sockets forever.
 * Every value is in milliseconds except the per-client cap; 0 is not allowed for any of them.
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
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
  maxRequestsPerClient: 128,
};

const HOUR_MS = 3_600_000;

export function readHttpLimits(env: EnvReader): HttpLimits {
  const limits: HttpLimits = {
    requestTimeoutMs: env.int('HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs, 100, HOUR_MS),
    headersTimeoutMs: env.int('HTTP_HEADERS_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.headersTimeoutMs, 100, HOUR_MS),
    keepAliveTimeoutMs: env.int('HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs, 100, HOUR_MS),
    idleTimeoutMs: env.int('HTTP_IDLE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.idleTimeoutMs, 100, HOUR_MS),
    maxRequestsPerClient: env.int('HTTP_MAX_REQUESTS_PER_CLIENT', DEFAULT_HTTP_LIMITS.maxRequestsPerClient, 1, 1_000_000),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    env.report(
      `HTTP_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) must not be above HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs}): the headers are part of the request`,
    );
  }
  return limits;
}
