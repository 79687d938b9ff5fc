import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

const LOCK_STATE = `SELECT tree_size FROM directory.kt_state FOR UPDATE`;
const READ_SIZE = `SELECT tree_size FROM directory.kt_state`;
const SET_SIZE = `UPDATE directory.kt_state SET tree_size = $1`;
const LAST_RECORD = `
  SELECT version, leaf_hash FROM directory.kt_leaves WHERE address = $1 ORDER BY version DESC LIMIT 1`;
const INSERT_LEAVES = `
  INSERT INTO directory.kt_leaves (leaf_index, address, version, record, leaf_hash)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bytea[], $5::bytea[])`;
const INSERT_NODES = `
  INSERT INTO directory.kt_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`;
const READ_NODES = `
  SELECT n.level, n.idx, n.hash FROM directory.kt_nodes n
  JOIN unnest($1::smallint[], $2::bigint[]) AS k (level, idx) ON n.level = k.level AND n.idx = k.idx`;
const LEAF_BY_VERSION = `SELECT leaf_index, version, record FROM directory.kt_leaves WHERE address = $1 AND version = $2`;
const HISTORY = `SELECT leaf_index, version, record FROM directory.kt_leaves WHERE address = $1 AND leaf_index < $2 ORDER BY version`;
const UNCOVERED = `SELECT leaf_index, version, record FROM directory.kt_leaves WHERE address = $1 AND leaf_index >= $2 ORDER BY version`;

export interface LeafRow {
  leafIndex: number;
  version: number;
  record: Buffer;
}
export interface NodeRow {
  level: number;
  index: number;
  hash: Buffer;
}

/** Owner of `directory.kt_state`, `kt_leaves` and `kt_nodes`: the append-only log itself. */
@Injectable()
export class KtLogRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** In a transaction: the tree size, with the lock that serialises appends until commit. */
  async lockTreeSize(tx: Queryable): Promise<number> {
    const { rows } = await tx.query<{ tree_size: string }>(LOCK_STATE);
    return Number(rows[0].tree_size);
  }

  async treeSize(db: Queryable = this.pool): Promise<number> {
    const { rows } = await db.query<{ tree_size: string }>(READ_SIZE);
    return Number(rows[0].tree_size);
  }

  async setTreeSize(size: number, tx: Queryable): Promise<void> {
    await tx.query(SET_SIZE, [size]);
  }

  async lastRecord(address: string, db: Queryable = this.pool): Promise<{ version: number; leafHash: Buffer } | null> {
    const { rows } = await db.query<{ version: number; leaf_hash: Buffer }>(LAST_RECORD, [address]);
    return rows[0] ? { version: rows[0].version, leafHash: rows[0].leaf_hash } : null;
  }

  async insertLeaves(
    leaves: { leafIndex: number; address: string; version: number; record: Buffer; leafHash: Buffer }[],
    tx: Queryable,
  ): Promise<void> {
    if (leaves.length === 0) return;
    await tx.query(INSERT_LEAVES, [
      leaves.map((l) => l.leafIndex),
      leaves.map((l) => l.address),
      leaves.map((l) => l.version),
      leaves.map((l) => l.record),
      leaves.map((l) => l.leafHash),
    ]);
  }

  async insertNodes(nodes: NodeRow[], tx: Queryable): Promise<void> {
    if (nodes.length === 0) return;
    await tx.query(INSERT_NODES, [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)]);
  }

  /** The stored hashes of the given perfect-subtree nodes, keyed `level:index`. */
  async readNodes(keys: { level: number; index: number }[], db: Queryable = this.pool): Promise<Map<string, Buffer>> {
    if (keys.length === 0) return new Map();
    const { rows } = await db.query<{ level: number; idx: string; hash: Buffer }>(READ_NODES, [
      keys.map((k) => k.level),
      keys.map((k) => k.index),
    ]);
    return new Map(rows.map((r) => [`${r.level}:${Number(r.idx)}`, r.hash]));
  }

  async leafByVersion(address: string, version: number, db: Queryable = this.pool): Promise<LeafRow | null> {
    const { rows } = await db.query<{ leaf_index: string; version: number; record: Buffer }>(LEAF_BY_VERSION, [address, version]);
    return rows[0] ? { leafIndex: Number(rows[0].leaf_index), version: rows[0].version, record: rows[0].record } : null;
  }

  /** Every record of `address` in the first `treeSize` leaves, oldest first. */
  async history(address: string, treeSize: number, db: Queryable = this.pool): Promise<LeafRow[]> {
    const { rows } = await db.query<{ leaf_index: string; version: number; record: Buffer }>(HISTORY, [address, treeSize]);
    return rows.map((r) => ({ leafIndex: Number(r.leaf_index), version: r.version, record: r.record }));
  }

  /** Records of `address` logged (committed) at or after leaf `treeSize`: not yet covered by that head. */
  async uncovered(address: string, treeSize: number, db: Queryable = this.pool): Promise<LeafRow[]> {
    const { rows } = await db.query<{ leaf_index: string; version: number; record: Buffer }>(UNCOVERED, [address, treeSize]);
    return rows.map((r) => ({ leafIndex: Number(r.leaf_index), version: r.version, record: r.record }));
  }
}
