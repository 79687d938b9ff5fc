import { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';

/** Either the pool or a client inside a transaction: every repository method takes one. */
export type Queryable = Pool | PoolClient;

export async function withTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export async function queryOne<R extends QueryResultRow>(db: Queryable, sql: string | NamedStatement, params: unknown[]): Promise<R | null> {
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
