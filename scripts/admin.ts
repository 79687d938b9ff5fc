import { ConfigError, loadGatewayConfig } from '@sealpost/config';
import { EXIT_UNAVAILABLE, cliContext } from './cli-context';
import { createPool, ensureDatabase, migrateUp } from '@sealpost/db';
import { initCrypto } from '@sealpost/crypto';
import { directoryMigrations } from '../apps/prekey-directory/src/migrations';
import { UsageError, registrationTokenCommand } from '../apps/prekey-directory/src/admin/registration-token.command';
import { GATEWAY_MIGRATIONS } from '../apps/federation-gateway/src/migrations';
import { KtObservationsRepository } from '../apps/federation-gateway/src/kt-gossip/kt-observations.repository';
import { sealedSenderCommand } from '../apps/prekey-directory/src/admin/sealed-sender.command';
import { ktKeysCommand } from '../apps/prekey-directory/src/admin/kt-keys.command';
import { FederationUsageError, federationCommand } from '../apps/federation-gateway/src/admin/federation.command';

const USAGE = `usage: npm run admin -- [--env FILE] <command>
  registration-token create --uses N [--expires-in 7d]
  registration-token list
  registration-token revoke ID
  federation status
  federation reset SERVER
  federation ping SERVER
  federation rotate-key
  sealed-sender status | rotate-server-key | rotate-trust-root
  kt keys | rotate-key
  kt evidence`;

/** Operator commands, run against the same DATABASE_URL / REDIS_URL as the services. */
async function main(): Promise<number> {
  const context = await cliContext(process.argv.slice(2));
  if (!context) return EXIT_UNAVAILABLE;
  const { config, args, env } = context;
  await initCrypto();
  await ensureDatabase(config.databaseUrl);
  const pool = createPool(config.databaseUrl, 2, 'sealpost-admin');
  try {
    await migrateUp(pool, directoryMigrations(config.keysDir));
    const [group, ...rest] = args;
    const print = (line: string) => process.stdout.write(`${line}\n`);
    if (group === 'registration-token') {
      await registrationTokenCommand(pool, rest, print);
      return 0;
    }
    if (group === 'sealed-sender') {
      await sealedSenderCommand(config.keysDir, rest, print);
      return 0;
    }
    if (group === 'kt' && (rest[0] === 'keys' || rest[0] === 'rotate-key')) {
      await ktKeysCommand(config.keysDir, config.serverName, rest[0], print);
      return 0;
    }
    if (group === 'kt' && rest[0] === 'evidence') {
      await migrateUp(pool, GATEWAY_MIGRATIONS);
      const evidence = await new KtObservationsRepository(pool).evidence();
      if (evidence.length === 0) print('no evidence of equivocation: every tree head seen of every peer was consistent');
      for (const e of evidence) {
        print(`#${e.id} ${e.server} at ${e.detectedAt.toISOString()}: ${e.reason}`);
        print(`  kept:        ${JSON.stringify(e.keptHead)}`);
        print(`  conflicting: ${JSON.stringify(e.conflictingHead)}`);
      }
      return evidence.length === 0 ? 0 : 2;
    }
    if (group === 'federation') {
      await migrateUp(pool, GATEWAY_MIGRATIONS);
      return await federationCommand(pool, loadGatewayConfig(env), rest, print);
    }
    process.stderr.write(`${USAGE}\n`);
    return 64;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof UsageError || error instanceof FederationUsageError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`admin: ${(error as Error).message}\n`);
    process.exit(error instanceof UsageError || error instanceof FederationUsageError ? 64 : 1);
  },
);
