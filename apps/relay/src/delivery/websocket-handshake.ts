import type { IncomingMessage } from 'node:http';

/** Why an upgrade request is not a well-formed WebSocket handshake: the answer's status, code and text. */
export interface HandshakeProblem {
  status: 400 | 405;
  error: string;
  message: string;
  headers?: Record<string, string>;
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const PROTOCOL_LIST = new RegExp(`^${TOKEN}(\\s*,\\s*${TOKEN})*$`);

/**
 * The checks `ws` makes in `handleUpgrade` (RFC 6455 §4.2.1), made first so that a malformed
 * upgrade gets the API's JSON `{error, message}` instead of `ws`'s text/html answer. Null when
 * `ws` will accept the handshake.
 */
export function handshakeProblem(request: IncomingMessage): HandshakeProblem | null {
  if (request.method !== 'GET') {
    return { status: 405, error: 'method_not_allowed', message: 'a WebSocket upgrade must be a GET', headers: { Allow: 'GET' } };
  }
  const { upgrade, 'sec-websocket-key': key, 'sec-websocket-version': version, 'sec-websocket-protocol': protocol } = request.headers;
  if (upgrade?.toLowerCase() !== 'websocket') return invalid('the Upgrade header must be websocket');
  if (typeof key !== 'string' || !KEY.test(key)) return invalid('Sec-WebSocket-Key is missing or malformed');
  if (version !== '13' && version !== '8') {
    return { ...invalid('Sec-WebSocket-Version must be 13'), headers: { 'Sec-WebSocket-Version': '13' } };
  }
  if (protocol !== undefined && !PROTOCOL_LIST.test(protocol)) return invalid('Sec-WebSocket-Protocol is malformed');
  return null;
}

function invalid(message: string): HandshakeProblem {
  return { status: 400, error: 'invalid_request', message };
}
