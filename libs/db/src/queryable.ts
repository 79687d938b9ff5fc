import { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { isDatabaseUnavailable } from './database-unavailable';

/** Either the pool or a client inside a transaction: every repository method takes one. */
export type Queryable = Pool | PoolClient;

/**
 * Runs `work` in one transaction on a client checked out for the whole of it.
 *
 * pg-pool removes its idle `error` listener while a client is checked out, so a connection
 * killed between two queries (a Postgres restart: 57P01, "Connection terminated") would emit
 * `error` with no listener and end the process. This checkout listens for the whole time it holds
 * the client; a client whose connection failed — or whose query timed out, leaving a reply still
 * owed — is released with the error, which makes the pool destroy it instead of handing it out
 * again. No ROLLBACK is attempted on such a client: it would only wait for the same dead server;
 * Postgres rolls back the transaction of a closed connection itself.
 */
export async function withTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let connectionError: Error | undefined;
  const onConnectionError = (error: Error) => {
    connectionError ??= error;
  };
  client.on('error', onConnectionError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (isDatabaseUnavailable(error)) connectionError ??= error as Error;
    if (!connectionError) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        connectionError = rollbackError;
      });
    }
    throw error;
  } finally {
    client.removeListener('error', onConnectionError);
    client.release(connectionError);
  }
}

export async function queryOne<R extends QueryResultRow>(
  db: Queryable,
  sql: string | NamedStatement,
  params: unknown[],
): Promise<R | null> {
  const { rows } = typeof sql === 'string' ? await db.query<R>(sql, params) : await db.query<R>({ ...sql, values: params });
  return rows[0] ?? null;
}

/**
 * A statement Postgres parses and plans once per connection (a named prepared statement) —
 * for hot paths, where planning otherwise costs more than running the query.
 * Note: behind PgBouncer this needs transaction pooling with prepared-statement support (1.21+).
 */
export interface NamedStatement extends Pick<QueryConfig, 'name' | 'text'> {
  name: string;
}

export function namedStatement(name: string, text: string): NamedStatement {
  return { name, text };
}

export async function queryNamed<R extends QueryResultRow>(db: Queryable, statement: NamedStatement, params: unknown[]) {
  return db.query<R>({ name: statement.name, text: statement.text, values: params });
}
