import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable, queryOne } from '@sealpost/db';

const INSERT_CODE = `
  INSERT INTO directory.link_codes (code_hash, account_id, expires_at) VALUES ($1, $2, $3)`;
// One-time: the DELETE is the use. Expired codes are never accepted.
const CONSUME_CODE = `
  DELETE FROM directory.link_codes WHERE code_hash = $1 RETURNING account_id, expires_at > now() AS valid`;
const PURGE_EXPIRED = `DELETE FROM directory.link_codes WHERE expires_at <= now()`;

/** Owner of `directory.link_codes`; only SHA-256 hashes of codes are stored. */
@Injectable()
export class LinkCodesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(codeHash: Buffer, accountId: string, expiresAt: Date, db: Queryable = this.pool): Promise<void> {
    await db.query(INSERT_CODE, [codeHash, accountId, expiresAt]);
  }

  /** Uses the code up; returns its account when it existed and had not expired. */
  async consume(codeHash: Buffer, db: Queryable = this.pool): Promise<string | null> {
    const row = await queryOne<{ account_id: string; valid: boolean }>(db, CONSUME_CODE, [codeHash]);
    return row?.valid ? row.account_id : null;
  }

  async purgeExpired(db: Queryable = this.pool): Promise<number> {
    const { rowCount } = await db.query(PURGE_EXPIRED);
    return rowCount ?? 0;
  }
}
