import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { RelayConfig } from '@sealpost/config';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { assertWithinRate } from '@sealpost/http';
import { REDIS, REDIS_PREFIX, TokenBucketScript, rateLimitKey } from '@sealpost/redis';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

/**
 * Upgrades to `/v1/websocket/unidentified` per client address: a token bucket named by a keyed
 * hash (`rateLimitKey`), like the provisioning socket's. It fails closed while Redis is down (503):
 * anyone may ask for these sockets, and sealed sends cannot be budgeted without Redis anyway.
 */
@Injectable()
export class UnidentifiedUpgradeLimiter {
  private readonly bucket: TokenBucketScript;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    @Inject(MetadataPseudonyms) private readonly pseudonyms: MetadataPseudonyms,
    private readonly metrics: RelayMetrics,
  ) {
    this.bucket = new TokenBucketScript(redis, 'fail-closed');
  }

  /** Throws 429 `rate_limited` (or 503 `unavailable` while Redis is down) past the address's budget of upgrades. */
  async admit(clientAddress: string): Promise<void> {
    const { rateBurst, ratePerMinute } = this.config.unidentifiedSockets;
    const key = rateLimitKey(this.prefix, this.pseudonyms, 'unidentified-socket', clientAddress);
    const verdict = await this.bucket.take(key, rateBurst, ratePerMinute);
    if (!verdict.allowed) this.metrics.unidentifiedUpgrades.inc({ outcome: verdict.unavailable ? 'unavailable' : 'rate_limited' });
    assertWithinRate(verdict);
  }
}
