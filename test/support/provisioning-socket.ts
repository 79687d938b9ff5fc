import WebSocket from 'ws';
import { call, JsonAnswer } from './http';

type Frame = { type: string; [field: string]: unknown };

/**
 * A new device's provisioning socket (`GET /v1/provisioning/websocket`, no auth) as a spec
 * drives it: its address, every frame in order, and how the server closed it.
 */
export class ProvisioningSocket {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private readonly closed: Promise<void>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Frame));
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  /** Opens the socket and waits for its `provisioning-address` frame. */
  static async open(relayUrl: string, headers: Record<string, string> = {}): Promise<ProvisioningSocket> {
    const ws = new WebSocket(`${relayUrl.replace(/^http/, 'ws')}/v1/provisioning/websocket`, { headers });
    const socket = new ProvisioningSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    const deadline = Date.now() + 5000;
    while (socket.frames.length === 0) {
      if (Date.now() > deadline) throw new Error('no provisioning-address frame');
      await new Promise((r) => setTimeout(r, 10));
    }
    return socket;
  }

  /** The address the server gave this socket. */
  get address(): string {
    const first = this.frames[0];
    if (first?.type !== 'provisioning-address' || typeof first.address !== 'string')
      throw new Error(`first frame: ${JSON.stringify(first)}`);
    return first.address;
  }

  get messages(): Frame[] {
    return this.frames.filter((f) => f.type === 'provisioning-message');
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Resolves once the server closed the socket (or after `timeoutMs`, rejecting). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('socket not closed in time')), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  terminate(): void {
    this.socket.terminate();
  }
}

/** `PUT /v1/provisioning/{address}` with `{"body": base64 of sealed}`. */
export function putProvisioningMessage(relayUrl: string, address: string, sealed: Buffer, token?: string): Promise<JsonAnswer> {
  return call('PUT', `${relayUrl}/v1/provisioning/${address}`, { token, body: { body: sealed.toString('base64') } });
}
