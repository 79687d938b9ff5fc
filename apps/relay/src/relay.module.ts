import { DynamicModule, Module } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { DatabaseModule } from '@sealpost/db';
import { HealthController } from '@sealpost/http';
import { RedisModule } from '@sealpost/redis';
import { RELAY_MIGRATIONS } from './migrations';

/** The message-queue relay. For now it boots and reports health; envelope intake and delivery follow. */
@Module({})
export class RelayModule {
  static forConfig(config: RelayConfig): DynamicModule {
    return {
      module: RelayModule,
      imports: [
        DatabaseModule.forService({ databaseUrl: config.databaseUrl, poolSize: 10, applicationName: 'sealpost-relay', migrations: RELAY_MIGRATIONS }),
        RedisModule.forService({ redisUrl: config.redisUrl, prefix: config.redisPrefix, connectionName: 'sealpost-relay' }),
      ],
      controllers: [HealthController],
    };
  }
}
