import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { BUS_CLIENT } from '@sealpost/bus';
import type { RelayConfig } from '@sealpost/config';
import Redis from 'ioredis';
import { AuthenticatedDevice, DeviceListReply, DirectoryPattern, deviceListGenerationKey } from '@sealpost/contracts';
import { MetadataPseudonyms } from '@sealpost/crypto';
import { REDIS, REDIS_PREFIX } from '@sealpost/redis';
import { ApiError } from '@sealpost/http';
import { RELAY_CONFIG } from '../relay.tokens';
import { ExpiringCache } from './expiring-cache';

const BUS_TIMEOUT_MS = 5000;
const CACHE_ENTRIES = 100_000;

/**
 * What the relay asks the prekey directory over the bus: who a token belongs to, and an
 * address's current devices. Both are cached briefly: a device list only while the address's
 * device-list generation in Redis is unchanged, a token until its device is removed
 * (RelayEventsController).
 */
@Injectable()
export class DirectoryClient implements OnApplicationBootstrap {
  private readonly devices: ExpiringCache<string, { reply: DeviceListReply | null; generation: string }>;
  private readonly tokens: ExpiringCache<string, AuthenticatedDevice>;

  constructor(
    @Inject(BUS_CLIENT) private readonly bus: ClientProxy,
    @Inject(RELAY_CONFIG) config: RelayConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(MetadataPseudonyms) private readonly pseudonyms: MetadataPseudonyms,
  ) {
    this.devices = new ExpiringCache(config.directoryCacheTtlSeconds * 1000, CACHE_ENTRIES);
    this.tokens = new ExpiringCache(config.directoryCacheTtlSeconds * 1000, CACHE_ENTRIES);
  }

  /**
   * Connects the bus client before the relay listens: Nest's client otherwise connects on the
   * first call, so a cold relay's first sends paid for it (and /healthz could not show it).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.bus.connect();
  }

  /** One bus round trip to the directory (the relay's readiness); rejects when it does not answer within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<void> {
    await firstValueFrom(this.bus.send<{ ok: true }>(DirectoryPattern.Ping, {}).pipe(timeout(timeoutMs)));
  }

  /** The device whose bearer token has this SHA-256 (base64), or null. Unknown tokens are never cached. */
  async authenticate(tokenHash: string): Promise<AuthenticatedDevice | null> {
    const cached = this.tokens.get(tokenHash);
    if (cached) return cached;
    const device = await this.ask<AuthenticatedDevice | null>(DirectoryPattern.Authenticate, { tokenHash });
    if (device) this.tokens.set(tokenHash, device);
    return device;
  }

  /**
   * The address's devices; `fresh` skips the cache (used before answering 409/410). A cached list
   * is used only while the address's generation in Redis is the one it was read at, so a send
   * made after the directory answered a link or removal never sees the old list.
   */
  async deviceList(address: string, fresh = false): Promise<DeviceListReply | null> {
    const generation = await this.redis.get(deviceListGenerationKey(this.prefix, address, this.pseudonyms)).then(
      (g) => g ?? '0',
      () => null,
    );
    if (!fresh && generation !== null) {
      const cached = this.devices.get(address);
      if (cached !== undefined && cached.generation === generation) return cached.reply;
    }
    const reply = await this.ask<DeviceListReply | null>(DirectoryPattern.DeviceList, { address });
    // Stored under the generation read *before* asking: a change during the call makes it stale.
    if (generation !== null) this.devices.set(address, { reply, generation });
    return reply;
  }

  forgetDevice(accountId: string, deviceId: number): void {
    this.tokens.deleteWhere((d) => d.accountId === accountId && d.deviceId === deviceId);
  }

  private async ask<T>(pattern: string, payload: unknown): Promise<T> {
    try {
      return await firstValueFrom(this.bus.send<T>(pattern, payload).pipe(timeout(BUS_TIMEOUT_MS)));
    } catch {
      throw new ApiError(503, 'directory_unavailable', 'the prekey directory did not answer; retry later', {}, { 'retry-after': '1' });
    }
  }
}
