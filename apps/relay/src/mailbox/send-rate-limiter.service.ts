import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { RelayConfig } from '@sealpost/config';
import { assertWithinRate } from '@sealpost/http';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { REDIS, REDIS_PREFIX, TokenBucketScript, rateLimitKey } from '@sealpost/redis';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

/** Who a send comes from, as far as this relay can tell. */
export interface SendOrigin {
  /** The sending device (identified sends, and identified deliveries from another homeserver). */
  sender: { accountId: string; deviceId: number } | null;
  /** The client's address (Fastify `request.ip`, TRUST_PROXY applied); absent for deliveries from another homeserver. */
  clientAddress?: string;
}

/** The buckets, as named in Redis keys (`rl:{bucket}:…`) and in the `limit` label of the refusal counter. */
type Bucket = 'send' | 'pair' | 'recv' | 'sealed-remote-src' | 'remote-dest';

/**
 * Token buckets for sends, named by keyed hashes (`rateLimitKey`): Redis never shows who sends to
 * whom. Buckets are taken narrowest first and the first refusal stops the rest, so a sender over
 * its own budget never uses up a wider one that others share:
 * - local recipient: sender device → sender→recipient pair → recipient;
 * - remote recipient, identified: sender device → pair → `remote:{address}`;
 * - remote recipient, sealed: client address → destination server.
 */
@Injectable()
export class SendRateLimiter {
  private readonly bucket: TokenBucketScript;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    @Inject(MetadataPseudonyms) private readonly pseudonyms: MetadataPseudonyms,
    private readonly metrics: RelayMetrics,
  ) {
    this.bucket = new TokenBucketScript(redis);
  }

  /**
   * Throws 429 with Retry-After when the sender (if known), the sender→recipient pair or the
   * recipient is over its limit. The pair is the sending device, or for a sealed send the
   * client's address; a sealed delivery from another homeserver has neither and skips it.
   */
  async admit(origin: SendOrigin, recipient: string): Promise<void> {
    if (origin.sender) await this.admitSender(origin.sender);
    await this.admitToRecipient(origin, recipient);
  }

  /**
   * The sending device's own budget alone: taken before the recipient is looked up, so a device
   * over its budget costs no lookup (its refusals come from memory: TokenBucketScript).
   */
  async admitSender(sender: NonNullable<SendOrigin['sender']>): Promise<void> {
    const c = this.config;
    await this.take('send', [sender.accountId, sender.deviceId], c.senderRateBurst, c.senderRatePerMinute);
  }

  /** The pair and recipient budgets of a send whose sender budget (if any) was already taken. */
  async admitToRecipient(origin: SendOrigin, recipient: string): Promise<void> {
    const { sender, clientAddress } = origin;
    const c = this.config;
    const pairSource = sender ? ['device', sender.accountId, sender.deviceId] : clientAddress ? ['address', clientAddress] : null;
    if (pairSource) await this.take('pair', [...pairSource, recipient], c.pairRateBurst, c.pairRatePerMinute);
    await this.take('recv', [recipient], c.recipientRateBurst, c.recipientRatePerMinute);
  }

  /**
   * A sealed send to a user of another homeserver (no account, no login): per client address,
   * then per destination server, so one source cannot fill the federation outbox for everyone.
   */
  async admitSealedRemote(clientAddress: string | undefined, destination: string): Promise<void> {
    const c = this.config;
    if (clientAddress) await this.take('sealed-remote-src', [clientAddress], c.sealedRemoteRateBurst, c.sealedRemoteRatePerMinute);
    await this.take('remote-dest', [destination], c.remoteDestinationRateBurst, c.remoteDestinationRatePerMinute);
  }

  private async take(bucket: Bucket, subject: (string | number)[], burst: number, perMinute: number): Promise<void> {
    const verdict = await this.bucket.take(rateLimitKey(this.prefix, this.pseudonyms, bucket, ...subject), burst, perMinute);
    if (!verdict.allowed) this.metrics.sendsRateLimited.inc({ limit: bucket });
    assertWithinRate(verdict);
  }
}
