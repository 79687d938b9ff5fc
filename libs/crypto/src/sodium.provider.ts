import type { FactoryProvider } from '@nestjs/common';
import sodium from 'libsodium-wrappers';
import { initCrypto } from './sodium-init.util';

/** Injection token for the initialised libsodium instance. */
export const SODIUM = Symbol('SODIUM');

/**
 * Async provider that resolves only after `sodium.ready`. Because Nest awaits async factories
 * before the application context finishes initialising, every synchronous helper of
 * `@sealpost/crypto` is safe to call from any provider, controller or lifecycle hook.
 */
export const SODIUM_PROVIDER: FactoryProvider<typeof sodium> = {
  provide: SODIUM,
  useFactory: async (): Promise<typeof sodium> => {
    await initCrypto();
    return sodium;
  },
};
