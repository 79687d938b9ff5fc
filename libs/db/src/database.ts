import { Logger } from '@nestjs/common';
import { Client, Pool } from 'pg';
import type { DatabaseTimeouts } from '@sealpost/config';
import { unavailabilityReason } from './database-unavailable';
import { PostgresAvailability } from './postgres-availability';

/** Postgres error codes that callers translate into API answers. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

export function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === code;
}

/** No statement or query timeout (migrations, admin scripts); connecting is still bounded. */
export const UNBOUNDED_STATEMENTS: DatabaseTimeouts = {
  statementTimeoutMs: 0,
  queryTimeoutMs: 0,
  connectTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 0,
  keepAliveInitialDelayMs: 10_000,
};

/**
 * A pool whose every wait is bounded: connecting and waiting for a free connection
 * (`connectTimeoutMs`), a statement on the server (`statement_timeout`), the answer to a query
 * on the client (`query_timeout`: covers a frozen or cut-off server, where statement_timeout
 * cannot fire), and a transaction left idle. TCP keep-alive finds dead peers.
 * An idle client losing its connection (e.g. a Postgres restart) is reported to `availability`
 * and dropped by the pool; it never crashes the process.
 */
export function createPool(
  databaseUrl: string,
  max: number,
  applicationName: string,
  timeouts: DatabaseTimeouts = UNBOUNDED_STATEMENTS,
  availability = new PostgresAvailability(),
): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    ...(timeouts.statementTimeoutMs > 0 ? { statement_timeout: timeouts.statementTimeoutMs } : {}),
    ...(timeouts.queryTimeoutMs > 0 ? { query_timeout: timeouts.queryTimeoutMs } : {}),
    ...(timeouts.idleInTransactionTimeoutMs > 0 ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs } : {}),
    keepAlive: true,
    keepAliveInitialDelayMillis: timeouts.keepAliveInitialDelayMs,
  });
  pool.on('error', (error) => availability.noteConnectionLost(error));
  pool.on('connect', () => availability.noteAvailable());
  return pool;
}

/** Creates the database named in the URL if it does not exist yet (connecting to `postgres`). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name || !/^[A-Za-z0-9_-]{1,63}$/.test(name)) {
    throw new Error('DATABASE_URL must name a database (letters, digits, _ and -)');
  }
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 });
  // A connection lost between two queries also rejects the pending query, which is what reports it.
  admin.on('error', noteLostConnection);
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE "${name}"`).catch((error: unknown) => {
        // Two processes starting at once: the other one won.
        if (!isPgError(error, '42P04') && !isPgError(error, PG_UNIQUE_VIOLATION)) throw error;
      });
    }
  } finally {
    await admin.end();
  }
}

/** Null when Postgres answers at `databaseUrl` (the server, not the database); else a one-line reason. */
export async function postgresUnreachableReason(databaseUrl: string): Promise<string | null> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  client.on('error', noteLostConnection);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** For one-off clients: a lost connection surfaces as the failed query; the event only must not go unheard. */
function noteLostConnection(error: Error): void {
  new Logger('Postgres').debug(`one-off connection lost (${unavailabilityReason(error)})`);
}
