import { Pool, PoolClient, QueryResultRow } from 'pg';

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

export async function queryOne<R extends QueryResultRow>(db: Queryable, sql: string, params: unknown[]): Promise<R | null> {
  const { rows } = await db.query<R>(sql, params);
  return rows[0] ?? null;
}
