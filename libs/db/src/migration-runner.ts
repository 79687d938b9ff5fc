import { Pool, PoolClient } from 'pg';
import { withTransaction } from './queryable';

/** One schema change of one service; `up` and `down` run inside a transaction. */
export interface Migration {
  /** `<timestamp>-<name>`, sorted lexically = applied order. */
  name: string;
  up(tx: PoolClient): Promise<void>;
  down(tx: PoolClient): Promise<void>;
}

export interface MigrationSet {
  /** The Postgres schema this service owns. */
  schema: string;
  migrations: Migration[];
}

const advisoryLockKey = (schema: string) => `sealpost-migrations:${schema}`;

/**
 * Applies the pending migrations of one service schema. Idempotent, and safe when several
 * replicas start at once: they serialise on a transaction-scoped advisory lock.
 * Returns the names it applied.
 */
export async function migrateUp(pool: Pool, set: MigrationSet): Promise<string[]> {
  const ordered = [...set.migrations].sort((a, b) => a.name.localeCompare(b.name));
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [advisoryLockKey(set.schema)]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${set.schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${set.schema}.migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await tx.query<{ name: string }>(`SELECT name FROM ${set.schema}.migrations`);
    const applied = new Set(rows.map((r) => r.name));
    const done: string[] = [];
    for (const migration of ordered) {
      if (applied.has(migration.name)) continue;
      await migration.up(tx);
      await tx.query(`INSERT INTO ${set.schema}.migrations (name) VALUES ($1)`, [migration.name]);
      done.push(migration.name);
    }
    return done;
  });
}

/** Reverts the most recently applied migration of a schema; returns its name or null. */
export async function migrateDownOne(pool: Pool, set: MigrationSet): Promise<string | null> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [advisoryLockKey(set.schema)]);
    const { rows } = await tx.query<{ name: string }>(`SELECT name FROM ${set.schema}.migrations ORDER BY name DESC LIMIT 1`);
    const last = rows[0]?.name;
    if (!last) return null;
    const migration = set.migrations.find((m) => m.name === last);
    if (!migration) throw new Error(`migration ${last} is applied but unknown to this build`);
    await migration.down(tx);
    await tx.query(`DELETE FROM ${set.schema}.migrations WHERE name = $1`, [last]);
    return last;
  });
}
