import { Client, Pool } from 'pg';

/** Postgres error codes that callers translate into API answers. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

export function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === code;
}

export function createPool(databaseUrl: string, max: number, applicationName: string): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max, application_name: applicationName });
  // An idle client losing its connection (e.g. Postgres restart) must not crash the process.
  pool.on('error', () => undefined);
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
  const admin = new Client({ connectionString: url.toString() });
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
  client.on('error', () => undefined);
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
