import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { ServerSecret } from '@sealpost/crypto';
import { ensureDatabase, migrateDownOne, migrateUp } from '@sealpost/db';
import { federationTestDatabaseUrl } from '../../../../test/support/test-keys';
import { dumpSchema, findInDump } from '../../../../test/support/postgres-dump';
import { UnidentifiedAccessKeyVault } from '../accounts/unidentified-access-key.vault';
import { directoryMigrations } from './index';

const SEALING_MIGRATION = '20261202090000-sealed-access-keys';
const ACCOUNT_COLUMNS = `SELECT column_name FROM information_schema.columns WHERE table_schema = 'directory' AND table_name = 'accounts'`;
const INSERT_RAW = `INSERT INTO directory.accounts (localpart, identity_key, unidentified_access_key) VALUES ($1, $2, $3) RETURNING id`;

/**
 * Issue 8, defect 9: accounts registered before the fix hold their access key raw. The migration
 * seals each in place (with the server secret of KEYS_DIR) and drops the raw column; down opens
 * them back. Runs against a database of its own, built up to the migration before it.
 */
describe('directory migration: sealed unidentified-access keys', () => {
  const databaseUrl = federationTestDatabaseUrl(process.env.TEST_DATABASE_URL!, 'uak-migration');
  const keysDir = mkdtempSync(join(tmpdir(), 'sealpost-uak-migration-'));
  let pool: Pool;
  beforeAll(async () => {
    await ensureDatabase(databaseUrl);
    pool = new Pool({ connectionString: databaseUrl, max: 2 });
    await pool.query('DROP SCHEMA IF EXISTS directory CASCADE');
  });
  afterAll(async () => {
    await pool.end();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('converts a pre-existing raw key into one only the server secret opens, and down restores it', async () => {
    const set = directoryMigrations(keysDir);
    expect(set.migrations.map((m) => m.name)).toContain(SEALING_MIGRATION);
    await migrateUp(pool, { ...set, migrations: set.migrations.filter((m) => m.name < SEALING_MIGRATION) });
    const rawKeys = [randomBytes(16), randomBytes(16)];
    const localparts = rawKeys.map(() => `legacy-${randomBytes(4).toString('hex')}`);
    for (let i = 0; i < rawKeys.length; i++)
      await pool.query(INSERT_RAW, [localparts[i], Buffer.concat([Buffer.of(5), randomBytes(32)]), rawKeys[i]]);
    await pool.query(INSERT_RAW, ['legacy-without-key', Buffer.concat([Buffer.of(5), randomBytes(32)]), null]);

    expect(await migrateUp(pool, set)).toEqual([SEALING_MIGRATION]);

    const columns = (await pool.query<{ column_name: string }>(ACCOUNT_COLUMNS)).rows.map((r) => r.column_name);
    expect(columns).toContain('unidentified_access_key_sealed');
    expect(columns).not.toContain('unidentified_access_key');
    const needles = rawKeys.flatMap((raw, i): [string, Buffer][] => {
      const hash = createHash('sha256').update(raw).digest();
      return [
        [`key ${i}`, raw],
        [`key ${i} base64`, Buffer.from(raw.toString('base64'))],
        [`key ${i} SHA-256`, hash],
        [`key ${i} SHA-256 base64`, Buffer.from(hash.toString('base64'))],
      ];
    });
    expect(findInDump(await dumpSchema(pool, 'directory'), needles)).toEqual([]);

    const vault = new UnidentifiedAccessKeyVault(await ServerSecret.loadOrCreate(keysDir));
    const sealedOf = async (localpart: string) =>
      (
        await pool.query<{ s: Buffer | null }>('SELECT unidentified_access_key_sealed AS s FROM directory.accounts WHERE localpart = $1', [
          localpart,
        ])
      ).rows[0].s;
    for (let i = 0; i < rawKeys.length; i++) expect(vault.open(localparts[i], await sealedOf(localparts[i]))).toEqual(rawKeys[i]);
    expect(await sealedOf('legacy-without-key')).toBeNull();
    // Bound to its account: a sealed key copied into another row does not open there.
    expect(vault.open(localparts[1], await sealedOf(localparts[0]))).toBeNull();
    // And a different server secret (a backup restored without KEYS_DIR) opens nothing.
    const otherDir = mkdtempSync(join(tmpdir(), 'sealpost-uak-other-'));
    try {
      const stranger = new UnidentifiedAccessKeyVault(await ServerSecret.loadOrCreate(otherDir));
      expect(stranger.open(localparts[0], await sealedOf(localparts[0]))).toBeNull();
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }

    expect(await migrateDownOne(pool, set)).toBe(SEALING_MIGRATION);
    const restored = await pool.query<{ localpart: string; unidentified_access_key: Buffer | null }>(
      'SELECT localpart, unidentified_access_key FROM directory.accounts WHERE localpart = ANY($1) ORDER BY localpart',
      [localparts],
    );
    expect(new Map(restored.rows.map((r) => [r.localpart, r.unidentified_access_key]))).toEqual(
      new Map(localparts.map((l, i) => [l, rawKeys[i]])),
    );
  });
});
