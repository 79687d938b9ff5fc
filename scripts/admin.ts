import { ConfigError } from '@sealpost/config';
import { EXIT_UNAVAILABLE, cliContext } from './cli-context';
import { createPool, ensureDatabase, migrateUp } from '@sealpost/db';
import { initCrypto } from '@sealpost/crypto';
import { DIRECTORY_MIGRATIONS } from '../apps/prekey-directory/src/migrations';
import { UsageError, registrationTokenCommand } from '../apps/prekey-directory/src/admin/registration-token.command';

const USAGE = `usage: npm run admin -- [--env FILE] <command>
  registration-token create --uses N [--expires-in 7d]
  registration-token list
  registration-token revoke ID`;

/** Operator commands, run against the same DATABASE_URL / REDIS_URL as the services. */
async function main(): Promise<number> {
  const context = await cliContext(process.argv.slice(2));
  if (!context) return EXIT_UNAVAILABLE;
  const { config, args } = context;
  await initCrypto();
  await ensureDatabase(config.databaseUrl);
  const pool = createPool(config.databaseUrl, 2, 'sealpost-admin');
  try {
    await migrateUp(pool, DIRECTORY_MIGRATIONS);
    const [group, ...rest] = args;
    if (group === 'registration-token') {
      await registrationTokenCommand(pool, rest, (line) => process.stdout.write(`${line}\n`));
      return 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return 64;
  } finally {
    await pool.end();
  }
}

main().then((code) => process.exit(code), (error) => {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`admin: ${(error as Error).message}\n`);
  process.exit(error instanceof UsageError ? 64 : 1);
});
