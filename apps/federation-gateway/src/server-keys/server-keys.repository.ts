import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

const RECORD_KEY = `
  INSERT INTO federation.server_keys (key_id, public_key, created_at, valid_until) VALUES ($1, $2, $3, $4)
  ON CONFLICT (key_id) DO NOTHING`;
const LIST_KEYS = `SELECT key_id, public_key, created_at, valid_until, retired_at FROM federation.server_keys ORDER BY created_at`;

/** Owner of `federation.server_keys`: the public halves of this server's signing keys, for operators and audits. */
@Injectable()
export class ServerKeysRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async record(key: { keyId: string; publicKey: Buffer; createdAt: Date; validUntil: Date }, db: Queryable = this.pool): Promise<void> {
    await db.query(RECORD_KEY, [key.keyId, key.publicKey, key.createdAt, key.validUntil]);
  }

  async list(db: Queryable = this.pool) {
    const { rows } = await db.query<{ key_id: string; public_key: Buffer; created_at: Date; valid_until: Date; retired_at: Date | null }>(
      LIST_KEYS,
    );
    return rows;
  }
}
