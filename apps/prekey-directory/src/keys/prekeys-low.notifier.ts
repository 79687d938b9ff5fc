import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { PrekeysLowEvent } from '@sealpost/contracts';
import type { DirectoryConfig } from '@sealpost/config';
import { REDIS, REDIS_PREFIX } from '@sealpost/redis';
import { DeviceEventsPublisher } from '../devices/device-events.publisher';
import { DIRECTORY_CONFIG } from '../directory.tokens';

/** How long one notice per device holds before another may be sent while keys stay low. */
const NOTICE_QUIET_SECONDS = 600;

/**
 * Publishes `directory.prekeys-low` when a device's unused one-time keys fall under the
 * threshold, at most once per quiet period per device (a Redis SET NX marker), and re-arms
 * when the device uploads keys.
 */
@Injectable()
export class PrekeysLowNotifier {
  private readonly logger = new Logger(PrekeysLowNotifier.name);

  constructor(
    private readonly events: DeviceEventsPublisher,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  isLow(count: number, pqCount: number): boolean {
    return count < this.config.prekeyLowThreshold || pqCount < this.config.prekeyLowThreshold;
  }

  async notify(event: PrekeysLowEvent): Promise<void> {
    try {
      const first = await this.redis.set(this.markerKey(event.accountId, event.deviceId), '1', 'EX', NOTICE_QUIET_SECONDS, 'NX');
      if (first !== 'OK') return;
      await this.events.prekeysLow(event);
    } catch (error) {
      // A lost notice is re-sent on a later claim; it must never fail the claim itself.
      this.logger.warn(`prekeys-low notice not sent: ${(error as Error).message}`);
    }
  }

  async rearm(accountId: string, deviceId: number): Promise<void> {
    await this.redis.del(this.markerKey(accountId, deviceId)).catch(() => undefined);
  }

  private markerKey(accountId: string, deviceId: number): string {
    return `${this.prefix}prekeys-low:{${accountId}}:${deviceId}`;
  }
}
