import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable, queryOne } from '@sealpost/db';

const INSERT_ACCOUNT = `
  INSERT INTO directory.accounts (localpart, identity_key, unidentified_access_key_sealed)
  VALUES ($1, $2, $3)
  ON CONFLICT (localpart) DO NOTHING
  RETURNING id`;
const FIND_BY_ID = `
  SELECT id, localpart, identity_key, unidentified_access_key_sealed FROM directory.accounts WHERE id = $1`;
const LOCK_FOR_CHANGE = `SELECT identity_key FROM directory.accounts WHERE id = $1 FOR UPDATE`;
const LOCK_FOR_KEY_UPLOAD = `SELECT identity_key FROM directory.accounts WHERE id = $1 FOR SHARE`;
const SET_IDENTITY_KEY = `UPDATE directory.accounts SET identity_key = $2 WHERE id = $1`;
// Devices, their keys and link codes go with it (ON DELETE CASCADE).
const DELETE_ACCOUNT = `DELETE FROM directory.accounts WHERE id = $1`;
const FIND_BY_LOCALPART = `
  SELECT id, localpart, identity_key, unidentified_access_key_sealed FROM directory.accounts WHERE localpart = $1`;

export interface AccountRecord {
  id: string;
  localpart: string;
  identityKey: Buffer;
  /** Sealed by `UnidentifiedAccessKeyVault` (never the raw key), or null. */
  unidentifiedAccessKeySealed: Buffer | null;
}

interface AccountRow {
  id: string;
  localpart: string;
  identity_key: Buffer;
  unidentified_access_key_sealed: Buffer | null;
}

/** Owner of `directory.accounts`. */
@Injectable()
export class AccountsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Returns the new account id, or null when the localpart is taken. The access key comes sealed (UnidentifiedAccessKeyVault). */
  async insert(
    account: { localpart: string; identityKey: Buffer; unidentifiedAccessKeySealed: Buffer | null },
    db: Queryable = this.pool,
  ): Promise<string | null> {
    const row = await queryOne<{ id: string }>(db, INSERT_ACCOUNT, [
      account.localpart,
      account.identityKey,
      account.unidentifiedAccessKeySealed,
    ]);
    return row?.id ?? null;
  }

  async findById(id: string, db: Queryable = this.pool): Promise<AccountRecord | null> {
    return toRecord(await queryOne<AccountRow>(db, FIND_BY_ID, [id]));
  }

  /**
   * Must run in a transaction. Every change of the account's device set or identity key (link,
   * removal, identity-key change, deletion) takes this lock first, so they happen one at a time
   * and each sees the others' result. Returns the identity key; null when the account is gone.
   */
  async lockForChange(id: string, tx: Queryable): Promise<Buffer | null> {
    return (await queryOne<{ identity_key: Buffer }>(tx, LOCK_FOR_CHANGE, [id]))?.identity_key ?? null;
  }

  /**
   * Must run in a transaction. A key upload shares the lock: uploads run side by side, but never
   * across a change. Returns the identity key the keys must be signed with; null when the account
   * is gone.
   */
  async lockForKeyUpload(id: string, tx: Queryable): Promise<Buffer | null> {
    return (await queryOne<{ identity_key: Buffer }>(tx, LOCK_FOR_KEY_UPLOAD, [id]))?.identity_key ?? null;
  }

  async setIdentityKey(id: string, identityKey: Buffer, tx: Queryable): Promise<void> {
    await tx.query(SET_IDENTITY_KEY, [id, identityKey]);
  }

  async delete(id: string, tx: Queryable): Promise<void> {
    await tx.query(DELETE_ACCOUNT, [id]);
  }

  async findByLocalpart(localpart: string, db: Queryable = this.pool): Promise<AccountRecord | null> {
    return toRecord(await queryOne<AccountRow>(db, FIND_BY_LOCALPART, [localpart]));
  }
}

function toRecord(row: AccountRow | null): AccountRecord | null {
  return (
    row && {
      id: row.id,
      localpart: row.localpart,
      identityKey: row.identity_key,
      unidentifiedAccessKeySealed: row.unidentified_access_key_sealed,
    }
  );
}
