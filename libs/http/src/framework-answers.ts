import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** An `{error, message}` body of an answer given on the API's behalf by Node, Fastify or `ws`. */
export interface FrameworkAnswer {
  error: string;
  message: string;
}

/**
 * The one table of answers for requests refused before any route sees them (bad request line,
 * missing Host, oversized headers, timeouts, unknown routes, bodies too large or not JSON), used
 * by the exception filter, the HTTP server's clientError handler and the relay's upgrade path.
 * Fastify's and Node's own texts are never passed through: they may quote the request.
 */
export const FRAMEWORK_ANSWERS = {
  400: { error: 'invalid_request', message: 'the request could not be read' },
  404: { error: 'not_found', message: 'no such route' },
  405: { error: 'method_not_allowed', message: 'method not allowed on this route' },
  408: { error: 'request_timeout', message: 'the request did not arrive in time' },
  413: { error: 'payload_too_large', message: 'request body is too large' },
  415: { error: 'unsupported_media_type', message: 'request bodies must be application/json' },
  429: { error: 'too_many_requests', message: 'too many requests in flight from this address; retry later' },
  431: { error: 'headers_too_large', message: 'request headers are too large' },
} as const satisfies Record<number, FrameworkAnswer>;

/** A routed request whose body Fastify could not parse (the only 400 Fastify raises once a route matched). */
export const INVALID_JSON: FrameworkAnswer = { error: 'invalid_json', message: 'body is not valid JSON' };

export type FrameworkStatus = keyof typeof FRAMEWORK_ANSWERS;

/** The framework answer for a 4xx status; a generic 400-style body for a status not in the table. */
export function frameworkAnswer(status: number): FrameworkAnswer {
  return FRAMEWORK_ANSWERS[status as FrameworkStatus] ?? FRAMEWORK_ANSWERS[400];
}

/**
 * Writes a complete HTTP/1.1 answer with a JSON `{error, message}` body straight to a socket
 * (outside Fastify: a clientError or a refused WebSocket upgrade) and closes the connection.
 * A HEAD request gets the headers only (RFC 9110 §9.3.2).
 */
export function answerOnSocket(
  socket: Duplex,
  status: number,
  body: FrameworkAnswer,
  options: { head?: boolean; headers?: Record<string, string> } = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify({ error: body.error, message: body.message });
  const extra = Object.entries(options.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${options.head ? '' : text}`,
  );
}
