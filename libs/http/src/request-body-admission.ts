import type { IncomingMessage } from 'node:http';
import { type HttpLimits, largeBodyShare } from '@sealpost/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { BodyBytesBudget } from './body-bytes-budget';
import { WatchedBody } from './watched-body';

/** Seconds a client refused for lack of body budget is told to wait: bodies in flight end within seconds. */
const BUSY_RETRY_AFTER_SECONDS = 1;

const busy = () =>
  new ApiError(
    503,
    'busy',
    'the server is receiving too many request bodies at once; retry later',
    { retryAfter: BUSY_RETRY_AFTER_SECONDS },
    { 'retry-after': String(BUSY_RETRY_AFTER_SECONDS), connection: 'close' },
  );

const bodyStalled = (windowMs: number, minBytesPerSecond: number, bytesInWindow: number) =>
  new ApiError(
    408,
    'request_timeout',
    bytesInWindow === 0
      ? `the request body stopped arriving (nothing for ${windowMs} ms)`
      : `the request body arrives too slowly (${bytesInWindow} bytes in ${windowMs} ms; at least ${minBytesPerSecond} bytes/s)`,
    {},
    { connection: 'close' },
  );

/** Methods whose body Fastify never reads (Node discards it): they take no budget. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'TRACE']);

/**
 * Fastify's body reader listens for the body's errors (a stall, a refusal, a client abort) and
 * answers them; once it has given up on a body (e.g. 413) it stops listening, and an error that
 * comes later — the client hanging up before the answer is flushed — has nothing left to answer.
 * This listener keeps such an error from being thrown as an unhandled 'error' event.
 */
function afterTheParserLetGo(): void {
  // Answered or counted already (refusals count in `observer`, hang-ups in the exception filter).
}

/** Content-Length as a number, null for a body of unknown length (chunked), 0 for none. */
function declaredLength(request: FastifyRequest): number | null {
  if (request.headers['transfer-encoding'] !== undefined) return null;
  const length = Number(request.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length >= 0 ? length : 0;
}

/**
 * Bounds the request bodies one process holds while they arrive (issue 9, held bodies): a Fastify
 * `preParsing` hook, which runs once the headers are read and before any body byte is.
 *
 * - A body with a Content-Length takes that many bytes of the BodyBytesBudget at once; if they do
 *   not fit it is refused 503 `busy` with Retry-After and `Connection: close`, unread. A chunked
 *   body takes its bytes as they arrive and is cut off the same way when the next chunk does not fit.
 *   A declared length above the route's body limit takes nothing: Fastify answers it 413 unread.
 * - A body that gets no byte for HTTP_BODY_IDLE_TIMEOUT_MS, or fewer than
 *   HTTP_BODY_MIN_BYTES_PER_SECOND × that window in any such window (a trickle), is answered 408
 *   `request_timeout` and its connection closed (HTTP_REQUEST_TIMEOUT_MS still bounds the whole).
 * - What a request took is given back exactly once: when its body has been parsed (preValidation),
 *   or its answer is sent, or its connection closes, whichever comes first.
 */
export function installRequestBodyAdmission(
  instance: FastifyInstance,
  limits: HttpLimits,
  observer: { refused(status: number): void },
): BodyBytesBudget {
  const budget = new BodyBytesBudget(limits.maxBodyBytesInFlight, largeBodyShare(limits));
  const releases = new WeakMap<IncomingMessage, () => void>();

  instance.addHook('preParsing', (request: FastifyRequest, reply: FastifyReply, payload, done) => {
    const declared = declaredLength(request);
    const routeLimit = request.routeOptions?.bodyLimit ?? Infinity;
    if (BODYLESS_METHODS.has(request.method) || declared === 0 || (declared !== null && declared > routeLimit)) {
      done(null, payload);
      return;
    }
    if (declared !== null && !budget.tryTake(declared, declared)) {
      observer.refused(503);
      done(busy());
      return;
    }
    let held = declared ?? 0;
    let released = false;
    let body: WatchedBody | undefined;
    const release = () => {
      if (released) return;
      released = true;
      budget.give(held);
      held = 0;
      body?.settle();
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
    releases.set(request.raw, release);

    const takeChunk = (chunkBytes: number, totalBytes: number): Error | undefined => {
      if (declared !== null || released) return undefined;
      if (!budget.tryTake(chunkBytes, totalBytes)) {
        observer.refused(503);
        return busy();
      }
      held += chunkBytes;
      return undefined;
    };
    const stalled = (bytesInWindow: number) => {
      observer.refused(408);
      return bodyStalled(limits.bodyIdleTimeoutMs, limits.bodyMinBytesPerSecond, bytesInWindow);
    };
    const minBytesPerWindow = Math.ceil((limits.bodyMinBytesPerSecond * limits.bodyIdleTimeoutMs) / 1000);
    body = new WatchedBody(limits.bodyIdleTimeoutMs, minBytesPerWindow, stalled, takeChunk);
    body.on('error', afterTheParserLetGo);
    // Not `pipeline`: it would destroy the request (and its socket) on a refusal, losing the answer.
    // A refusal unpipes; the answer's `Connection: close` ends the connection; a client abort reaches the reader through `body`.
    payload.on('error', (error) => body.destroy(error));
    payload.pipe(body);
    done(null, body);
  });

  instance.addHook('preValidation', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    releases.get(request.raw)?.();
    done();
  });

  return budget;
}
