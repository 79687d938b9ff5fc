import { tmpdir } from 'node:os';
import { join } from 'node:path';

const testDatabaseName = (process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sealpost_test').replace(/^.*\//, '');

/** Where test homeservers keep their signing keys during one test run (emptied by the global setup). */
export const TEST_KEYS_ROOT = join(tmpdir(), `sealpost-test-keys-${testDatabaseName}`);

/** The database of one federation test homeserver: the test database's name + the server name. */
export function federationTestDatabaseUrl(testDatabaseUrl: string, server: string): string {
  return testDatabaseUrl.replace(/\/([^/]*)$/, (_m, name: string) => `/${name}_${server.replace(/[^a-z0-9]/g, '_')}`);
}
