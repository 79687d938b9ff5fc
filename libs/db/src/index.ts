export {
  createPool,
  ensureDatabase,
  postgresUnreachableReason,
  isPgError,
  PG_UNIQUE_VIOLATION,
  PG_FOREIGN_KEY_VIOLATION,
  UNBOUNDED_STATEMENTS,
} from './database';
export { isDatabaseUnavailable, unavailabilityReason } from './database-unavailable';
export { PostgresAvailability } from './postgres-availability';
export type { AvailabilityObserver } from './postgres-availability';
export { migrateUp, migrateDownOne } from './migration-runner';
export type { Migration, MigrationSet } from './migration-runner';
export { withTransaction, queryOne, queryNamed, namedStatement } from './queryable';
export type { Queryable, NamedStatement } from './queryable';
export { DatabaseModule, PG_POOL } from './database.module';
export type { DatabaseModuleOptions } from './database.module';
export { GroupCommitBatcher } from './group-commit.batcher';
export type { GroupCommitOptions } from './group-commit.batcher';
