import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { ensureDatabase, migrateUp } from '../../libs/db/src';
import { directoryMigrations } from '../../apps/prekey-directory/src/migrations';
import { RELAY_MIGRATIONS } from '../../apps/relay/src/migrations';
import { GATEWAY_MIGRATIONS } from '../../apps/federation-gateway/src/migrations';
import { TEST_KEYS_ROOT, federationTestDatabaseUrl } from './test-keys';

/** Creates the database if needed, then drops and re-applies every service's schema. */
export async function freshDatabase(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  const pool = new Pool({ connectionString: databaseUrl });
  try {
    // Fresh schemas hold no access key to seal, so the directory's set never reads this KEYS_DIR here.
    for (const set of [directoryMigrations(join(TEST_KEYS_ROOT, 'unused')), RELAY_MIGRATIONS, GATEWAY_MIGRATIONS]) {
      await pool.query(`DROP SCHEMA IF EXISTS ${set.schema} CASCADE`);
      await migrateUp(pool, set);
    }
  } finally {
    await pool.end();
  }
}

/**
 * Fresh databases and empty key folders for test homeservers (named as federation-harness.ts
 * names them). The global setup prepares the shared ones; a spec whose servers no other spec
 * uses may call this to start from nothing.
 */
export async function freshFederationServers(servers: string[]): Promise<void> {
  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sealpost_test';
  for (const server of servers) {
    await freshDatabase(federationTestDatabaseUrl(base, server));
    rmSync(join(TEST_KEYS_ROOT, server), { recursive: true, force: true });
  }
}
