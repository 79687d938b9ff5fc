import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { CustomStrategy } from '@nestjs/microservices';
import { NamespacedClientRedis, NamespacedServerRedis, transportOptionsFromUrl } from './namespaced-redis.transport';

/** A ClientProxy on the Redis transport for calling and notifying the other services of this homeserver. */
export const BUS_CLIENT = Symbol('BUS_CLIENT');

export interface BusOptions {
  redisUrl: string;
  /** Per-homeserver channel namespace, e.g. the Redis key prefix `sp:alpha.example:`. */
  namespace: string;
}

/** For `app.connectMicroservice(...)`: answer @MessagePattern / @EventPattern of this homeserver's bus. */
export function busServerStrategy(options: BusOptions): CustomStrategy {
  return { strategy: new NamespacedServerRedis(`${options.namespace}bus:`, transportOptionsFromUrl(options.redisUrl)) };
}

export function createBusClient(options: BusOptions): NamespacedClientRedis {
  return new NamespacedClientRedis(`${options.namespace}bus:`, transportOptionsFromUrl(options.redisUrl));
}

@Injectable()
class BusClientCloser implements OnApplicationShutdown {
  constructor(@Inject(BUS_CLIENT) private readonly client: ClientProxy) {}
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

@Global()
@Module({})
export class BusModule {
  static forService(options: BusOptions): DynamicModule {
    return {
      module: BusModule,
      providers: [{ provide: BUS_CLIENT, useFactory: () => createBusClient(options) }, BusClientCloser],
      exports: [BUS_CLIENT],
    };
  }
}
