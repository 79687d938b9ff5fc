import type { MigrationSet } from '@sealpost/db';
import { envelopeQueues } from './20261129160000-envelope-queues';

/** The relay owns the `relay` schema; no other service reads it. */
export const RELAY_MIGRATIONS: MigrationSet = { schema: 'relay', migrations: [envelopeQueues] };
