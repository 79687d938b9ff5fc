import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import type WebSocket from 'ws';
import type { ProvisioningAddressFrame, ProvisioningMessageFrame } from '@sealpost/contracts';
import type { RelayConfig } from '@sealpost/config';
import { REDIS } from '@sealpost/redis';
import { CLOSE_TOO_MANY_FRAMES } from '../delivery/device-connection';
import { SocketFrameBudget } from '../delivery/socket-frame-budget';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG, RELAY_INSTANCE_ID } from '../relay.tokens';
import { ProvisioningRoutes } from './provisioning-routes.scripts';

/** The provisioning address outlived PROVISIONING_TTL_SECONDS: the new device should open a new socket. */
export const CLOSE_PROVISIONING_EXPIRED = 4408;
const SHUTDOWN_GRACE_MS = 1000;
const NO_FRAMES = '{"type":"error","error":"invalid_frame","message":"a provisioning socket takes no frames"}';

interface ProvisioningSocket {
  socket: WebSocket;
  pseudonym: string;
  expiresAt: number;
  expiry: NodeJS.Timeout;
  budget: SocketFrameBudget;
  alive: boolean;
}

/**
 * The provisioning sockets this replica holds, by the pseudonym of their address (the address
 * itself is kept nowhere but in the frame that told the new device). Each takes exactly one
 * message: `take` removes the socket from the map before anything else, synchronously, so of two
 * PUTs racing for one address (on this replica or routed here from others) one delivers and the
 * other finds nothing. A socket is closed 1000 once its message is sent, 4408 at its TTL, 4429
 * past the frame budget; it never receives envelopes and is not a device socket.
 */
@Injectable()
export class ProvisioningSockets implements OnModuleInit, BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger(ProvisioningSockets.name);
  private readonly sockets = new Map<string, ProvisioningSocket>();
  private sweepTimer?: NodeJS.Timeout;
  private redisLost = false;
  private closing = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    @Inject(RELAY_INSTANCE_ID) private readonly instanceId: string,
    private readonly routes: ProvisioningRoutes,
    private readonly metrics: RelayMetrics,
  ) {
    metrics.watchProvisioningSockets(() => this.sockets.size);
  }

  onModuleInit(): void {
    // Routes died with Redis: claim the live sockets again once it is back, for their remaining lifetime.
    this.redis.on('close', () => {
      this.redisLost = true;
    });
    this.redis.on('ready', () => {
      if (this.redisLost) void this.claimAgain();
    });
    this.sweepTimer = setInterval(() => this.sweep(), this.config.pingIntervalSeconds * 1000);
    this.sweepTimer.unref();
  }

  /** Before the HTTP server closes (it waits for upgraded connections too): 1001 to every socket, cut after a grace. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    const open = [...this.sockets.values()];
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

  onModuleDestroy(): void {
    for (const s of this.sockets.values()) clearTimeout(s.expiry);
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get size(): number {
    return this.sockets.size;
  }

  holds(pseudonym: string): boolean {
    return this.sockets.has(pseudonym);
  }

  /** A new device's socket, just upgraded, whose route (`pseudonym` → this replica) is claimed: tells it its address. */
  open(socket: WebSocket, address: string, pseudonym: string): void {
    const ttlMs = this.config.provisioning.ttlSeconds * 1000;
    const entry: ProvisioningSocket = {
      socket,
      pseudonym,
      expiresAt: Date.now() + ttlMs,
      expiry: setTimeout(() => this.expire(entry), ttlMs),
      budget: new SocketFrameBudget(this.config.wsFrameBurst, this.config.wsFrameRatePerSecond),
      alive: true,
    };
    entry.expiry.unref();
    this.sockets.set(pseudonym, entry);
    socket.on('pong', () => {
      entry.alive = true;
    });
    socket.on('message', () => this.onFrame(entry));
    socket.on('close', () => this.onClose(entry));
    // Protocol errors (a frame over 4 KiB, bad framing): ws closes the socket (1009/1002) and 'close' follows.
    // Anyone can cause them at will, so they are not logged.
    socket.on('error', () => undefined);
    socket.send(JSON.stringify({ type: 'provisioning-address', address } satisfies ProvisioningAddressFrame));
  }

  /**
   * Sends `body` to the socket holding `pseudonym` and closes it (1000): true once the frame was
   * written. The socket leaves the map first, so no second message can ever reach it.
   */
  async take(pseudonym: string, body: Buffer): Promise<boolean> {
    const entry = this.sockets.get(pseudonym);
    if (!entry) return false;
    this.forget(entry);
    if (entry.socket.readyState !== entry.socket.OPEN) return false;
    const frame = JSON.stringify({ type: 'provisioning-message', body: body.toString('base64') } satisfies ProvisioningMessageFrame);
    const sent = await new Promise<boolean>((resolve) => entry.socket.send(frame, (error) => resolve(!error)));
    if (sent) this.metrics.provisioningSocketsClosed.inc({ reason: 'delivered' });
    entry.socket.close(1000, 'provisioned');
    return sent;
  }

  private onFrame(entry: ProvisioningSocket): void {
    if (entry.socket.readyState !== entry.socket.OPEN) return;
    if (!entry.budget.take()) {
      this.metrics.provisioningSocketsClosed.inc({ reason: 'frame_rate' });
      entry.socket.close(CLOSE_TOO_MANY_FRAMES, 'too many frames');
      return;
    }
    entry.socket.send(NO_FRAMES);
  }

  private expire(entry: ProvisioningSocket): void {
    if (this.sockets.get(entry.pseudonym) !== entry) return;
    this.forget(entry);
    this.metrics.provisioningSocketsClosed.inc({ reason: 'expired' });
    entry.socket.close(CLOSE_PROVISIONING_EXPIRED, 'provisioning address expired');
  }

  private onClose(entry: ProvisioningSocket): void {
    if (this.sockets.get(entry.pseudonym) === entry) this.forget(entry);
  }

  /** Takes the socket out of the map and its route out of Redis (if that fails, the route expires with the TTL). */
  private forget(entry: ProvisioningSocket): void {
    this.sockets.delete(entry.pseudonym);
    clearTimeout(entry.expiry);
    this.routes.release(entry.pseudonym, this.instanceId).catch((error: Error) => {
      this.logger.debug(`provisioning route not released (it expires by itself): ${error.message}`);
    });
  }

  private sweep(): void {
    for (const entry of this.sockets.values()) {
      if (!entry.alive) {
        entry.socket.terminate();
        continue;
      }
      entry.alive = false;
      entry.socket.ping();
    }
  }

  private async claimAgain(): Promise<void> {
    this.redisLost = false;
    const now = Date.now();
    try {
      for (const entry of this.sockets.values()) {
        if (entry.expiresAt > now) await this.routes.claim(entry.pseudonym, this.instanceId, entry.expiresAt - now);
      }
    } catch (error) {
      this.redisLost = true;
      this.logger.warn(`provisioning routes not claimed again after a Redis outage: ${(error as Error).message}`);
    }
  }
}
