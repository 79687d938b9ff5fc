import type { MigrationSet } from '@sealpost/db';
import { federationSchema } from './20261129170000-federation';

/** The gateway owns the `federation` schema; no other service reads it. */
export const GATEWAY_MIGRATIONS: MigrationSet = { schema: 'federation', migrations: [federationSchema] };
