import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { SEND_FRAME_MAX_BYTES, type SendResultFrame } from '@sealpost/contracts';

/** The relay's answer to one send frame: the status, JSON body and Retry-After of the HTTP answer to the same send. */
export type SocketSendAnswer = Omit<SendResultFrame, 'type' | 'requestId'>;

/**
 * The send frame got no answer: the socket closed or was not open, or no answer came in time.
 * `maybeStored`: the frame had been written, so the relay may have stored the send; retry it
 * only with the same Idempotency-Key.
 */
export class SocketSendUnanswered extends Error {
  constructor(readonly maybeStored: boolean) {
    super(maybeStored ? 'the socket send got no answer; it may have been stored' : 'the socket was not open; nothing was sent');
    this.name = 'SocketSendUnanswered';
  }
}

/** Longer than the relay's own longest wait on a send (FEDERATION_HANDOFF_TIMEOUT_MS, 30 s). */
const ANSWER_TIMEOUT_MS = 40_000;

interface Waiting {
  resolve(answer: SocketSendAnswer): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Send frames over one open relay socket (`/v1/websocket` or `/v1/websocket/unidentified`):
 * each gets a fresh requestId, and its `send-result` — which may come in any order — settles it.
 * When the socket closes, every send still waiting fails with SocketSendUnanswered.
 */
export class SendFrameChannel {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly socket: WebSocket) {}

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Sends `{"type":"send", requestId, ...fields}`; resolves with its answer. */
  request(fields: {
    address: string;
    message: unknown;
    idempotencyKey?: string;
    unidentifiedAccessKey?: string;
  }): Promise<SocketSendAnswer> {
    if (!this.open) return Promise.reject(new SocketSendUnanswered(false));
    const requestId = randomUUID();
    const frame = JSON.stringify({ type: 'send', requestId, ...fields });
    // Too large for a frame (the relay would close the socket): never sent here, so it goes over HTTP.
    if (Buffer.byteLength(frame) > SEND_FRAME_MAX_BYTES) return Promise.reject(new SocketSendUnanswered(false));
    return new Promise<SocketSendAnswer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(requestId), ANSWER_TIMEOUT_MS);
      timer.unref();
      this.waiting.set(requestId, { resolve, reject, timer });
      this.socket.send(frame, (error) => {
        if (error) this.fail(requestId);
      });
    });
  }

  /** A frame the socket received: true if it was a send-result (settled here), false for any other frame. */
  settle(frame: { type?: unknown; requestId?: unknown; [field: string]: unknown }): boolean {
    if (frame.type !== 'send-result') return false;
    const waiting = typeof frame.requestId === 'string' ? this.waiting.get(frame.requestId) : undefined;
    if (!waiting) return true;
    this.waiting.delete(frame.requestId as string);
    clearTimeout(waiting.timer);
    const { status, body, retryAfter } = frame as unknown as SendResultFrame;
    waiting.resolve({ status, body, ...(retryAfter !== undefined ? { retryAfter } : {}) });
    return true;
  }

  /** The socket closed: every send still waiting fails (it may have been stored). */
  closed(): void {
    for (const requestId of [...this.waiting.keys()]) this.fail(requestId);
  }

  private fail(requestId: string): void {
    const waiting = this.waiting.get(requestId);
    if (!waiting) return;
    this.waiting.delete(requestId);
    clearTimeout(waiting.timer);
    waiting.reject(new SocketSendUnanswered(true));
  }
}
