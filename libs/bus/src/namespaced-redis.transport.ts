import { ClientRedis, ReadPacket, RedisOptions, ServerRedis } from '@nestjs/microservices';
import { redisOptionsFromUrl } from '@sealpost/redis';

type RedisTransportOptions = Required<RedisOptions>['options'];

/**
 * Redis pub/sub channels are global to a Redis server (not per database), so several
 * homeservers sharing one Redis must not hear each other's bus traffic. These subclasses of
 * Nest's Redis transport put a per-homeserver namespace in front of every channel, for
 * requests, replies and events alike. Handlers keep their plain pattern names.
 */
export class NamespacedServerRedis extends ServerRedis {
  constructor(private readonly namespace: string, options: RedisTransportOptions) {
    super(options);
  }

  override getRequestPattern(pattern: string): string {
    return `${this.namespace}${pattern}`;
  }

  override getReplyPattern(pattern: string): string {
    return `${this.namespace}${pattern}.reply`;
  }

  override bindEvents(subClient: any, pubClient: any): void {
    subClient.on('message', (channel: string, buffer: string) => {
      if (!channel.startsWith(this.namespace)) return;
      const pattern = channel.slice(this.namespace.length);
      // Handler lookup uses the plain pattern; getReplyPattern puts the namespace back for the reply.
      this.handleMessage(pattern, buffer, pubClient, pattern).catch((err: unknown) => this.handleError(String(err)));
    });
    for (const pattern of this.messageHandlers.keys()) subClient.subscribe(`${this.namespace}${pattern}`);
  }
}

export class NamespacedClientRedis extends ClientRedis {
  constructor(private readonly namespace: string, options: RedisTransportOptions) {
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
