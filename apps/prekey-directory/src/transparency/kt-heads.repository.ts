import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

const INSERT_HEAD = `
  INSERT INTO directory.kt_heads (tree_size, root_hash, timestamp, signature, key_id) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (tree_size) DO UPDATE SET root_hash = EXCLUDED.root_hash, timestamp = EXCLUDED.timestamp, signature = EXCLUDED.signature, key_id = EXCLUDED.key_id
  WHERE directory.kt_heads.root_hash = EXCLUDED.root_hash`;
const LATEST = `SELECT tree_size, root_hash, timestamp, signature, key_id FROM directory.kt_heads ORDER BY tree_size DESC LIMIT 1`;
// One signer at a time across replicas: held until the signing transaction ends, so heads are
// saved in the order their tree sizes were read and a larger tree is never signed before a smaller.
const LOCK_SIGNER = `SELECT pg_advisory_xact_lock(hashtext('sealpost-kt-head-signer'))`;
const BY_SIZE = `SELECT tree_size, root_hash, timestamp, signature, key_id FROM directory.kt_heads WHERE tree_size = $1`;

export interface StoredHead {
  treeSize: number;
  rootHash: Buffer;
  timestamp: number;
  signature: Buffer;
  keyId: string;
}

type HeadRow = { tree_size: string; root_hash: Buffer; timestamp: string; signature: Buffer; key_id: string };
const toHead = (r: HeadRow): StoredHead => ({
  treeSize: Number(r.tree_size),
  rootHash: r.root_hash,
  timestamp: Number(r.timestamp),
  signature: r.signature,
  keyId: r.key_id,
});

/** Owner of `directory.kt_heads`: the signed tree heads, one per tree size (re-signed with a newer timestamp each epoch). */
@Injectable()
export class KtHeadsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** False when a head of that size with a different root is stored: nothing was written (and nothing may be served). */
  async save(head: StoredHead, db: Queryable = this.pool): Promise<boolean> {
    const { rowCount } = await db.query(INSERT_HEAD, [head.treeSize, head.rootHash, head.timestamp, head.signature, head.keyId]);
    return (rowCount ?? 0) > 0;
  }

  /** In a transaction: waits until no other replica is signing, and holds the signer lock until commit. */
  async lockSigner(tx: Queryable): Promise<void> {
    await tx.query(LOCK_SIGNER);
  }

  async latest(db: Queryable = this.pool): Promise<StoredHead | null> {
    const { rows } = await db.query<HeadRow>(LATEST);
    return rows[0] ? toHead(rows[0]) : null;
  }

  async bySize(treeSize: number, db: Queryable = this.pool): Promise<StoredHead | null> {
    const { rows } = await db.query<HeadRow>(BY_SIZE, [treeSize]);
    return rows[0] ? toHead(rows[0]) : null;
  }
}
