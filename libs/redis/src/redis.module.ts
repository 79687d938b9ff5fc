import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { redisOptionsFromUrl } from './redis-url';

/** The service's command connection to Redis (Lua atomics, caches, presence). */
export const REDIS = Symbol('REDIS');
/** Prefix for every key this homeserver writes, e.g. `sp:alpha.example:`. */
export const REDIS_PREFIX = Symbol('REDIS_PREFIX');

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({})
export class RedisModule {
  static forService(options: { redisUrl: string; prefix: string; connectionName: string }): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        {
          provide: REDIS,
          useFactory: async () => {
            const redis = new Redis({
              ...redisOptionsFromUrl(options.redisUrl),
              connectionName: options.connectionName,
              maxRetriesPerRequest: 3,
              enableOfflineQueue: true,
              // Commands issued in the same tick share one round trip (rate-limit buckets, presence).
              enableAutoPipelining: true,
              lazyConnect: true,
            });
            redis.on('error', () => undefined);
            await redis.connect();
            return redis;
          },
        },
        { provide: REDIS_PREFIX, useValue: options.prefix },
        RedisCloser,
      ],
      exports: [REDIS, REDIS_PREFIX],
    };
  }
}
