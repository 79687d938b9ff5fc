import Redis from 'ioredis';
import { Pool } from 'pg';

/**
 * Looks for known secrets (tokens, keys, codes, canaries) in everything a homeserver keeps or
 * prints: every row of every table in every non-system schema of a database, every Redis key and
 * value under a prefix, and any text (logs, /metrics). A secret is searched in the forms it may
 * take when stored: as given, as the base64/base64url/hex of its text, and, when it is itself
 * base64, as the hex/base64url of the bytes it encodes.
 */

export interface Secret {
  kind: string;
  value: string;
}

export interface Finding {
  secret: string;
  where: string;
  form: string;
}

/** The forms one secret may be written in; hex forms are lowercase (searched case-insensitively). */
export function formsOf(value: string): { form: string; text: string }[] {
  const forms = [
    { form: 'as given', text: value },
    { form: 'base64 of text', text: Buffer.from(value).toString('base64').replace(/=+$/, '') },
    { form: 'base64url of text', text: Buffer.from(value).toString('base64url') },
    { form: 'hex of text', text: Buffer.from(value).toString('hex') },
  ];
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && value.length >= 16) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    forms.push(
      { form: 'hex of decoded bytes', text: bytes.toString('hex') },
      { form: 'base64url of decoded bytes', text: bytes.toString('base64url') },
      { form: 'base64 of decoded bytes', text: bytes.toString('base64').replace(/=+$/, '') },
    );
  }
  return forms.filter((f) => f.text.length >= 8);
}

/** Every place in `text` (named `where`) that holds one of `secrets` in any of its forms. */
export function findSecrets(text: string, where: string, secrets: Secret[]): Finding[] {
  const lower = text.toLowerCase();
  const found: Finding[] = [];
  for (const secret of secrets) {
    for (const { form, text: needle } of formsOf(secret.value)) {
      const hit = form.startsWith('hex') ? lower.includes(needle.toLowerCase()) : text.includes(needle);
      if (hit) {
        found.push({ secret: secret.kind, where, form });
        break;
      }
    }
  }
  return found;
}

const USER_TABLES = `
  SELECT table_schema, table_name FROM information_schema.tables
  WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_toast%'
  ORDER BY 1, 2`;

/** One row of a table as text: `row_to_json` writes bytea as `\x<hex>` and everything else as it is. */
export interface ScannedRow {
  table: string;
  column: string;
  text: string;
}

/** Every column value of every row of every user table in the database, as text. */
export async function databaseCells(databaseUrl: string): Promise<ScannedRow[]> {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const { rows: tables } = await pool.query<{ table_schema: string; table_name: string }>(USER_TABLES);
    const cells: ScannedRow[] = [];
    for (const t of tables) {
      const table = `${t.table_schema}.${t.table_name}`;
      const { rows } = await pool.query<{ row: Record<string, unknown> }>(
        `SELECT row_to_json(t) AS row FROM "${t.table_schema}"."${t.table_name}" t`,
      );
      for (const { row } of rows) {
        for (const [column, value] of Object.entries(row))
          cells.push({ table, column, text: typeof value === 'string' ? value : JSON.stringify(value) });
      }
    }
    return cells;
  } finally {
    await pool.end();
  }
}

/** Every key under `prefix` with its value as text (strings, hashes, lists, sets, sorted sets, streams). */
export async function redisEntries(redisUrl: string, prefix: string): Promise<{ key: string; text: string }[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    const entries: { key: string; text: string }[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) entries.push({ key, text: await redisValueText(redis, key) });
    } while (cursor !== '0');
    return entries;
  } finally {
    redis.disconnect();
  }
}

async function redisValueText(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.getBuffer(key))?.toString('latin1') ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.call('ZRANGE', key, '0', '-1', 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}
