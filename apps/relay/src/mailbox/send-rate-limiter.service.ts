import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { RelayConfig } from '@sealpost/config';
import { assertWithinRate } from '@sealpost/http';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { REDIS, REDIS_PREFIX, TokenBucketScript, rateLimitKey } from '@sealpost/redis';
import { RELAY_CONFIG } from '../relay.tokens';

/**
 * Token buckets per sending device and per recipient (an account id, or `remote:{address}`),
 * named by keyed hashes (`rateLimitKey`): Redis never shows who sends to whom.
 */
@Injectable()
export class SendRateLimiter {
  private readonly bucket: TokenBucketScript;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    @Inject(MetadataPseudonyms) private readonly pseudonyms: MetadataPseudonyms,
  ) {
    this.bucket = new TokenBucketScript(redis);
  }

  /**
   * Throws 429 with Retry-After when the sender (if known) or the recipient is over its limit.
   * The sender's bucket is taken first, so a sender over its own limit cannot drain the
   * recipient's budget.
   */
  async admit(sender: { accountId: string; deviceId: number } | null, recipientAccountId: string): Promise<void> {
    if (sender) {
      const own = await this.bucket.take(
        rateLimitKey(this.prefix, this.pseudonyms, 'send', sender.accountId, sender.deviceId),
        this.config.senderRateBurst,
        this.config.senderRatePerMinute,
      );
      assertWithinRate(own);
    }
    const recipient = await this.bucket.take(
      rateLimitKey(this.prefix, this.pseudonyms, 'recv', recipientAccountId),
      this.config.recipientRateBurst,
      this.config.recipientRatePerMinute,
    );
    assertWithinRate(recipient);
  }
}
