import type { MigrationSet } from '@sealpost/db';
import { federationSchema } from './20261129170000-federation';
import { ktGossip } from './20261129181000-kt-gossip';
import { outboxBacklog } from './20261201120000-outbox-backlog';
import { provenPeers } from './20261202120000-proven-peers';

/** The gateway owns the `federation` schema; no other service reads it. */
export const GATEWAY_MIGRATIONS: MigrationSet = {
  schema: 'federation',
  migrations: [federationSchema, ktGossip, outboxBacklog, provenPeers],
};
