import type { MigrationSet } from '@sealpost/db';

/** The gateway owns the `federation` schema (server keys and the outbox arrive with the federation issue). */
export const GATEWAY_MIGRATIONS: MigrationSet = { schema: 'federation', migrations: [] };
