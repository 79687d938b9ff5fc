import type { FastifyReply, FastifyRequest } from 'fastify';
import { FRAMEWORK_ANSWERS } from './framework-answers';

/** Seconds a client refused for having too many requests in flight is told to wait. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * Caps the requests one client address has in flight at once (HTTP_MAX_REQUESTS_PER_CLIENT):
 * the next one is answered 429 before its body is read, so one address cannot hold hundreds of
 * half-sent bodies. The address is `request.ip`, i.e. the TCP peer or — with TRUST_PROXY — the
 * client named by the trusted X-Forwarded-For hops. A request leaves the count when its
 * connection closes or its answer is sent, whichever comes first, exactly once. Requests that
 * reach the service another way (`tryTake`) can share the same count.
 */
export class RequestsPerClient {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  /** Requests in flight from `address` now (for tests and metrics). */
  count(address: string): number {
    return this.inFlight.get(address) ?? 0;
  }

  /** Addresses with at least one request in flight. */
  get clients(): number {
    return this.inFlight.size;
  }

  /**
   * Takes one of `address`'s slots for a request carried outside Fastify (the relay's sends over
   * its unidentified WebSocket): the release function, to call exactly once when the request is
   * answered (later calls do nothing), or null when the address has `max` in flight already (the
   * refusal is counted as HTTP's own 429s are).
   */
  tryTake(address: string): (() => void) | null {
    const running = this.count(address);
    if (running >= this.max) {
      this.onRefused();
      return null;
    }
    this.inFlight.set(address, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(address) - 1;
      if (left > 0) this.inFlight.set(address, left);
      else this.inFlight.delete(address);
    };
  }

  /** Fastify `onRequest` hook. */
  readonly onRequest = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const release = this.tryTake(request.ip ?? 'unknown');
    if (!release) {
      void reply
        .code(429)
        .header('retry-after', String(IN_FLIGHT_RETRY_AFTER_SECONDS))
        .header('connection', 'close')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(FRAMEWORK_ANSWERS[429]));
      return;
    }
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
    done();
  };
}

const byApp = new WeakMap<object, RequestsPerClient>();

/** Remembers the count `createHttpApp` installed on `app`. */
export function rememberRequestsPerClient(app: object, perClient: RequestsPerClient): void {
  byApp.set(app, perClient);
}

/**
 * The per-address count of requests in flight (HTTP_MAX_REQUESTS_PER_CLIENT) of an app made by
 * `createHttpApp`, for requests that reach the service outside Fastify but must share the cap.
 */
export function requestsPerClientOf(app: object): RequestsPerClient {
  const perClient = byApp.get(app);
  if (!perClient) throw new Error('this app was not made by createHttpApp');
  return perClient;
}
