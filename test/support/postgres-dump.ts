import type { Pool } from 'pg';

export interface DumpedRow {
  table: string;
  cells: Buffer[];
}

const TABLES_OF_SCHEMA = `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`;

/**
 * Every row of every table of a schema, each cell as bytes: bytea as stored, anything else as the
 * text Postgres prints for it (what `pg_dump` of that schema would hold).
 */
export async function dumpSchema(pool: Pool, schema: string): Promise<DumpedRow[]> {
  const { rows: tables } = await pool.query<{ table_name: string }>(TABLES_OF_SCHEMA, [schema]);
  const out: DumpedRow[] = [];
  for (const { table_name: table } of tables) {
    const { rows } = await pool.query(`SELECT * FROM ${schema}.${JSON.stringify(table)}`);
    for (const row of rows) {
      out.push({
        table,
        cells: Object.values(row).flatMap((v) =>
          v === null ? [] : [Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'object' ? JSON.stringify(v) : String(v))],
        ),
      });
    }
  }
  return out;
}

/** Which of `needles` (name → bytes) appear in any cell, as `table: name` lines. */
export function findInDump(dump: DumpedRow[], needles: [string, Buffer][]): string[] {
  return dump.flatMap(({ table, cells }) =>
    needles.filter(([, needle]) => cells.some((cell) => cell.includes(needle))).map(([name]) => `${table}: ${name}`),
  );
}
