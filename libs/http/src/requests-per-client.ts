import type { FastifyReply, FastifyRequest } from 'fastify';
import { FRAMEWORK_ANSWERS } from './framework-answers';

/** Seconds a client refused for having too many requests in flight is told to wait. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Caps the requests one client address has in flight at once (HTTP_MAX_REQUESTS_PER_CLIENT):
 * the next one is answered 429 before its body is read, so one address cannot hold hundreds of
 * half-sent bodies. The address is `request.ip`, i.e. the TCP peer or — with TRUST_PROXY — the
 * client named by the trusted X-Forwarded-For hops. A request leaves the count when its
 * connection closes or its answer is sent, whichever comes first, exactly once.
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

  /** Fastify `onRequest` hook. */
  readonly onRequest = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const address = request.ip ?? 'unknown';
    const running = this.count(address);
    if (running >= this.max) {
      this.onRefused();
      void reply
        .code(429)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .header('connection', 'close')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(FRAMEWORK_ANSWERS[429]));
      return;
    }
    this.inFlight.set(address, running + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = this.count(address) - 1;
      if (left > 0) this.inFlight.set(address, left);
      else this.inFlight.delete(address);
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
    done();
  };
}
