import { ConfigError, redactUrl } from '@sealpost/config';
import { postgresUnreachableReason } from '@sealpost/db';
import { redisUnreachableReason } from '@sealpost/redis';

export const START_POSTGRES_HINT = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
export const START_REDIS_HINT = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';

/**
 * Says, without a stack trace, which of Redis and Postgres cannot be reached, at which URL,
 * and how to start it. Returns the lines to print; empty when both answer.
 */
export async function dependencyProblems(urls: { redisUrl: string; databaseUrl: string }): Promise<string[]> {
  const [pg, redis] = await Promise.all([postgresUnreachableReason(urls.databaseUrl), redisUnreachableReason(urls.redisUrl)]);
  const lines: string[] = [];
  if (pg) {
    lines.push(`PostgreSQL is not reachable at ${redactUrl(urls.databaseUrl)} (${pg}).`);
    lines.push(`  Start it (e.g. \`${START_POSTGRES_HINT}\`) or set DATABASE_URL.`);
  }
  if (redis) {
    lines.push(`Redis is not reachable at ${redactUrl(urls.redisUrl)} (${redis}).`);
    lines.push(`  Start it (e.g. \`${START_REDIS_HINT}\`) or set REDIS_URL.`);
  }
  return lines;
}

/** Entry point wrapper of every service: config problems and unreachable stores end the process with a clear message. */
export async function runService<C extends { redisUrl: string; databaseUrl: string }>(
  name: string,
  loadConfig: () => C,
  start: (config: C) => Promise<void>,
): Promise<void> {
  let config: C;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const problems = await dependencyProblems(config);
  if (problems.length > 0) {
    process.stderr.write(`${name} cannot start:\n${problems.map((l) => `  ${l}`).join('\n')}\n`);
    process.exit(69);
  }
  try {
    await start(config);
  } catch (error) {
    process.stderr.write(`${name} failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
