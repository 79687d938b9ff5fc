import { ClientRedis, ReadPacket, RedisOptions, ServerRedis, WritePacket } from '@nestjs/microservices';
import { redisOptionsFromUrl } from '@sealpost/redis';

type RedisTransportOptions = Required<RedisOptions>['options'];

/** How long a replica's claim on a request is remembered; the other replicas hear it within milliseconds. */
const REQUEST_CLAIM_TTL_MS = 10_000;
/** The request id Nest's client puts last in a request packet; events have none. */
const REQUEST_ID_AT_END = /"id":"([A-Za-z0-9-]{1,64})"\}$/;

/**
 * A bus request that reached no subscriber (Redis `PUBLISH` counted 0 receivers): no service
 * answering its pattern was connected, so nothing handled it and nothing was stored. Callers can
 * say so at once instead of waiting out their timeout.
 */
export class NoBusReceiverError extends Error {
  override readonly name = 'NoBusReceiverError';
  constructor(readonly pattern: string) {
    super(`no service is subscribed to bus pattern ${pattern}; the request reached nobody`);
  }
}

/**
 * Redis pub/sub channels are global to a Redis server (not per database), so several
 * homeservers sharing one Redis must not hear each other's bus traffic. These subclasses of
 * Nest's Redis transport put a per-homeserver namespace in front of every channel, for
 * requests, replies and events alike. Handlers keep their plain pattern names.
 *
 * Pub/sub hands every message to every replica of a service. Events are meant for all of them,
 * but a request must be handled **once** (a bundle claim takes one-time keys, a notice is
 * stored): the replica that wins a `SET NX` on the request id handles it, the others drop it.
 */
export class NamespacedServerRedis extends ServerRedis {
  constructor(
    private readonly namespace: string,
    options: RedisTransportOptions,
  ) {
    super(options);
  }

  override getRequestPattern(pattern: string): string {
    return `${this.namespace}${pattern}`;
  }

  override getReplyPattern(pattern: string): string {
    return `${this.namespace}${pattern}.reply`;
  }

  /**
   * Unlike Nest's, the server counts as started (startAllMicroservices resolves) only once Redis
   * has confirmed every subscription: a service starts listening for HTTP — and so can answer
   * /healthz 200 — only when requests sent to it over the bus are heard.
   */
  override start(callback?: (error?: unknown) => void): void {
    void Promise.all([this.subClient.connect(), this.pubClient.connect()])
      .then(() => this.subscribeAll(this.subClient, this.pubClient))
      .then(
        () => callback?.(),
        (error: unknown) => callback?.(error),
      );
  }

  override bindEvents(subClient: any, pubClient: any): void {
    void this.subscribeAll(subClient, pubClient).catch((err: unknown) => this.handleError(String(err)));
  }

  private async subscribeAll(subClient: any, pubClient: any): Promise<void> {
    subClient.on('message', (channel: string, buffer: string) => {
      if (!channel.startsWith(this.namespace)) return;
      const pattern = channel.slice(this.namespace.length);
      // Handler lookup uses the plain pattern; getReplyPattern puts the namespace back for the reply.
      this.handleOnce(pattern, buffer, pubClient).catch((err: unknown) => this.handleError(String(err)));
    });
    await Promise.all([...this.messageHandlers.keys()].map((pattern) => subClient.subscribe(`${this.namespace}${pattern}`)));
  }

  private async handleOnce(pattern: string, raw: string, pubClient: any): Promise<void> {
    const requestId = requestIdOf(raw);
    if (requestId !== null) {
      const claimed = await pubClient.set(`${this.namespace}taken:${requestId}`, '1', 'PX', REQUEST_CLAIM_TTL_MS, 'NX');
      if (claimed !== 'OK') return;
    }
    await this.handleMessage(pattern, raw, pubClient, pattern);
  }
}

function requestIdOf(raw: string): string | null {
  const atEnd = REQUEST_ID_AT_END.exec(raw);
  if (atEnd) return atEnd[1];
  try {
    const id = (JSON.parse(raw) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

export class NamespacedClientRedis extends ClientRedis {
  constructor(
    private readonly namespace: string,
    options: RedisTransportOptions,
  ) {
    super(options);
  }

  override getRequestPattern(pattern: string): string {
    return `${this.namespace}${pattern}`;
  }

  override getReplyPattern(pattern: string): string {
    return `${this.namespace}${pattern}.reply`;
  }

  /**
   * Nest's ready listener subscribes the reply handler on `subClient`. If the client is closed
   * while its first connection is still being made, ioredis can still emit `ready` after
   * `close()` has dropped both clients, and Nest's listener then throws an uncaught TypeError.
   * A ready that arrives after close is ignored.
   */
  override registerReadyListener(client: { on: (event: string, fn: () => void) => void }): void {
    super.registerReadyListener({
      on: (event, fn) =>
        client.on(event, () => {
          if (this.subClient) fn();
        }),
    });
  }

  /**
   * Nest's request publishing, with one change: Redis answers `PUBLISH` with the number of
   * subscribers that got the message, and a request that reached none fails at once with
   * NoBusReceiverError instead of waiting for a reply that cannot come. (A publish that errors
   * has an unknown outcome and is left to the caller's timeout, as before.) Counts are per Redis
   * server, which is what this transport connects to (no Redis Cluster sharded pub/sub).
   */
  protected override publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    try {
      const packet = this.assignPacketId(partialPacket);
      const pattern = this.normalizePattern(partialPacket.pattern);
      const serialized = JSON.stringify(this.serializer.serialize(packet));
      const responseChannel = this.getReplyPattern(pattern);
      const publishPacket = () => {
        this.subscriptionsCount.set(responseChannel, (this.subscriptionsCount.get(responseChannel) || 0) + 1);
        this.routingMap.set(packet.id, callback);
        this.pubClient.publish(this.getRequestPattern(pattern), serialized, (err: unknown, receivers?: number) => {
          if (!err && receivers === 0 && this.routingMap.get(packet.id) === callback) callback({ err: new NoBusReceiverError(pattern) });
        });
      };
      if ((this.subscriptionsCount.get(responseChannel) || 0) <= 0) {
        this.subClient.subscribe(responseChannel, (err: unknown) => !err && publishPacket());
      } else {
        publishPacket();
      }
      return () => {
        this.unsubscribeFromChannel(responseChannel);
        this.routingMap.delete(packet.id);
      };
    } catch (err) {
      callback({ err });
      return () => undefined;
    }
  }

  protected override dispatchEvent(packet: ReadPacket): Promise<any> {
    const channel = `${this.namespace}${this.normalizePattern(packet.pattern)}`;
    const serialized = this.serializer.serialize(packet);
    return new Promise<void>((resolve, reject) =>
      this.pubClient.publish(channel, JSON.stringify(serialized), (err: unknown) => (err ? reject(err) : resolve())),
    );
  }
}

export function transportOptionsFromUrl(redisUrl: string): RedisTransportOptions {
  const { host, port, username, password, db, tls } = redisOptionsFromUrl(redisUrl);
  return { host, port, username, password, db, tls, retryAttempts: 1_000_000, retryDelay: 1000 };
}
