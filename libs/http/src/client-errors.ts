import type { Socket } from 'node:net';
import { answerOnSocket, frameworkAnswer } from './framework-answers';

/** What the clientError handler reports, so the app factory can count it without knowing Node's codes. */
export interface ClientErrorObserver {
  /** The client went away (reset, or hung up mid-request): nothing to answer. */
  clientAborted(): void;
  /** A request refused before routing (bad syntax, oversized headers, timeout), by status. */
  refused(status: number): void;
  /** The same refusal, charged to the client address that made it (the malformed-request penalty box). */
  malformed?(address: string | undefined): void;
}

interface NodeClientError extends Error {
  code?: string;
  /** The bytes Node's parser held when it failed (a Buffer from Node; typed loosely by Fastify). */
  rawPacket?: unknown;
}

/** Node's parser and timeout errors → the status the API answers them with. */
export function clientErrorStatus(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

/**
 * Fastify's `clientErrorHandler` (Node's `clientError` event): a request Node could not parse or
 * that did not arrive within HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS gets a JSON
 * `{error, message}` answer and the connection is closed; a HEAD request (recognised from the
 * bytes Node kept) gets no body. A reset connection is only counted: nothing can be answered,
 * and anyone could flood the logs with them.
 */
export function clientErrorHandler(observer: ClientErrorObserver): (error: NodeClientError, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || socket.destroyed) {
      observer.clientAborted();
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(error.code);
    observer.refused(status);
    observer.malformed?.(socket.remoteAddress);
    const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
    answerOnSocket(socket, status, frameworkAnswer(status), { head });
    // Whatever the client sends next is not read: the answer above is the last word.
    socket.destroySoon();
  };
}
