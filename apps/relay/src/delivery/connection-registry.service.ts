import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import type WebSocket from 'ws';
import type { RelayConfig } from '@sealpost/config';
import { AuthenticatedDevice, ackFrameOf } from '@sealpost/contracts';
import { REDIS, REDIS_PREFIX } from '@sealpost/redis';
import { MessagesStore } from '../mailbox/messages-store.repository';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG, RELAY_INSTANCE_ID } from '../relay.tokens';
import { AckBatcher } from './ack-batcher.service';
import { CLOSE_DEVICE_REMOVED, CLOSE_REPLACED, CLOSE_TOO_MANY_FRAMES, DeviceConnection } from './device-connection';
import { PresenceScripts } from './presence.scripts';
import { SocketFrameBudget } from './socket-frame-budget';
import { SendFrameHandler, clientFrameOf } from '../socket-sends/sending-socket';

const SHUTDOWN_GRACE_MS = 2000;
const INVALID_FRAME = JSON.stringify({
  type: 'error',
  error: 'invalid_frame',
  message: 'expected {"type":"ack","ids":[...]} or {"type":"send","requestId":...}',
});

/** Every Nth sweep also re-fetches for every socket, in case a wake-up was lost. */
const SAFETY_POLL_EVERY_SWEEPS = 10;

/** `c`: with a kick, the connection that was displaced. */
interface InstanceMessage {
  t: 'wake' | 'kick';
  a: string;
  d: number;
  c?: string;
}

/**
 * The sockets this relay instance holds, one per device, and its side of presence in Redis:
 * a second connection of a device closes the first (4409) here or on another instance; wake-ups
 * for a device reach the instance holding it through that instance's Redis channel.
 */
@Injectable()
export class ConnectionRegistry implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(ConnectionRegistry.name);
  private readonly connections = new Map<string, DeviceConnection>();
  private readonly presence: PresenceScripts;
  private subscriber!: Redis;
  private sweepTimer?: NodeJS.Timeout;
  private sweeps = 0;
  private missedWakeups = false;
  private closing = false;
  private sends?: SendFrameHandler;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) prefix: string,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    @Inject(RELAY_INSTANCE_ID) private readonly instanceId: string,
    private readonly store: MessagesStore,
    private readonly acks: AckBatcher,
    private readonly metrics: RelayMetrics,
  ) {
    this.presence = new PresenceScripts(redis, prefix);
    metrics.watchSockets(() => this.connections.size);
  }

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('close', () => {
      this.missedWakeups = true;
    });
    // After a Redis outage: presence died with Redis, so claim it again first (other replicas
    // route wake-ups by it), then wake every socket for what was stored meanwhile.
    this.subscriber.on('ready', () => {
      if (this.missedWakeups) void this.recoverAfterOutage();
    });
    this.redis.on('close', () => {
      this.missedWakeups = true;
    });
    this.redis.on('ready', () => {
      if (this.missedWakeups) void this.recoverAfterOutage();
    });
    this.subscriber.on('message', (_channel: string, message: string) => this.onInstanceMessage(message));
    await this.subscriber.connect();
    await this.subscriber.subscribe(this.presence.instanceChannel(this.instanceId));
    this.missedWakeups = false;
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.pingIntervalSeconds * 1000);
    this.sweepTimer.unref();
  }

  /**
   * Before the HTTP server closes (which waits for every open connection, upgraded ones too):
   * say goodbye (1001) to every socket and cut those that do not close within a grace period.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    const sockets = [...this.connections.values()];
    for (const connection of sockets) connection.close(1001, 'server shutting down');
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(
        sockets.map(
          (c) =>
            new Promise<void>((resolve) => (c.socket.readyState === c.socket.CLOSED ? resolve() : c.socket.once('close', () => resolve()))),
        ),
      ),
      new Promise((resolve) => {
        grace = setTimeout(resolve, SHUTDOWN_GRACE_MS);
      }),
    ]);
    // Sockets that closed in time must not leave the grace timer holding the process open.
    clearTimeout(grace);
    for (const connection of sockets) connection.socket.terminate();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber.disconnect());
  }

  /** True once shutdown began: no new sockets. */
  get isClosing(): boolean {
    return this.closing;
  }

  get size(): number {
    return this.connections.size;
  }

  local(accountId: string, deviceId: number): DeviceConnection | undefined {
    return this.connections.get(`${accountId}/${deviceId}`);
  }

  /** Who answers the devices' send frames (SocketSends; set by the gateway, as it depends on this registry through MessageIntake). */
  takeSendFramesWith(handler: SendFrameHandler): void {
    this.sends = handler;
  }

  /** `clientAddress`: the client's address at the upgrade (TRUST_PROXY applied). */
  open(socket: WebSocket, device: AuthenticatedDevice, clientAddress: string): void {
    const budget = new SocketFrameBudget(this.config.wsFrameBurst, this.config.wsFrameRatePerSecond);
    const connection = new DeviceConnection(socket, device, clientAddress, {
      store: this.store,
      maxInFlight: this.config.maxInFlightPerSocket,
      onAck: (c, ids) => this.acks.acknowledge(c.device.accountId, c.device.deviceId, ids),
      onIgnoredAcks: (count) => this.metrics.acksIgnored.inc(count),
      ackedNotYetDeleted: (c, id) => this.acks.isAwaitingDelete(c.device.accountId, c.device.deviceId, id),
      onFetchError: (error) => this.logger.warn(`queue fetch failed: ${(error as Error).message}`),
      onPushed: () => {
        this.metrics.pushed.inc();
        budget.earn();
      },
    });
    const previous = this.connections.get(connection.key);
    this.connections.set(connection.key, connection);
    previous?.close(CLOSE_REPLACED, 'replaced by a newer connection of this device');

    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onFrame(connection, budget, data as Buffer, isBinary));
    socket.on('close', () => this.onClose(connection));
    socket.on('error', () => undefined);

    void this.claimPresence(connection);
    // Acks the previous connection sent just before closing are deleted first (same relay).
    void this.acks.settled(device.accountId, device.deviceId).then(() => connection.wake());
  }

  /** A device was removed from its account: close its socket. */
  closeDevice(accountId: string, deviceId: number): void {
    this.local(accountId, deviceId)?.close(CLOSE_DEVICE_REMOVED, 'device removed');
  }

  /** Wakes the local socket of each device, or routes the wake-up to the instance holding it. */
  async wake(accountId: string, deviceIds: number[]): Promise<void> {
    const remote: { accountId: string; deviceId: number }[] = [];
    for (const deviceId of deviceIds) {
      const connection = this.local(accountId, deviceId);
      if (connection) connection.wake();
      else remote.push({ accountId, deviceId });
    }
    if (remote.length === 0) return;
    try {
      await this.presence.wakeHolders(remote, (d) =>
        JSON.stringify({ t: 'wake', a: d.accountId, d: d.deviceId } satisfies InstanceMessage),
      );
    } catch {
      // Redis is down: the envelopes are stored; sockets re-fetch when Redis is back (recoverAfterOutage).
    }
  }

  /**
   * The claim order in Redis decides which connection of a device is the newer one: the one
   * displaced is told to close, by its connection id (on this instance, `open` closed it already).
   */
  private async claimPresence(connection: DeviceConnection): Promise<void> {
    const { accountId, deviceId } = connection.device;
    try {
      const previous = await this.presence.claim(accountId, deviceId, this.holderOf(connection), this.presenceTtl());
      if (previous && previous.instanceId !== this.instanceId) {
        await this.presence.publish(
          previous.instanceId,
          JSON.stringify({ t: 'kick', a: accountId, d: deviceId, c: previous.connectionId } satisfies InstanceMessage),
        );
      } else if (previous && previous.connectionId !== connection.connectionId) {
        // A connection on this instance that was still open here (claims can finish out of order).
        this.kickLocal(accountId, deviceId, previous.connectionId);
      }
    } catch {
      this.missedWakeups = true;
    }
  }

  private holderOf(connection: DeviceConnection) {
    return { instanceId: this.instanceId, connectionId: connection.connectionId };
  }

  private kickLocal(accountId: string, deviceId: number, connectionId: string | undefined): void {
    const connection = this.local(accountId, deviceId);
    if (connection && connection.connectionId === connectionId)
      connection.close(CLOSE_REPLACED, 'replaced by a newer connection of this device');
  }

  private onInstanceMessage(raw: string): void {
    let message: InstanceMessage;
    try {
      message = JSON.parse(raw) as InstanceMessage;
    } catch {
      return;
    }
    if (message.t === 'kick') this.kickLocal(message.a, message.d, message.c);
    else if (message.t === 'wake') this.local(message.a, message.d)?.wake();
  }

  /** Every client frame, valid or not, takes a token first: past the budget the socket is closed (4429), not served. */
  private onFrame(connection: DeviceConnection, budget: SocketFrameBudget, data: Buffer, isBinary: boolean): void {
    if (!connection.isOpen) return;
    if (!budget.take()) {
      this.metrics.socketsOverFrameRate.inc();
      connection.close(CLOSE_TOO_MANY_FRAMES, 'too many frames; slow down and reconnect');
      return;
    }
    const frame = clientFrameOf(data, isBinary);
    if (frame?.type === 'send' && this.sends) {
      this.sends.take(connection, frame);
      return;
    }
    const ack = ackFrameOf(frame);
    if (!ack) {
      connection.socket.send(INVALID_FRAME);
      return;
    }
    connection.acknowledge(ack.ids);
  }

  private onClose(connection: DeviceConnection): void {
    if (this.connections.get(connection.key) !== connection) return;
    this.connections.delete(connection.key);
    void this.presence.release(connection.device.accountId, connection.device.deviceId, this.holderOf(connection)).catch(() => undefined);
  }

  private async sweep(): Promise<void> {
    this.sweeps += 1;
    const safetyPoll = this.missedWakeups || this.sweeps % SAFETY_POLL_EVERY_SWEEPS === 0;
    this.missedWakeups = false;
    const live: DeviceConnection[] = [];
    for (const connection of this.connections.values()) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
      live.push(connection);
      if (safetyPoll) connection.wake();
    }
    await this.refreshPresence(live);
  }

  private async recoverAfterOutage(): Promise<void> {
    this.missedWakeups = false;
    await this.refreshPresence([...this.connections.values()]);
    for (const connection of this.connections.values()) connection.wake();
  }

  /** Keeps our claims alive; a connection whose claim a newer one took (a missed kick) is closed. */
  private async refreshPresence(connections: DeviceConnection[]): Promise<void> {
    const claims = connections.map((c) => ({ accountId: c.device.accountId, deviceId: c.device.deviceId, holder: this.holderOf(c) }));
    try {
      const displaced = await this.presence.refresh(claims, this.presenceTtl());
      for (const { accountId, deviceId, holder } of displaced) this.kickLocal(accountId, deviceId, holder.connectionId);
    } catch {
      this.missedWakeups = true;
    }
  }

  private presenceTtl(): number {
    return this.config.pingIntervalSeconds * 3;
  }
}
