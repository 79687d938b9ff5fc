import WebSocket from 'ws';
import { SendFrameChannel } from './send-frame-channel';

/** After a failed open, sealed sends go over HTTP for this long before the socket is tried again. */
const RETRY_OPEN_AFTER_MS = 30_000;

/**
 * The relay's `/v1/websocket/unidentified`, for sealed sends: opened on the first sealed send
 * that wants it, kept open, opened again on a later send after it closed. It carries no token and
 * receives nothing but send-results. `channel()` is null while it cannot be opened: the caller
 * sends over HTTP then.
 */
export class UnidentifiedSendSocket {
  private current?: { socket: WebSocket; channel: SendFrameChannel };
  private opening?: Promise<SendFrameChannel | null>;
  private failedAt = 0;
  private closedForGood = false;

  constructor(private readonly url: string) {}

  async channel(): Promise<SendFrameChannel | null> {
    if (this.current?.channel.open) return this.current.channel;
    if (this.closedForGood || Date.now() - this.failedAt < RETRY_OPEN_AFTER_MS) return null;
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  async close(): Promise<void> {
    this.closedForGood = true;
    const socket = this.current?.socket;
    this.current = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000);
    });
  }

  private open(): Promise<SendFrameChannel | null> {
    return new Promise((resolve) => {
      const socket = new WebSocket(this.url);
      const channel = new SendFrameChannel(socket);
      let wasOpen = false;
      const refused = () => {
        this.failedAt = Date.now();
        resolve(null);
      };
      socket.once('open', () => {
        wasOpen = true;
        if (this.closedForGood) {
          socket.close(1000);
          resolve(null);
          return;
        }
        this.current = { socket, channel };
        resolve(channel);
      });
      socket.once('unexpected-response', (_request, response) => {
        response.resume();
        socket.terminate();
        refused();
      });
      socket.on('message', (data) => {
        try {
          channel.settle(JSON.parse(data.toString()) as { type?: unknown });
        } catch {
          // not JSON: nothing to settle
        }
      });
      socket.on('error', () => {
        // the close (or the refusal) that follows decides what happens
      });
      socket.on('close', () => {
        channel.closed();
        if (this.current?.socket === socket) this.current = undefined;
        if (!wasOpen) refused();
      });
    });
  }
}
