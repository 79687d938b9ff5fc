import { DynamicModule, Module } from '@nestjs/common';
import { BusModule } from '@sealpost/bus';
import type { GatewayConfig } from '@sealpost/config';
import { CryptoModule } from '@sealpost/crypto';
import { DatabaseModule } from '@sealpost/db';
import { HealthController, MetricsController, ServiceMetrics, healthOptionsProvider } from '@sealpost/http';
import { GatewayMetrics } from './gateway.metrics';
import { RedisModule } from '@sealpost/redis';
import { AdminTokenGuard } from './admin/admin-token.guard';
import { FederationAdminController } from './admin/federation-admin.controller';
import { FederationStatus } from './admin/federation-status.service';
import { DiscoveryController } from './discovery/discovery.controller';
import { GATEWAY_CONFIG } from './gateway.tokens';
import { FederationKtController } from './kt-gossip/federation-kt.controller';
import { KtGossip } from './kt-gossip/kt-gossip.service';
import { KtObservationsRepository } from './kt-gossip/kt-observations.repository';
import { FederationAdmission } from './inbound/federation-admission.service';
import { FederationAuthGuard } from './inbound/federation-auth.guard';
import { FederationKeysController } from './inbound/federation-keys.controller';
import { FederationMessagesController } from './inbound/federation-messages.controller';
import { GATEWAY_MIGRATIONS } from './migrations';
import { DestinationsRepository } from './outbound/destinations.repository';
import { FederationBusController } from './outbound/federation-bus.controller';
import { DestinationVetting } from './outbound/destination-vetting.service';
import { OutboundDelivery } from './outbound/outbound-delivery.service';
import { OutboxBacklogRepository } from './outbound/outbox-backlog.repository';
import { OutboxScheduler } from './outbound/outbox-scheduler.service';
import { OutboxRepository } from './outbound/outbox.repository';
import { SenderNotices } from './outbound/sender-notices.service';
import { FederationHttpClient } from './peers/federation-http.client';
import { PeerHttp } from './peers/peer-http';
import { PeerKeysRepository } from './peers/peer-keys.repository';
import { PeerKeysService } from './peers/peer-keys.service';
import { PeerResolver } from './peers/peer-resolver.service';
import { ProvenPeersRepository } from './peers/proven-peers.repository';
import { ProvenPeers } from './peers/proven-peers.service';
import { ServerKeysController } from './server-keys/server-keys.controller';
import { ServerKeysRepository } from './server-keys/server-keys.repository';
import { ServerKeysService } from './server-keys/server-keys.service';

/** The federation gateway: discovery, server keys, signed server-to-server calls in and out, the outbox. */
@Module({})
export class FederationGatewayModule {
  static forConfig(config: GatewayConfig): DynamicModule {
    return {
      module: FederationGatewayModule,
      imports: [
        CryptoModule,
        DatabaseModule.forService({
          databaseUrl: config.databaseUrl,
          poolSize: config.dbPoolSize,
          timeouts: config.dbTimeouts,
          applicationName: 'sealpost-gateway',
          migrations: GATEWAY_MIGRATIONS,
        }),
        RedisModule.forService({ redisUrl: config.redisUrl, prefix: config.redisPrefix, connectionName: 'sealpost-gateway' }),
        BusModule.forService({ redisUrl: config.redisUrl, namespace: config.redisPrefix }),
      ],
      controllers: [
        DiscoveryController,
        HealthController,
        MetricsController,
        ServerKeysController,
        FederationKeysController,
        FederationMessagesController,
        FederationBusController,
        FederationAdminController,
        FederationKtController,
      ],
      providers: [
        healthOptionsProvider(config.healthCheckTimeoutMs),
        { provide: GATEWAY_CONFIG, useValue: config },
        ServerKeysRepository,
        ServerKeysService,
        PeerHttp,
        PeerResolver,
        PeerKeysRepository,
        ProvenPeersRepository,
        ProvenPeers,
        PeerKeysService,
        FederationHttpClient,
        FederationAdmission,
        FederationAuthGuard,
        OutboxRepository,
        DestinationsRepository,
        OutboxScheduler,
        SenderNotices,
        DestinationVetting,
        OutboundDelivery,
        OutboxBacklogRepository,
        FederationStatus,
        AdminTokenGuard,
        KtObservationsRepository,
        KtGossip,
        ServiceMetrics,
        GatewayMetrics,
      ],
    };
  }
}
