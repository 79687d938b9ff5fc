import { rmSync } from 'node:fs';
import { TEST_KEYS_ROOT } from '../support/test-keys';
import { freshDatabase, freshFederationServers } from '../support/federation-databases';

/** Homeservers that federation specs start (test/support/federation-harness.ts). */
const FEDERATION_TEST_SERVERS = ['alpha.test', 'beta.test', 'gamma.test', 'delta.test', 'epsilon.test'];

/** Runs once before the integration specs: fresh test databases with every service's migrations. */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sealpost_test';
  // One signing-key folder per test server for the whole run: peers pin keys across spec files.
  rmSync(TEST_KEYS_ROOT, { recursive: true, force: true });
  await freshDatabase(url);
  await freshFederationServers(FEDERATION_TEST_SERVERS);
}
