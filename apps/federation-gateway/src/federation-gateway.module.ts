import { DynamicModule, Module } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { DatabaseModule } from '@sealpost/db';
import { HealthController } from '@sealpost/http';
import { RedisModule } from '@sealpost/redis';
import { DiscoveryController } from './discovery/discovery.controller';
import { GATEWAY_CONFIG } from './gateway.tokens';
import { GATEWAY_MIGRATIONS } from './migrations';

/** The federation gateway. For now: discovery and health; signed server-to-server calls follow. */
@Module({})
export class FederationGatewayModule {
  static forConfig(config: GatewayConfig): DynamicModule {
    return {
      module: FederationGatewayModule,
      imports: [
        DatabaseModule.forService({ databaseUrl: config.databaseUrl, poolSize: 10, applicationName: 'sealpost-gateway', migrations: GATEWAY_MIGRATIONS }),
        RedisModule.forService({ redisUrl: config.redisUrl, prefix: config.redisPrefix, connectionName: 'sealpost-gateway' }),
      ],
      controllers: [DiscoveryController, HealthController],
      providers: [{ provide: GATEWAY_CONFIG, useValue: config }],
    };
  }
}
