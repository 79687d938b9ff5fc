import WebSocket from 'ws';
import type { EnvelopeJson } from '../../libs/contracts/src';

/**
 * A device's WebSocket as a test drives it: collects envelopes and queue-empty markers,
 * acks on request, and records how it was closed.
 */
export class DeviceSocket {
  readonly envelopes: EnvelopeJson[] = [];
  /** When each of `envelopes` arrived (ms since epoch), same index. */
  readonly arrivedAt: number[] = [];
  /** Frames that are neither envelopes nor queue-empty (server notices such as prekeys-low). */
  readonly notices: { type: string; [field: string]: unknown }[] = [];
  queueEmpty = 0;
  closeCode: number | null = null;
  /** Socket errors after the connection opened (the connection then closes). */
  readonly errors: string[] = [];
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;

  constructor(
    relayUrl: string,
    token: string,
    private readonly autoAck = false,
  ) {
    this.socket = new WebSocket(`${relayUrl.replace(/^http/, 'ws')}/v1/websocket`, { headers: { authorization: `Bearer ${token}` } });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; envelope?: EnvelopeJson; [field: string]: unknown };
      if (frame.type === 'envelope' && frame.envelope) {
        this.envelopes.push(frame.envelope);
        this.arrivedAt.push(Date.now());
        if (this.autoAck) this.ack([frame.envelope.id]);
      } else if (frame.type === 'queue-empty') {
        this.queueEmpty += 1;
      } else {
        this.notices.push(frame);
      }
    });
    this.socket.on('close', (code) => {
      this.closeCode = code;
    });
    this.socket.on('error', (error) => {
      this.errors.push(error.message);
    });
  }

  static async connect(relayUrl: string, token: string, autoAck = false): Promise<DeviceSocket> {
    const socket = new DeviceSocket(relayUrl, token, autoAck);
    await socket.opened;
    return socket;
  }

  ack(ids: string[]): void {
    this.socket.send(JSON.stringify({ type: 'ack', ids }));
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
