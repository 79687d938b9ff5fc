import { ConfigError } from '@sealpost/config';
import { EXIT_UNAVAILABLE, cliContext } from './cli-context';
import { MigrationSet, createPool, ensureDatabase, migrateDownOne, migrateUp } from '@sealpost/db';
import { directoryMigrations } from '../apps/prekey-directory/src/migrations';
import { RELAY_MIGRATIONS } from '../apps/relay/src/migrations';
import { GATEWAY_MIGRATIONS } from '../apps/federation-gateway/src/migrations';

/** `npm run migrate [-- up]` applies every service's pending migrations; `-- down SERVICE` reverts its last one. */
async function main(): Promise<number> {
  const context = await cliContext(process.argv.slice(2));
  if (!context) return EXIT_UNAVAILABLE;
  const { config, args } = context;
  const SETS: Record<string, MigrationSet> = {
    'prekey-directory': directoryMigrations(config.keysDir),
    relay: RELAY_MIGRATIONS,
    'federation-gateway': GATEWAY_MIGRATIONS,
  };
  await ensureDatabase(config.databaseUrl);
  const pool = createPool(config.databaseUrl, 1, 'sealpost-migrate');
  try {
    const [verb = 'up', service] = args;
    if (verb === 'up') {
      for (const [name, set] of Object.entries(SETS)) {
        const applied = await migrateUp(pool, set);
        process.stdout.write(`${name} (schema ${set.schema}): ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`);
      }
      return 0;
    }
    if (verb === 'down' && service && SETS[service]) {
      const reverted = await migrateDownOne(pool, SETS[service]);
      process.stdout.write(reverted ? `${service}: reverted ${reverted}\n` : `${service}: nothing to revert\n`);
      return 0;
    }
    process.stderr.write(`usage: npm run migrate -- [up | down ${Object.keys(SETS).join('|')}]\n`);
    return 64;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `migrate: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
