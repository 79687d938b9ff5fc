import { DeviceSocket } from '../../support/device-socket';
import { sleep } from '../../support/send-stream';

/** One envelope as a recipient device saw it: which connection brought it, and when. */
export interface Arrival {
  id: string;
  content: string;
  at: number;
  connection: number;
}

/**
 * A recipient device that stays online as a client app does: it holds its relay WebSocket
 * (a `DeviceSocket` that acks each envelope as it arrives) and, whenever that socket closes —
 * relay killed, restarted or stopped —, connects again every `retryMs` until stopped. Every
 * envelope of every connection is kept in arrival order with its connection number, so an audit
 * can tell a redelivery after a reconnect from a second push on one connection.
 */
export class ReconnectingReceiver {
  readonly arrivals: Arrival[] = [];
  connections = 0;
  private socket: DeviceSocket | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    readonly label: string,
    private readonly relayUrl: string,
    private readonly token: string,
    private readonly retryMs = 250,
  ) {}

  /** Connects (retrying until `timeoutMs`) and keeps the device online in the background. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.loop ??= this.run();
    await this.waitOnline(timeoutMs);
  }

  /** Resolves once the device holds an open connection; fails after `timeoutMs`. */
  async waitOnline(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.online) {
      if (Date.now() > deadline) throw new Error(`${this.label}: no connection to ${this.relayUrl} in ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  get online(): boolean {
    return this.socket !== null && this.socket.closeCode === null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.socket?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let socket: DeviceSocket;
      try {
        socket = await DeviceSocket.connect(this.relayUrl, this.token, true);
      } catch {
        await sleep(this.retryMs);
        continue;
      }
      this.socket = socket;
      const connection = ++this.connections;
      let seen = 0;
      const collect = () => {
        for (; seen < socket.envelopes.length; seen++) {
          const envelope = socket.envelopes[seen];
          this.arrivals.push({ id: envelope.id, content: envelope.content, at: socket.arrivedAt[seen], connection });
        }
      };
      while (socket.closeCode === null && !this.stopped) {
        collect();
        await sleep(20);
      }
      collect();
      if (!this.stopped) await sleep(this.retryMs);
    }
  }
}
