import { Pool } from 'pg';
import { ensureDatabase, migrateUp } from '../../libs/db/src';
import { DIRECTORY_MIGRATIONS } from '../../apps/prekey-directory/src/migrations';
import { RELAY_MIGRATIONS } from '../../apps/relay/src/migrations';

/** Runs once before the integration specs: a fresh test database with every service's migrations. */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sealpost_test';
  await ensureDatabase(url);
  const pool = new Pool({ connectionString: url });
  try {
    for (const set of [DIRECTORY_MIGRATIONS, RELAY_MIGRATIONS]) {
      await pool.query(`DROP SCHEMA IF EXISTS ${set.schema} CASCADE`);
      await migrateUp(pool, set);
    }
  } finally {
    await pool.end();
  }
}
