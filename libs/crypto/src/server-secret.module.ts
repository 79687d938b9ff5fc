import { DynamicModule, Module } from '@nestjs/common';
import { MetadataPseudonyms } from './metadata-pseudonyms';
import { ServerSecret } from './server-secret';

/**
 * Provides the server secret of a service's KEYS_DIR (loaded, or created, once at start) and the
 * `MetadataPseudonyms` that name Redis keys by it. Inject `ServerSecret` to derive other keys.
 */
@Module({})
export class ServerSecretModule {
  static forService(options: { keysDir: string }): DynamicModule {
    return {
      module: ServerSecretModule,
      providers: [
        { provide: ServerSecret, useFactory: () => ServerSecret.loadOrCreate(options.keysDir) },
        { provide: MetadataPseudonyms, useFactory: (secret: ServerSecret) => new MetadataPseudonyms(secret), inject: [ServerSecret] },
      ],
      exports: [ServerSecret, MetadataPseudonyms],
    };
  }
}
