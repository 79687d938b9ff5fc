import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import Redis from 'ioredis';
import { BUS_CLIENT } from '@sealpost/bus';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { REDIS, REDIS_PREFIX } from '@sealpost/redis';
import { DeviceRemovedEvent, DirectoryEvent, PrekeysLowEvent, deviceListGenerationKey } from '@sealpost/contracts';

const PUBLISH_TIMEOUT_MS = 2000;

/**
 * Announces device-list changes on the bus and waits until Redis has taken the publish, so the
 * relays drop their cached lists before the client that made the change gets its answer.
 * A failed publish is logged, never fails the change (the relays' caches also expire).
 */
@Injectable()
export class DeviceEventsPublisher {
  private readonly logger = new Logger(DeviceEventsPublisher.name);

  constructor(
    @Inject(BUS_CLIENT) private readonly bus: ClientProxy,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(MetadataPseudonyms) private readonly pseudonyms: MetadataPseudonyms,
  ) {}

  /**
   * Raises the address's device-list generation in Redis. Relays compare it with their cached
   * list on every send, so no send made after the change was answered can use the old list.
   */
  async deviceListChanged(address: string): Promise<void> {
    await this.redis
      .incr(deviceListGenerationKey(this.prefix, address, this.pseudonyms))
      .catch((error: Error) => this.logger.warn(`could not raise the device-list generation: ${error.message}`));
  }

  /** A removal also tells the relays, which close the device's socket and delete its queue. */
  async deviceRemoved(event: DeviceRemovedEvent): Promise<void> {
    await this.deviceListChanged(event.address);
    await this.publish(DirectoryEvent.DeviceRemoved, event);
  }

  /** A device's one-time keys are low (the relay holding its socket tells it). */
  async prekeysLow(event: PrekeysLowEvent): Promise<void> {
    await this.publish(DirectoryEvent.PrekeysLow, event);
  }

  private async publish(pattern: string, payload: unknown): Promise<void> {
    try {
      await lastValueFrom(this.bus.emit(pattern, payload).pipe(timeout(PUBLISH_TIMEOUT_MS)), { defaultValue: undefined });
    } catch (error) {
      this.logger.warn(`could not announce ${pattern}: ${(error as Error).message}`);
    }
  }
}
