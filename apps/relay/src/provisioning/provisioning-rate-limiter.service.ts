import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { AuthenticatedDevice } from '@sealpost/contracts';
import type { RelayConfig } from '@sealpost/config';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { assertWithinRate } from '@sealpost/http';
import { REDIS, REDIS_PREFIX, TokenBucketScript, rateLimitKey } from '@sealpost/redis';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

/**
 * Token buckets of provisioning, named by keyed hashes (`rateLimitKey`): provisioning socket
 * upgrades per client address (anyone may open one) and provisioning PUTs per device (so no
 * account can spray guessed addresses). Both fail closed while Redis is down (503): a message
 * for a socket on another replica cannot be routed without Redis anyway.
 */
@Injectable()
export class ProvisioningRateLimiter {
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
  async admitSocket(clientAddress: string): Promise<void> {
    const { socketRateBurst, socketRatePerMinute } = this.config.provisioning;
    const verdict = await this.bucket.take(
      rateLimitKey(this.prefix, this.pseudonyms, 'provisioning-socket', clientAddress),
      socketRateBurst,
      socketRatePerMinute,
    );
    if (!verdict.allowed) this.metrics.provisioningUpgrades.inc({ outcome: verdict.unavailable ? 'unavailable' : 'rate_limited' });
    assertWithinRate(verdict);
  }

  /** Throws 429 `rate_limited` (or 503 `unavailable` while Redis is down) past the device's budget of PUTs. */
  async admitPut(device: AuthenticatedDevice): Promise<void> {
    const { putRateBurst, putRatePerMinute } = this.config.provisioning;
    const verdict = await this.bucket.take(
      rateLimitKey(this.prefix, this.pseudonyms, 'provisioning-put', device.accountId, device.deviceId),
      putRateBurst,
      putRatePerMinute,
    );
    if (!verdict.allowed && !verdict.unavailable) this.metrics.provisioningMessages.inc({ outcome: 'rate_limited' });
    assertWithinRate(verdict);
  }
}
