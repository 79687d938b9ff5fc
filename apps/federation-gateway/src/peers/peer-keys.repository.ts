import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

const LIST_FOR_SERVER = `SELECT key_id, public_key, valid_until FROM federation.peer_keys WHERE server = $1`;
const PIN_KEY = `
  INSERT INTO federation.peer_keys (server, key_id, public_key, valid_until) VALUES ($1, $2, $3, $4)
  ON CONFLICT (server, key_id) DO UPDATE SET valid_until = GREATEST(federation.peer_keys.valid_until, EXCLUDED.valid_until)
  WHERE federation.peer_keys.public_key = EXCLUDED.public_key`;
const FORGET_SERVER = `DELETE FROM federation.peer_keys WHERE server = $1`;

export interface PinnedKey {
  keyId: string;
  publicKey: Buffer;
  validUntil: Date;
}

/** Owner of `federation.peer_keys`: the peers' public keys this server has pinned. */
@Injectable()
export class PeerKeysRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async list(server: string, db: Queryable = this.pool): Promise<PinnedKey[]> {
    const { rows } = await db.query<{ key_id: string; public_key: Buffer; valid_until: Date }>(LIST_FOR_SERVER, [server]);
    return rows.map((r) => ({ keyId: r.key_id, publicKey: r.public_key, validUntil: r.valid_until }));
  }

  /** Pins a key; an existing pin of the same id with different bytes is never overwritten. */
  async pin(server: string, key: PinnedKey, db: Queryable = this.pool): Promise<void> {
    await db.query(PIN_KEY, [server, key.keyId, key.publicKey, key.validUntil]);
  }

  /** Operator reset (`federation reset <server>`): forget the pins so the next fetch pins afresh. */
  async forget(server: string, db: Queryable = this.pool): Promise<number> {
    const { rowCount } = await db.query(FORGET_SERVER, [server]);
    return rowCount ?? 0;
  }
}
