import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS, REDIS_PREFIX, TokenBucketScript } from '@sealpost/redis';
import { assertWithinRate } from '@sealpost/http';
import type { DirectoryConfig } from '@sealpost/config';
import { DIRECTORY_CONFIG } from '../directory.tokens';

/**
 * Token bucket per requester → target account for bundle claims, so nobody can drain another
 * account's one-time keys. Keys carry the requester in a {hash tag} (Redis Cluster ready) and
 * hold ids only, never tokens.
 */
@Injectable()
export class ClaimRateLimiter {
  private readonly bucket: TokenBucketScript;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {
    this.bucket = new TokenBucketScript(redis);
  }

  /** Throws 429 with Retry-After when `requester` has claimed too often from `target`. */
  async admit(requester: string, target: string): Promise<void> {
    const key = `${this.prefix}rl:claim:{${requester}}:${target}`;
    const verdict = await this.bucket.take(key, this.config.claimRateBurst, this.config.claimRatePerMinute);
    assertWithinRate(verdict);
  }
}
