import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

const INSERT_TOKEN = `
  INSERT INTO directory.registration_tokens (token_hash, uses_left, expires_at) VALUES ($1, $2, $3) RETURNING id`;
const CONSUME_ONE_USE = `
  UPDATE directory.registration_tokens SET uses_left = uses_left - 1
  WHERE token_hash = $1 AND uses_left > 0 AND (expires_at IS NULL OR expires_at > now())
  RETURNING id`;
const LIST_TOKENS = `
  SELECT id, uses_left, expires_at, created_at FROM directory.registration_tokens ORDER BY id`;
const REVOKE_TOKEN = `DELETE FROM directory.registration_tokens WHERE id = $1`;

export interface RegistrationTokenInfo {
  id: string;
  usesLeft: number;
  expiresAt: Date | null;
  createdAt: Date;
}

/** Owner of `directory.registration_tokens`; only SHA-256 hashes of tokens are stored. */
@Injectable()
export class RegistrationTokensRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(tokenHash: Buffer, uses: number, expiresAt: Date | null, db: Queryable = this.pool): Promise<string> {
    const { rows } = await db.query<{ id: string }>(INSERT_TOKEN, [tokenHash, uses, expiresAt]);
    return rows[0].id;
  }

  /** Takes one use of a valid token atomically; false when it is unknown, used up or expired. */
  async consumeOneUse(tokenHash: Buffer, db: Queryable = this.pool): Promise<boolean> {
    const { rowCount } = await db.query(CONSUME_ONE_USE, [tokenHash]);
    return rowCount === 1;
  }

  async list(db: Queryable = this.pool): Promise<RegistrationTokenInfo[]> {
    const { rows } = await db.query<{ id: string; uses_left: number; expires_at: Date | null; created_at: Date }>(LIST_TOKENS);
    return rows.map((r) => ({ id: r.id, usesLeft: r.uses_left, expiresAt: r.expires_at, createdAt: r.created_at }));
  }

  async revoke(id: string, db: Queryable = this.pool): Promise<boolean> {
    const { rowCount } = await db.query(REVOKE_TOKEN, [id]);
    return rowCount === 1;
  }
}
