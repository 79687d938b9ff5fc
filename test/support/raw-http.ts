import { Socket, connect } from 'node:net';

/** What a server wrote back on one raw TCP connection, and whether (and when) it closed it. */
export interface RawAnswer {
  /** Status code of the first status line, or null when nothing (or no HTTP) came back. */
  status: number | null;
  /** Header names lower-cased; the first value of each. */
  headers: Record<string, string>;
  /** Everything after the blank line that ends the headers ('' if none). */
  body: string;
  /** Whole text received. */
  raw: string;
  /** The server closed (or reset) the connection before `waitMs` ran out. */
  closed: boolean;
  /** Milliseconds from the last byte sent until the server closed the connection (or `waitMs`). */
  closedAfterMs: number;
}

/** Parses an HTTP/1.1 answer received as text. */
export function parseRawAnswer(raw: string, closed: boolean, closedAfterMs: number): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const lines = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  return { status: match ? Number(match[1]) : null, headers, body: end === -1 ? '' : raw.slice(end + 4), raw, closed, closedAfterMs };
}

/** Opens a raw TCP connection to an `http://host:port` URL. */
export async function openRaw(url: string, localAddress?: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Sends `bytes` as they are (no Host or Content-Length added) on a fresh connection and collects
 * the answer until the server closes the connection or `waitMs` passes (then the client closes).
 * For malformed requests that `fetch` refuses to send, and for clients that stall mid-request;
 * `localAddress` picks the loopback source address (127.0.0.x) the request comes from.
 */
export async function rawExchange(url: string, bytes: string | Buffer, waitMs = 5000, localAddress?: string): Promise<RawAnswer> {
  const socket = await openRaw(url, localAddress);
  return collect(socket, waitMs, () => socket.write(bytes));
}

/** Collects everything the server sends on `socket` until it closes or `waitMs` passes. */
export async function collect(socket: Socket, waitMs: number, start: () => void = () => undefined): Promise<RawAnswer> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => socket.destroy());
  const startedAt = Date.now();
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    start();
  });
  const closedAfterMs = Date.now() - startedAt;
  socket.destroy();
  return parseRawAnswer(Buffer.concat(chunks).toString('latin1'), closed, closedAfterMs);
}

/** The body parsed as JSON, or undefined when it is not JSON. */
export function jsonBody(answer: RawAnswer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}
