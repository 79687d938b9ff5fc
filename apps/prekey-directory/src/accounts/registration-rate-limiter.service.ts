import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { DirectoryConfig } from '@sealpost/config';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { assertWithinRate } from '@sealpost/http';
import { REDIS, REDIS_PREFIX, TokenBucketScript, rateLimitKey } from '@sealpost/redis';
import { DIRECTORY_CONFIG } from '../directory.tokens';

/**
 * Token bucket per client address for registration attempts — refused ones count too, so nobody
 * can mass-create accounts under open registration or guess registration tokens. The address is
 * kept in Redis only as a keyed hash (server secret, `rateLimitKey`): an unkeyed hash of an IPv4
 * address is reversed by trying all 2^32 of them. Behind a reverse proxy, set TRUST_PROXY
 * so the client's address (not the proxy's) is the one counted.
 */
@Injectable()
export class RegistrationRateLimiter {
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

  async admit(clientAddress: string): Promise<void> {
    const key = rateLimitKey(this.prefix, this.pseudonyms, 'register', clientAddress);
    const verdict = await this.bucket.take(key, this.config.registrationRateBurst, this.config.registrationRatePerHour / 60);
    assertWithinRate(verdict);
  }
}
