import type { MigrationSet } from '@sealpost/db';

/** The relay owns the `relay` schema (envelope queues arrive with the relay issue). */
export const RELAY_MIGRATIONS: MigrationSet = { schema: 'relay', migrations: [] };
