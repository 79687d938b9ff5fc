import type { MigrationSet } from '@sealpost/db';
import { initialSchema } from './20261129150000-initial-schema';
import { keyTransparencyLog } from './20261129180000-key-transparency-log';
import { deviceLastSeen } from './20261129190000-device-last-seen';

/** The prekey directory owns the `directory` schema; no other service reads it. */
export const DIRECTORY_MIGRATIONS: MigrationSet = {
  schema: 'directory',
  migrations: [initialSchema, keyTransparencyLog, deviceLastSeen],
};
