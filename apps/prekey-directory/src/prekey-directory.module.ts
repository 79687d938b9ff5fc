import { DynamicModule, Module } from '@nestjs/common';
import { BusModule } from '@sealpost/bus';
import type { DirectoryConfig } from '@sealpost/config';
import { CryptoModule, ServerSecretModule } from '@sealpost/crypto';
import { DatabaseModule } from '@sealpost/db';
import { HealthController, MetricsController, ServiceMetrics, healthOptionsProvider } from '@sealpost/http';
import { DirectoryMetrics } from './directory.metrics';
import { RedisModule } from '@sealpost/redis';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsRepository } from './accounts/accounts.repository';
import { AccountsService } from './accounts/accounts.service';
import { IdentityKeyChangeService } from './accounts/identity-key-change.service';
import { AccountDeletionService } from './accounts/account-deletion.service';
import { RegistrationRateLimiter } from './accounts/registration-rate-limiter.service';
import { UnidentifiedAccessKeyVault } from './accounts/unidentified-access-key.vault';
import { DeviceLastSeenRecorder } from './devices/device-last-seen.recorder';
import { RegistrationTokensRepository } from './accounts/registration-tokens.repository';
import { DirectoryBusController } from './bus/directory-bus.controller';
import { DevicesController } from './devices/devices.controller';
import { DevicesRepository } from './devices/devices.repository';
import { DevicesService } from './devices/devices.service';
import { DeviceEventsPublisher } from './devices/device-events.publisher';
import { LinkCodesRepository } from './devices/link-codes.repository';
import { DIRECTORY_CONFIG } from './directory.tokens';

import { ClaimRateLimiter } from './keys/claim-rate-limiter.service';
import { KeysController } from './keys/keys.controller';
import { KeysManager } from './keys/keys-manager.service';
import { PrekeysLowNotifier } from './keys/prekeys-low.notifier';
import { RepeatedUseSignedPreKeyStore } from './keys/repeated-use-signed-prekey-store.repository';
import { SingleUsePreKeyStore } from './keys/single-use-prekey-store.repository';
import { directoryMigrations } from './migrations';
import { RemoteBundlesClient } from './federation/remote-bundles.client';
import { CertificateController } from './sealed-sender/certificate.controller';
import { SealedSenderKeys } from './sealed-sender/sealed-sender-keys.service';
import { KtController } from './transparency/kt.controller';
import { KtHeadSigner } from './transparency/kt-head-signer.service';
import { KtHeadsRepository } from './transparency/kt-heads.repository';
import { KtLogRepository } from './transparency/kt-log.repository';
import { KtSigningKey } from './transparency/kt-signing-key.service';
import { TransparencyLog } from './transparency/transparency-log.service';

@Module({})
export class PrekeyDirectoryModule {
  static forConfig(config: DirectoryConfig): DynamicModule {
    return {
      module: PrekeyDirectoryModule,
      imports: [
        CryptoModule,
        ServerSecretModule.forService({ keysDir: config.keysDir }),
        DatabaseModule.forService({
          databaseUrl: config.databaseUrl,
          poolSize: config.dbPoolSize,
          timeouts: config.dbTimeouts,
          applicationName: 'sealpost-directory',
          migrations: directoryMigrations(config.keysDir),
        }),
        RedisModule.forService({ redisUrl: config.redisUrl, prefix: config.redisPrefix, connectionName: 'sealpost-directory' }),
        BusModule.forService({ redisUrl: config.redisUrl, namespace: config.redisPrefix }),
      ],
      controllers: [
        AccountsController,
        DevicesController,
        KeysController,
        CertificateController,
        KtController,
        HealthController,
        MetricsController,
        DirectoryBusController,
      ],
      providers: [
        healthOptionsProvider(config.healthCheckTimeoutMs),
        { provide: DIRECTORY_CONFIG, useValue: config },
        AccountsRepository,
        RegistrationTokensRepository,
        UnidentifiedAccessKeyVault,
        AccountsService,
        IdentityKeyChangeService,
        AccountDeletionService,
        RegistrationRateLimiter,
        DeviceLastSeenRecorder,
        ServiceMetrics,
        DirectoryMetrics,
        DevicesRepository,
        LinkCodesRepository,
        DevicesService,
        DeviceEventsPublisher,
        RepeatedUseSignedPreKeyStore,
        SingleUsePreKeyStore,
        ClaimRateLimiter,
        PrekeysLowNotifier,
        KeysManager,
        RemoteBundlesClient,
        SealedSenderKeys,
        KtLogRepository,
        KtHeadsRepository,
        KtSigningKey,
        TransparencyLog,
        KtHeadSigner,
      ],
    };
  }
}
