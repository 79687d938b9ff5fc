import { Global, Module } from '@nestjs/common';
import { SODIUM, SODIUM_PROVIDER } from './sodium.provider';

/**
 * Global module whose async provider awaits `sodium.ready`, so once the application context has
 * initialised every synchronous verifier and token helper in `@sealpost/crypto` is safe to call.
 * Inject `SODIUM` to get the ready libsodium instance itself.
 */
@Global()
@Module({
  providers: [SODIUM_PROVIDER],
  exports: [SODIUM],
})
export class CryptoModule {}
