import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';
import type { SignedTreeHead } from '@sealpost/transparency';

const PINNED_KEY = `SELECT key_id, public_key FROM federation.peer_kt_keys WHERE server = $1`;
const PIN_KEY = `INSERT INTO federation.peer_kt_keys (server, key_id, public_key) VALUES ($1, $2, $3) ON CONFLICT (server) DO NOTHING`;
const OBSERVE = `
  INSERT INTO federation.kt_observed_heads (server, tree_size, root_hash, head, consistent) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (server, tree_size, root_hash) DO UPDATE SET head = EXCLUDED.head, observed_at = now(),
    consistent = federation.kt_observed_heads.consistent AND EXCLUDED.consistent`;
const LARGEST = `
  SELECT head FROM federation.kt_observed_heads WHERE server = $1 AND consistent ORDER BY tree_size DESC, observed_at DESC LIMIT 1`;
const OBSERVED = `SELECT head FROM federation.kt_observed_heads WHERE server = $1 ORDER BY tree_size DESC, observed_at DESC LIMIT $2`;
const ADD_EVIDENCE = `INSERT INTO federation.kt_evidence (server, kept_head, conflicting_head, reason) VALUES ($1, $2, $3, $4)`;
const LIST_EVIDENCE = `SELECT id, server, kept_head, conflicting_head, reason, detected_at FROM federation.kt_evidence ORDER BY id`;

export interface Evidence {
  id: number;
  server: string;
  keptHead: SignedTreeHead;
  conflictingHead: SignedTreeHead;
  reason: string;
  detectedAt: Date;
}

/** Owner of `federation.peer_kt_keys`, `kt_observed_heads` and `kt_evidence`. */
@Injectable()
export class KtObservationsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async pinnedKey(server: string, db: Queryable = this.pool): Promise<{ keyId: string; publicKey: Buffer } | null> {
    const { rows } = await db.query<{ key_id: string; public_key: Buffer }>(PINNED_KEY, [server]);
    return rows[0] ? { keyId: rows[0].key_id, publicKey: rows[0].public_key } : null;
  }

  async pinKey(server: string, keyId: string, publicKey: Buffer, db: Queryable = this.pool): Promise<void> {
    await db.query(PIN_KEY, [server, keyId, publicKey]);
  }

  /** Records a head seen; `consistent` false marks one that conflicted with what was kept. */
  async observe(head: SignedTreeHead, consistent: boolean, db: Queryable = this.pool): Promise<void> {
    await db.query(OBSERVE, [head.server, head.treeSize, Buffer.from(head.rootHash, 'base64'), JSON.stringify(head), consistent]);
  }

  /** The largest head of `server` that was consistent with everything kept before it. */
  async largest(server: string, db: Queryable = this.pool): Promise<SignedTreeHead | null> {
    const { rows } = await db.query<{ head: SignedTreeHead }>(LARGEST, [server]);
    return rows[0]?.head ?? null;
  }

  async observed(server: string, limit: number, db: Queryable = this.pool): Promise<SignedTreeHead[]> {
    const { rows } = await db.query<{ head: SignedTreeHead }>(OBSERVED, [server, limit]);
    return rows.map((r) => r.head);
  }

  async addEvidence(
    server: string,
    kept: SignedTreeHead,
    conflicting: SignedTreeHead,
    reason: string,
    db: Queryable = this.pool,
  ): Promise<void> {
    await db.query(ADD_EVIDENCE, [server, JSON.stringify(kept), JSON.stringify(conflicting), reason]);
  }

  async evidence(db: Queryable = this.pool): Promise<Evidence[]> {
    const { rows } = await db.query<{
      id: string;
      server: string;
      kept_head: SignedTreeHead;
      conflicting_head: SignedTreeHead;
      reason: string;
      detected_at: Date;
    }>(LIST_EVIDENCE);
    return rows.map((r) => ({
      id: Number(r.id),
      server: r.server,
      keptHead: r.kept_head,
      conflictingHead: r.conflicting_head,
      reason: r.reason,
      detectedAt: r.detected_at,
    }));
  }
}
