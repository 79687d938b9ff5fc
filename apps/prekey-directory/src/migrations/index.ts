import type { MigrationSet } from '@sealpost/db';
import { initialSchema } from './20261129150000-initial-schema';
import { keyTransparencyLog } from './20261129180000-key-transparency-log';
import { deviceLastSeen } from './20261129190000-device-last-seen';
import { sealedAccessKeys } from './20261202090000-sealed-access-keys';

/**
 * The prekey directory owns the `directory` schema; no other service reads it. Some migrations
 * seal stored secrets with the server secret, so the set is built for one KEYS_DIR (the services').
 */
export function directoryMigrations(keysDir: string): MigrationSet {
  return {
    schema: 'directory',
    migrations: [initialSchema, keyTransparencyLog, deviceLastSeen, sealedAccessKeys(keysDir)],
  };
}
