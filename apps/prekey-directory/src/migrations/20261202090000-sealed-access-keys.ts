import type { PoolClient } from 'pg';
import type { Migration } from '@sealpost/db';
import type { UnidentifiedAccessKeyVault } from '../accounts/unidentified-access-key.vault';

const ADD_SEALED_COLUMN = `ALTER TABLE directory.accounts ADD COLUMN unidentified_access_key_sealed bytea`;
const RAW_KEYS = `SELECT id, localpart, unidentified_access_key AS key FROM directory.accounts WHERE unidentified_access_key IS NOT NULL`;
const STORE_SEALED = `UPDATE directory.accounts SET unidentified_access_key_sealed = $2 WHERE id = $1`;
const DROP_RAW_COLUMN = `ALTER TABLE directory.accounts DROP COLUMN unidentified_access_key`;

const ADD_RAW_COLUMN = `ALTER TABLE directory.accounts ADD COLUMN unidentified_access_key bytea`;
const SEALED_KEYS = `SELECT id, localpart, unidentified_access_key_sealed AS key FROM directory.accounts WHERE unidentified_access_key_sealed IS NOT NULL`;
const STORE_RAW = `UPDATE directory.accounts SET unidentified_access_key = $2 WHERE id = $1`;
const DROP_SEALED_COLUMN = `ALTER TABLE directory.accounts DROP COLUMN unidentified_access_key_sealed`;

interface KeyRow {
  id: string;
  localpart: string;
  key: Buffer;
}

/**
 * Issue 8: unidentified-access keys were stored raw, so a backup was enough to pass the
 * sealed-sender check for anyone. Up seals every stored key (UnidentifiedAccessKeyVault, with the
 * server secret of `keysDir`, created here if this is the first start) and drops the raw column,
 * in the one migration transaction; down opens them back into the raw column. Postgres has no
 * AES-GCM without pgcrypto, hence TypeScript. The server secret is only read when there are rows
 * to convert, so fresh databases need no KEYS_DIR here. Run it with the services' KEYS_DIR.
 */
export function sealedAccessKeys(keysDir: string): Migration {
  // Loaded only when there are rows to convert, so the migration list itself imports nothing but
  // types (tools that load it without the @sealpost path aliases, e.g. the test global setup, work).
  const vault = async (): Promise<UnidentifiedAccessKeyVault> => {
    const [{ ServerSecret }, { UnidentifiedAccessKeyVault: Vault }] = await Promise.all([
      import('@sealpost/crypto'),
      import('../accounts/unidentified-access-key.vault'),
    ]);
    return new Vault(await ServerSecret.loadOrCreate(keysDir));
  };
  return {
    name: '20261202090000-sealed-access-keys',
    async up(tx: PoolClient) {
      await tx.query(ADD_SEALED_COLUMN);
      const { rows } = await tx.query<KeyRow>(RAW_KEYS);
      if (rows.length > 0) {
        const keys = await vault();
        for (const row of rows) await tx.query(STORE_SEALED, [row.id, keys.seal(row.localpart, row.key)]);
      }
      await tx.query(DROP_RAW_COLUMN);
    },
    async down(tx: PoolClient) {
      await tx.query(ADD_RAW_COLUMN);
      const { rows } = await tx.query<KeyRow>(SEALED_KEYS);
      if (rows.length > 0) {
        const keys = await vault();
        for (const row of rows) {
          const raw = keys.open(row.localpart, row.key);
          if (!raw)
            throw new Error(
              `an unidentified-access key does not open with the server secret in ${keysDir}: run down with the services' KEYS_DIR`,
            );
          await tx.query(STORE_RAW, [row.id, raw]);
        }
      }
      await tx.query(DROP_SEALED_COLUMN);
    },
  };
}
