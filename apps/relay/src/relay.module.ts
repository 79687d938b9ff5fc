import { DynamicModule, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { BusModule } from '@sealpost/bus';
import type { RelayConfig } from '@sealpost/config';
import { CryptoModule, ServerSecretModule } from '@sealpost/crypto';
import { DatabaseModule } from '@sealpost/db';
import { HealthController, MetricsController, ServiceMetrics, healthOptionsProvider } from '@sealpost/http';
import { REDIS, REDIS_PREFIX, RedisModule } from '@sealpost/redis';
import { AckBatcher } from './delivery/ack-batcher.service';
import { ConnectionRegistry } from './delivery/connection-registry.service';
import { DeliveryNotifier } from './delivery/delivery-notifier.service';
import { WebSocketGateway } from './delivery/websocket.gateway';
import { DirectoryClient } from './directory-client/directory-client.service';
import { DirectoryReadinessCheck } from './directory-client/directory-readiness.check';
import { OptionalDeviceAuthGuard } from './directory-client/relay-auth.guard';
import { RelayEventsController } from './directory-client/relay-events.controller';
import { EnvelopeExpiryProcessor } from './expiry/envelope-expiry.processor';
import { EnvelopePersister } from './mailbox/envelope-persister.service';
import { IdempotencyKeysRepository } from './mailbox/idempotency-keys.repository';
import { MessageIntake } from './mailbox/message-intake.service';
import { MessagesController } from './mailbox/messages.controller';
import { RelayBusController } from './mailbox/relay-bus.controller';
import { DestinationVerdicts } from './federation-client/destination-verdicts.service';
import { FederationClient } from './federation-client/federation-client.service';
import { MessagesStore } from './mailbox/messages-store.repository';
import { QueueDepthCache } from './mailbox/queue-depth.cache';
import { SendRateLimiter } from './mailbox/send-rate-limiter.service';
import { RemoteSendAdmission } from './mailbox/remote-send-admission.service';
import { SocketSends } from './socket-sends/socket-sends.service';
import { UnidentifiedSocketGateway } from './socket-sends/unidentified-socket.gateway';
import { UnidentifiedSockets } from './socket-sends/unidentified-sockets.service';
import { UnidentifiedUpgradeLimiter } from './socket-sends/unidentified-upgrade-limiter.service';
import { RELAY_MIGRATIONS } from './migrations';
import { ProvisioningController } from './provisioning/provisioning.controller';
import { ProvisioningDelivery } from './provisioning/provisioning-delivery.service';
import { ProvisioningGateway } from './provisioning/provisioning.gateway';
import { ProvisioningRateLimiter } from './provisioning/provisioning-rate-limiter.service';
import { ProvisioningRoutes } from './provisioning/provisioning-routes.scripts';
import { ProvisioningSockets } from './provisioning/provisioning-sockets.service';
import { RelayMetrics } from './relay.metrics';
import { RELAY_CONFIG, RELAY_INSTANCE_ID } from './relay.tokens';

/** The message-queue relay: durable per-device queues of sealed envelopes, pushed over WebSocket. */
@Module({})
export class RelayModule {
  static forConfig(config: RelayConfig): DynamicModule {
    return {
      module: RelayModule,
      imports: [
        CryptoModule,
        // The server secret (KEYS_DIR): rate-limit buckets and device-list generations are named by keyed hashes of it.
        ServerSecretModule.forService({ keysDir: config.keysDir }),
        DatabaseModule.forService({
          databaseUrl: config.databaseUrl,
          poolSize: config.dbPoolSize,
          timeouts: config.dbTimeouts,
          applicationName: 'sealpost-relay',
          migrations: RELAY_MIGRATIONS,
        }),
        RedisModule.forService({ redisUrl: config.redisUrl, prefix: config.redisPrefix, connectionName: 'sealpost-relay' }),
        BusModule.forService({ redisUrl: config.redisUrl, namespace: config.redisPrefix }),
      ],
      controllers: [
        MessagesController,
        ProvisioningController,
        HealthController,
        MetricsController,
        RelayEventsController,
        RelayBusController,
      ],
      providers: [
        { provide: RELAY_CONFIG, useValue: config },
        { provide: RELAY_INSTANCE_ID, useValue: randomUUID() },
        DirectoryClient,
        DirectoryReadinessCheck,
        healthOptionsProvider(config.healthCheckTimeoutMs, [DirectoryReadinessCheck]),
        OptionalDeviceAuthGuard,
        FederationClient,
        DestinationVerdicts,
        MessagesStore,
        QueueDepthCache,
        IdempotencyKeysRepository,
        EnvelopePersister,
        SendRateLimiter,
        MessageIntake,
        RemoteSendAdmission,
        SocketSends,
        UnidentifiedUpgradeLimiter,
        UnidentifiedSockets,
        UnidentifiedSocketGateway,
        AckBatcher,
        ConnectionRegistry,
        DeliveryNotifier,
        WebSocketGateway,
        EnvelopeExpiryProcessor,
        {
          provide: ProvisioningRoutes,
          useFactory: (redis: Redis, prefix: string) => new ProvisioningRoutes(redis, prefix),
          inject: [REDIS, REDIS_PREFIX],
        },
        ProvisioningRateLimiter,
        ProvisioningSockets,
        ProvisioningDelivery,
        ProvisioningGateway,
        ServiceMetrics,
        RelayMetrics,
      ],
    };
  }
}
