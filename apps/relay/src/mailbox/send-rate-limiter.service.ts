import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { RelayConfig } from '@sealpost/config';
import { tooManyRequests } from '@sealpost/http';
import { REDIS, REDIS_PREFIX, TokenBucketScript } from '@sealpost/redis';
import { RELAY_CONFIG } from '../relay.tokens';

/** Token buckets per sending device and per recipient account (ids in keys, never tokens). */
@Injectable()
export class SendRateLimiter {
  private readonly bucket: TokenBucketScript;

  constructor(@Inject(REDIS) redis: Redis, @Inject(REDIS_PREFIX) private readonly prefix: string, @Inject(RELAY_CONFIG) private readonly config: RelayConfig) {
    this.bucket = new TokenBucketScript(redis);
  }

  /** Throws 429 with Retry-After when the sender (if known) or the recipient is over its limit. */
  async admit(sender: { accountId: string; deviceId: number } | null, recipientAccountId: string): Promise<void> {
    const checks = [this.bucket.take(`${this.prefix}rl:recv:{${recipientAccountId}}`, this.config.recipientRateBurst, this.config.recipientRatePerMinute)];
    if (sender) {
      checks.push(this.bucket.take(`${this.prefix}rl:send:{${sender.accountId}}:${sender.deviceId}`, this.config.senderRateBurst, this.config.senderRatePerMinute));
    }
    const verdicts = await Promise.all(checks);
    const refused = verdicts.filter((v) => !v.allowed);
    if (refused.length > 0) {
      throw tooManyRequests(Math.max(1, Math.ceil(Math.max(...refused.map((v) => v.retryAfterMs)) / 1000)));
    }
  }
}
