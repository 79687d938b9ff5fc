import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { REDIS, REDIS_PREFIX, TokenBucketScript, rateLimitKey } from '@sealpost/redis';
import { assertWithinRate } from '@sealpost/http';
import type { DirectoryConfig } from '@sealpost/config';
import { DIRECTORY_CONFIG } from '../directory.tokens';

/**
 * Token bucket per requester → target account for bundle claims, so nobody can drain another
 * account's one-time keys. The bucket is named by a keyed hash of the pair (`rateLimitKey`), so
 * Redis never shows who fetched whose keys.
 */
@Injectable()
export class ClaimRateLimiter {
  private readonly bucket: TokenBucketScript;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    @Inject(MetadataPseudonyms) private readonly pseudonyms: MetadataPseudonyms,
  ) {
    // Fails closed: while Redis is down a stranger's attempts could not be counted (503, answered at once).
    this.bucket = new TokenBucketScript(redis, 'fail-closed');
  }

  /** Throws 429 with Retry-After when `requester` has claimed too often from `target`. */
  async admit(requester: string, target: string): Promise<void> {
    const key = rateLimitKey(this.prefix, this.pseudonyms, 'claim', requester, target);
    const verdict = await this.bucket.take(key, this.config.claimRateBurst, this.config.claimRatePerMinute);
    assertWithinRate(verdict);
  }
}
