import { randomInt } from 'node:crypto';
import type { EnvelopeJson } from '@sealpost/contracts';
import WebSocket from 'ws';
import { SendFrameChannel } from '../api/send-frame-channel';

/** What the receiver hands its owner, one frame at a time, in order. */
export interface ReceiverHandlers {
  /** Resolve to acknowledge the envelope (delete it on the server); reject to leave it for the next connection. */
  envelope(envelope: EnvelopeJson): Promise<void>;
  notice(frame: { type: string; [field: string]: unknown }): Promise<void>;
  connected(): Promise<void>;
  /** The connection ended; `final` when the receiver will not reconnect (stopped, replaced 4409, removed 4410). */
  disconnected(code: number, final: boolean): void;
}

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Close codes after which reconnecting is pointless: another connection of this device took over, or the device was removed. */
const FINAL_CLOSE_CODES = new Set([4409, 4410]);

/**
 * The device's WebSocket to its relay: processes frames strictly in order (the next envelope is
 * not looked at before the previous one was handled and acked), acks an envelope only when its
 * handler resolved, and reconnects after a drop with jittered exponential backoff (0.5 s doubling
 * to 30 s, each wait drawn between half and all of it) until `stop()`. The device may send over
 * it too (`sendChannel`): send-results are settled as they arrive, never queued behind envelopes.
 */
export class MessageReceiver {
  private socket?: WebSocket;
  private channel?: SendFrameChannel;
  private stopped = false;
  private attempt = 0;
  private chain: Promise<void> = Promise.resolve();
  private reconnectTimer?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly token: () => string,
    private readonly handlers: ReceiverHandlers,
  ) {}

  /** Connects; resolves once the first connection is open (rejects if it is refused). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.connect(resolve, reject));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000);
      });
    }
    await this.chain;
  }

  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Send frames over the current connection; undefined while it is not open. */
  get sendChannel(): SendFrameChannel | undefined {
    return this.channel?.open ? this.channel : undefined;
  }

  private connect(opened?: () => void, refused?: (error: Error) => void): void {
    const socket = new WebSocket(this.url, { headers: { authorization: `Bearer ${this.token()}` } });
    const channel = new SendFrameChannel(socket);
    this.socket = socket;
    this.channel = channel;
    let wasOpen = false;
    socket.on('open', () => {
      wasOpen = true;
      this.attempt = 0;
      this.enqueue(() => this.handlers.connected());
      opened?.();
    });
    socket.on('unexpected-response', (_request, response) => {
      const error = new Error(`the relay refused the WebSocket: HTTP ${response.statusCode}`);
      response.resume();
      socket.terminate();
      if (refused) refused(error);
    });
    socket.on('message', (data) => {
      let frame: { type?: unknown; envelope?: EnvelopeJson; [field: string]: unknown };
      try {
        frame = JSON.parse(data.toString()) as typeof frame;
      } catch {
        return;
      }
      if (channel.settle(frame)) return;
      if (frame.type === 'envelope' && frame.envelope) {
        const envelope = frame.envelope;
        this.enqueue(async () => {
          await this.handlers.envelope(envelope);
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'ack', ids: [envelope.id] }));
        });
      } else if (typeof frame.type === 'string') {
        const notice = frame as { type: string };
        this.enqueue(() => this.handlers.notice(notice));
      }
    });
    socket.on('error', () => {
      // the close that follows decides what happens; the error text may carry the URL only
    });
    socket.on('close', (code) => {
      channel.closed();
      const final = this.stopped || FINAL_CLOSE_CODES.has(code) || (!wasOpen && refused !== undefined);
      this.handlers.disconnected(code, final);
      if (final) return;
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt++);
      this.reconnectTimer = setTimeout(() => this.connect(), randomInt(Math.floor(ceiling / 2), ceiling + 1));
    });
  }

  private enqueue(work: () => Promise<void>): void {
    // A handler that fails leaves its envelope unacked; the next frames still run.
    this.chain = this.chain.then(work).catch(() => undefined);
  }
}
