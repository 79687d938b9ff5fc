import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type WebSocket from 'ws';
import type { RelayConfig } from '@sealpost/config';
import { CLOSE_TOO_MANY_FRAMES } from '../delivery/device-connection';
import { SocketFrameBudget } from '../delivery/socket-frame-budget';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';
import { SendingSocket, clientFrameOf } from './sending-socket';
import { SocketSends } from './socket-sends.service';

const SHUTDOWN_GRACE_MS = 1000;
const ONLY_SENDS = JSON.stringify({
  type: 'error',
  error: 'invalid_frame',
  message: 'an unidentified socket takes only {"type":"send","requestId":...,"unidentifiedAccessKey":...} frames',
});

interface UnidentifiedSocket extends SendingSocket {
  readonly sender: null;
  readonly budget: SocketFrameBudget;
  alive: boolean;
}

/**
 * The `/v1/websocket/unidentified` sockets this replica holds: no account stands behind them, so
 * they carry sealed sends only (SocketSends, with no sender), never receive envelopes or notices
 * and are in no presence or wake-up path. Each frame takes from the socket's frame budget
 * (WS_FRAME_*, as on device sockets; past it 4429); any frame but a send gets `invalid_frame`.
 * The server pings every WS_PING_INTERVAL_SECONDS and drops a socket that missed a pong.
 */
@Injectable()
export class UnidentifiedSockets implements OnModuleInit, BeforeApplicationShutdown {
  private readonly sockets = new Set<UnidentifiedSocket>();
  private sweepTimer?: NodeJS.Timeout;
  private closing = false;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly sends: SocketSends,
    private readonly metrics: RelayMetrics,
  ) {
    metrics.watchUnidentifiedSockets(() => this.sockets.size);
  }

  onModuleInit(): void {
    this.sweepTimer = setInterval(() => this.sweep(), this.config.pingIntervalSeconds * 1000);
    this.sweepTimer.unref();
  }

  /** Before the HTTP server closes (it waits for upgraded connections too): 1001 to every socket, cut after a grace. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    const open = [...this.sockets];
    for (const s of open) s.socket.close(1001, 'server shutting down');
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(
        open.map(
          (s) =>
            new Promise<void>((resolve) => (s.socket.readyState === s.socket.CLOSED ? resolve() : s.socket.once('close', () => resolve()))),
        ),
      ),
      new Promise((resolve) => {
        grace = setTimeout(resolve, SHUTDOWN_GRACE_MS);
      }),
    ]);
    clearTimeout(grace);
    for (const s of open) s.socket.terminate();
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get size(): number {
    return this.sockets.size;
  }

  /** A socket just upgraded for `clientAddress` (TRUST_PROXY applied). */
  open(socket: WebSocket, clientAddress: string): void {
    const entry: UnidentifiedSocket = {
      socket,
      sender: null,
      clientAddress,
      budget: new SocketFrameBudget(this.config.wsFrameBurst, this.config.wsFrameRatePerSecond),
      alive: true,
    };
    this.sockets.add(entry);
    socket.on('pong', () => {
      entry.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onFrame(entry, data as Buffer, isBinary));
    socket.on('close', () => this.sockets.delete(entry));
    // Protocol errors (a frame over the cap, bad framing): ws closes the socket (1009/1002) and 'close' follows.
    // Anyone can cause them at will, so they are not logged.
    socket.on('error', () => undefined);
  }

  private onFrame(entry: UnidentifiedSocket, data: Buffer, isBinary: boolean): void {
    if (entry.socket.readyState !== entry.socket.OPEN) return;
    if (!entry.budget.take()) {
      this.metrics.socketsOverFrameRate.inc();
      entry.socket.close(CLOSE_TOO_MANY_FRAMES, 'too many frames; slow down and reconnect');
      return;
    }
    const frame = clientFrameOf(data, isBinary);
    if (frame?.type === 'send') this.sends.take(entry, frame);
    else entry.socket.send(ONLY_SENDS);
  }

  private sweep(): void {
    for (const entry of this.sockets) {
      if (!entry.alive) {
        entry.socket.terminate();
        continue;
      }
      entry.alive = false;
      entry.socket.ping();
    }
  }
}
