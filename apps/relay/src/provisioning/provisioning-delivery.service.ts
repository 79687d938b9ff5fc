import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { REDIS, promptly } from '@sealpost/redis';
import { RELAY_INSTANCE_ID } from '../relay.tokens';
import { ProvisioningRoutes } from './provisioning-routes.scripts';
import { ProvisioningSockets } from './provisioning-sockets.service';

/** Longest wait for the replica holding a socket to say whether it took a routed message. */
export const PROVISIONING_CONFIRM_TIMEOUT_MS = 2000;
/** `MetadataPseudonyms` purpose of provisioning addresses. */
export const PROVISIONING_PSEUDONYM = 'provisioning-address';

/** On a replica's provisioning channel: a message for a socket it holds (`k`: pseudonym), or the outcome of one it routed (`r`). */
type ChannelMessage = { t: 'deliver'; r: string; k: string; b: string; f: string } | { t: 'result'; r: string; ok: boolean };

/**
 * Delivers a provisioning message to the socket holding its address, on this replica or —
 * through Redis — on the one that holds it, and says whether that socket took it. Only the
 * address's pseudonym and the sealed body cross Redis. Waits at most
 * PROVISIONING_CONFIRM_TIMEOUT_MS for the holder's answer, and not at all when nobody holds the
 * address or its holder's replica is gone (the publish reaches no subscriber).
 */
@Injectable()
export class ProvisioningDelivery implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ProvisioningDelivery.name);
  private readonly pending = new Map<string, (taken: boolean) => void>();
  private subscriber!: Redis;
  private subscriberDown = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(RELAY_INSTANCE_ID) private readonly instanceId: string,
    @Inject(MetadataPseudonyms) private readonly pseudonyms: MetadataPseudonyms,
    private readonly routes: ProvisioningRoutes,
    private readonly sockets: ProvisioningSockets,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null });
    // Logged once per outage; ioredis reconnects and resubscribes by itself.
    this.subscriber.on('error', (error: Error) => {
      if (this.subscriberDown) return;
      this.subscriberDown = true;
      this.logger.warn(`provisioning channel lost: ${error.message}`);
    });
    this.subscriber.on('ready', () => {
      this.subscriberDown = false;
    });
    this.subscriber.on('message', (_channel: string, raw: string) => void this.onMessage(raw));
    await this.subscriber.connect();
    await this.subscriber.subscribe(this.routes.channel(this.instanceId));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber.disconnect());
  }

  /** The pseudonym that stands for `address` in Redis. */
  pseudonymOf(address: string): string {
    return this.pseudonyms.of(PROVISIONING_PSEUDONYM, address);
  }

  /** True once the socket holding `address` was sent `body`; false when no live socket took it. */
  async deliver(address: string, body: Buffer): Promise<boolean> {
    const pseudonym = this.pseudonymOf(address);
    if (this.sockets.holds(pseudonym)) return this.sockets.take(pseudonym, body);
    const requestId = randomBytes(12).toString('base64url');
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<boolean>((resolve) => {
      this.pending.set(requestId, resolve);
      timer = setTimeout(() => resolve(false), PROVISIONING_CONFIRM_TIMEOUT_MS);
    });
    try {
      const message: ChannelMessage = { t: 'deliver', r: requestId, k: pseudonym, b: body.toString('base64'), f: this.instanceId };
      const routed = await promptly(this.redis, () => this.routes.routeToHolder(pseudonym, JSON.stringify(message)));
      return routed ? await answer : false;
    } finally {
      clearTimeout(timer);
      this.pending.delete(requestId);
    }
  }

  private async onMessage(raw: string): Promise<void> {
    let message: ChannelMessage;
    try {
      message = JSON.parse(raw) as ChannelMessage;
    } catch {
      return;
    }
    if (message.t === 'result') {
      this.pending.get(message.r)?.(message.ok === true);
      return;
    }
    if (message.t !== 'deliver') return;
    const taken = await this.sockets.take(message.k, Buffer.from(message.b, 'base64'));
    const result: ChannelMessage = { t: 'result', r: message.r, ok: taken };
    // If the answer is lost, the PUT is answered 404 after the timeout although the socket took the body.
    await this.routes.publish(message.f, JSON.stringify(result)).catch((error: Error) => {
      this.logger.warn(`provisioning outcome not sent back: ${error.message}`);
    });
  }
}
