import { rmSync } from 'node:fs';
import { Pool } from 'pg';
import { TEST_KEYS_ROOT, federationTestDatabaseUrl } from '../support/test-keys';
import { ensureDatabase, migrateUp } from '../../libs/db/src';
import { DIRECTORY_MIGRATIONS } from '../../apps/prekey-directory/src/migrations';
import { RELAY_MIGRATIONS } from '../../apps/relay/src/migrations';
import { GATEWAY_MIGRATIONS } from '../../apps/federation-gateway/src/migrations';

/** Databases of the homeservers that federation specs start (test/support/federation-harness.ts). */
const FEDERATION_TEST_SERVERS = ['alpha.test', 'beta.test', 'gamma.test'];

/** Runs once before the integration specs: a fresh test database with every service's migrations. */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sealpost_test';
  const urls = [url, ...FEDERATION_TEST_SERVERS.map((s) => federationTestDatabaseUrl(url, s))];
  // One signing-key folder per test server for the whole run: peers pin keys across spec files.
  rmSync(TEST_KEYS_ROOT, { recursive: true, force: true });
  for (const databaseUrl of urls) {
    await ensureDatabase(databaseUrl);
    const pool = new Pool({ connectionString: databaseUrl });
    try {
      for (const set of [DIRECTORY_MIGRATIONS, RELAY_MIGRATIONS, GATEWAY_MIGRATIONS]) {
        await pool.query(`DROP SCHEMA IF EXISTS ${set.schema} CASCADE`);
        await migrateUp(pool, set);
      }
    } finally {
      await pool.end();
    }
  }
}
