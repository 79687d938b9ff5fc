import { Pool } from 'pg';
import { PrivatePostgres } from '../../../test/support/postgres-server';
import { createPool } from './database';
import { isDatabaseUnavailable } from './database-unavailable';
import { withTransaction } from './queryable';

/**
 * A Postgres restart while a transaction holds a checked-out client between two queries must
 * not end the process: the dead connection's `error` event is heard, the transaction fails as
 * "database unavailable", the broken client is destroyed, and the pool serves again.
 */
describe('a checked-out client across a Postgres restart', () => {
  let pg: PrivatePostgres;
  let pool: Pool;
  const uncaught: Error[] = [];
  const recordUncaught = (error: Error) => {
    uncaught.push(error);
  };

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    pool = createPool(pg.url('postgres'), 4, 'restart-spec');
    process.on('uncaughtException', recordUncaught);
  }, 60_000);

  afterAll(async () => {
    process.removeListener('uncaughtException', recordUncaught);
    await pool?.end().catch((error: Error) => console.warn(`pool end: ${error.message}`));
    await pg?.destroy();
  });

  it.each(['fast', 'immediate'] as const)(
    'survives pg_ctl restart -m %s between two queries of a transaction',
    async (mode) => {
      const pidsBefore = new Set<number>();
      const outcome = withTransaction(pool, async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        pidsBefore.add(rows[0].pid);
        await pg.restart(mode);
        // Give the killed socket's error event time to be emitted while the client is still checked out.
        await new Promise((r) => setTimeout(r, 200));
        await tx.query('SELECT 2');
      });
      const failure = await outcome.then(
        () => null,
        (error: unknown) => error,
      );

      expect(uncaught).toEqual([]);
      expect(failure).not.toBeNull();
      expect(isDatabaseUnavailable(failure)).toBe(true);
      // The pool serves again, on a fresh connection (the broken one was destroyed, not reused).
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(pidsBefore.has(rows[0].pid)).toBe(false);
      await expect(withTransaction(pool, async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0].one)).resolves.toBe(1);
    },
    60_000,
  );
});
