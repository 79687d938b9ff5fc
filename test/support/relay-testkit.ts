import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import WebSocket from 'ws';
import type { EnvelopeJson } from '../../libs/contracts/src';
import { TestAccount, registerAccount } from './accounts';
import { JsonAnswer, call } from './http';

/** Helpers for the relay's integration specs: devices, sends, raw sockets and the relay's tables. */

export const b64 = (text: string): string => Buffer.from(text).toString('base64');

export { linkDevice } from './accounts';
export type { LinkedDevice } from './accounts';

export interface SealedAccount extends TestAccount {
  /** The 16-byte unidentified-access key as registered, base64. */
  accessKey: string;
}

/** Registers an account with an unidentified-access key (what `registerAccount` leaves out). */
export async function registerWithAccessKey(
  directoryUrl: string,
  stem = 'sealed',
  opts: { registrationToken?: string } = {},
): Promise<SealedAccount> {
  const accessKey = randomBytes(16).toString('base64');
  return { ...(await registerAccount(directoryUrl, { stem, accessKey, ...opts })), accessKey };
}

export interface Recipient {
  deviceId: number;
  registrationId: number;
}

export interface SendOptions {
  token?: string;
  accessKey?: string;
  idempotencyKey?: string;
  timestamp?: number;
  type?: number;
  headers?: Record<string, string>;
}

/** `PUT /v1/messages/{address}` with one envelope of `content` (text, base64-encoded here) per recipient device. */
export function send(
  relayUrl: string,
  address: string,
  devices: Recipient[],
  content: string,
  opts: SendOptions = {},
): Promise<JsonAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.accessKey !== undefined) headers['unidentified-access-key'] = opts.accessKey;
  if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = opts.idempotencyKey;
  return call('PUT', `${relayUrl}/v1/messages/${address}`, {
    token: opts.token,
    headers,
    body: {
      timestamp: opts.timestamp ?? Date.now(),
      messages: devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        type: opts.type ?? 1,
        content: b64(content),
      })),
    },
  });
}

/** The frame fields of the same send as `send()` makes over HTTP (`message` is its body). */
export function sendFrameFields(
  address: string,
  devices: Recipient[],
  content: string,
  opts: { idempotencyKey?: string; accessKey?: string; timestamp?: number; type?: number } = {},
): Record<string, unknown> {
  return {
    address,
    ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
    ...(opts.accessKey !== undefined ? { unidentifiedAccessKey: opts.accessKey } : {}),
    message: {
      timestamp: opts.timestamp ?? Date.now(),
      messages: devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        type: opts.type ?? 1,
        content: b64(content),
      })),
    },
  };
}

/** The primary device of an account as a send target. */
export const primary = (account: { registrationId: number }): Recipient => ({ deviceId: 1, registrationId: account.registrationId });

/** A `send-result` frame (the relay's answer to a send frame), as a test reads it. */
export interface SendResult {
  type: 'send-result';
  requestId: string;
  status: number;
  body: any;
  retryAfter?: number;
}

export type Frame =
  | { type: 'envelope'; envelope: EnvelopeJson }
  | SendResult
  | { type: 'queue-empty' }
  | { type: 'error'; error?: string; message?: string }
  | { type: string; [k: string]: unknown };

const openSockets = new Set<RecordingSocket>();

/** Closes every RecordingSocket a spec left open (call in afterEach), so a failed test cannot block the relay's shutdown. */
export async function closeAllSockets(): Promise<void> {
  const sockets = [...openSockets];
  openSockets.clear();
  for (const s of sockets) s.socket.terminate();
}

/**
 * A device socket that records every frame in arrival order (envelopes, queue-empty, errors),
 * whether it is still open, and how it closed. Never acks unless told to.
 */
export class RecordingSocket {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  closeReason = '';
  /** When set, each envelope is acked as soon as it arrives. */
  autoAck = false;
  readonly socket: WebSocket;
  private readonly waiting = new Map<string, { resolve: (result: SendResult) => void; reject: (error: Error) => void }>();
  private nextRequestId = 1;
  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      if (this.autoAck && frame.type === 'envelope') this.ack([(frame as { envelope: EnvelopeJson }).envelope.id]);
      if (frame.type === 'send-result') {
        const result = frame as SendResult;
        this.waiting.get(result.requestId)?.resolve(result);
        this.waiting.delete(result.requestId);
      }
    });
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`socket closed (${code}) before the send-result`));
      this.waiting.clear();
    });
    socket.on('error', () => undefined);
    openSockets.add(this);
    socket.on('close', () => openSockets.delete(this));
  }

  static async connect(relayUrl: string, token: string, options: { autoPong?: boolean } = {}): Promise<RecordingSocket> {
    return RecordingSocket.open(`${relayUrl.replace(/^http/, 'ws')}/v1/websocket`, { authorization: `Bearer ${token}` }, options);
  }

  /** `GET /v1/websocket/unidentified` (no token; `headers` are sent as given). */
  static async connectUnidentified(relayUrl: string, headers: Record<string, string> = {}): Promise<RecordingSocket> {
    return RecordingSocket.open(`${relayUrl.replace(/^http/, 'ws')}/v1/websocket/unidentified`, headers);
  }

  private static async open(url: string, headers: Record<string, string>, options: { autoPong?: boolean } = {}): Promise<RecordingSocket> {
    const ws = new WebSocket(url, { headers, ...options });
    const recording = new RecordingSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return recording;
  }

  get envelopes(): EnvelopeJson[] {
    return this.frames.filter((f): f is { type: 'envelope'; envelope: EnvelopeJson } => f.type === 'envelope').map((f) => f.envelope);
  }

  get queueEmptyCount(): number {
    return this.frames.filter((f) => f.type === 'queue-empty').length;
  }

  get errors(): Frame[] {
    return this.frames.filter((f) => f.type === 'error');
  }

  /** The send-result frames, in arrival order. */
  get results(): SendResult[] {
    return this.frames.filter((f): f is SendResult => f.type === 'send-result');
  }

  /**
   * Sends `{"type":"send", requestId, ...fields}` (a fresh requestId unless `fields` has one) and
   * resolves with the send-result of that requestId; rejects if the socket closes first.
   */
  request(fields: Record<string, unknown>): Promise<SendResult> {
    const requestId = typeof fields.requestId === 'string' ? fields.requestId : `r${this.nextRequestId++}`;
    const answered = new Promise<SendResult>((resolve, reject) => this.waiting.set(requestId, { resolve, reject }));
    this.socket.send(JSON.stringify({ type: 'send', requestId, ...fields }));
    return answered;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  ack(ids: string[]): void {
    this.socket.send(JSON.stringify({ type: 'ack', ids }));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** The answer to a WebSocket upgrade that the relay refused: status, Retry-After and the body text. */
export async function refusedUpgrade(
  relayUrl: string,
  headers: Record<string, string>,
  path = '/v1/websocket',
): Promise<{ status: number; contentType: string | undefined; retryAfter?: string; body: string }> {
  const ws = new WebSocket(`${relayUrl.replace(/^http/, 'ws')}${path}`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close();
      reject(new Error('upgrade was accepted'));
    });
    ws.once('error', (error) => reject(error));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], ...(retryAfter ? { retryAfter } : {}), body });
        ws.terminate();
      });
    });
  });
}

/**
 * Asserts that `predicate` keeps holding for `ms` (polled): for proving that something does NOT
 * happen (no extra envelope pushed), where no event can be awaited. Bounded by `ms`.
 */
export async function holdsFor(predicate: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!predicate()) throw new Error(`${what} stopped holding`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!predicate()) throw new Error(`${what} stopped holding`);
}

/** A pool on the test database, for checking the relay's tables directly. */
export function testPool(): Pool {
  return new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
}

/** How many envelopes the relay holds for an account (optionally one device). */
export async function storedEnvelopes(pool: Pool, accountId: string, deviceId?: number): Promise<number> {
  const { rows } =
    deviceId === undefined
      ? await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM relay.envelopes WHERE account_id = $1', [accountId])
      : await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM relay.envelopes WHERE account_id = $1 AND device_id = $2', [
          accountId,
          deviceId,
        ]);
  return rows[0].n;
}
