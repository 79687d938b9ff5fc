import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { RemoteDelivery } from '@sealpost/contracts';
import { PG_POOL, Queryable } from '@sealpost/db';

const INSERT = `
  INSERT INTO federation.outbox (id, destination, delivery, sender_account_id, sender_device_id, bytes)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::uuid[], $5::smallint[], $6::int[])
  ON CONFLICT (id) DO NOTHING`;
/**
 * One flusher per destination, cluster-wide: a transaction-scoped advisory lock on the
 * destination's name. Postgres drops it at commit or rollback, and when the holder's connection
 * dies (a SIGKILLed gateway), so it can never go stale. A hash collision between two names only
 * makes their flushes take turns.
 */
const TRY_LOCK_DESTINATION = `SELECT pg_try_advisory_xact_lock(hashtext('sealpost.federation.flush'), hashtext($1)) AS locked`;
/**
 * The oldest rows, in order, never skipping one: under the destination lock no other flusher
 * holds them, so waiting (FOR UPDATE without SKIP LOCKED) is brief, and a skipped row would be
 * overtaken by the ones behind it.
 */
const LOCK_OLDEST = `
  SELECT id, delivery, sender_account_id, sender_device_id, created_at FROM federation.outbox
  WHERE destination = $1 ORDER BY created_at, id LIMIT $2 FOR UPDATE`;
const DELETE_IDS = `DELETE FROM federation.outbox WHERE id = ANY($1::uuid[])`;
const HAS_ROWS = `SELECT EXISTS (SELECT 1 FROM federation.outbox WHERE destination = $1) AS any`;
const DESTINATIONS_WITH_ROWS = `SELECT DISTINCT destination FROM federation.outbox`;
const STATS = `
  SELECT destination, count(*)::int AS depth, min(created_at) AS oldest FROM federation.outbox GROUP BY destination`;
const DELETE_DESTINATION = `DELETE FROM federation.outbox WHERE destination = $1`;

export interface OutboxRow {
  id: string;
  delivery: RemoteDelivery;
  senderAccountId: string | null;
  senderDeviceId: number | null;
  createdAt: Date;
}

export interface OutboxEntry {
  destination: string;
  delivery: RemoteDelivery;
  sender?: { accountId: string; deviceId: number };
}

/** What a queued delivery counts against its destination's byte budget: its JSON, as stored. */
export function outboxEntryBytes(entry: OutboxEntry): number {
  return Buffer.byteLength(JSON.stringify(entry.delivery));
}

/** Owner of `federation.outbox`: deliveries to other homeservers not yet accepted by them. */
@Injectable()
export class OutboxRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Inserts rows as they are; the limits are checked by OutboxBacklogRepository.enqueue, the only caller. */
  async add(entries: OutboxEntry[], db: Queryable = this.pool): Promise<void> {
    if (entries.length === 0) return;
    await db.query(INSERT, [
      entries.map((e) => e.delivery.id),
      entries.map((e) => e.destination),
      entries.map((e) => JSON.stringify(e.delivery)),
      entries.map((e) => e.sender?.accountId ?? null),
      entries.map((e) => e.sender?.deviceId ?? null),
      entries.map(outboxEntryBytes),
    ]);
  }

  /**
   * Inside a transaction: true if this transaction is now the destination's only flusher (until
   * it ends); false if another one — here or on another replica — is flushing it.
   */
  async tryLockDestination(destination: string, tx: Queryable): Promise<boolean> {
    const { rows } = await tx.query<{ locked: boolean }>(TRY_LOCK_DESTINATION, [destination]);
    return rows[0].locked;
  }

  /** Inside a transaction holding the destination lock: its oldest rows, locked until commit. */
  async lockOldest(destination: string, limit: number, tx: Queryable): Promise<OutboxRow[]> {
    const { rows } = await tx.query<{
      id: string;
      delivery: RemoteDelivery;
      sender_account_id: string | null;
      sender_device_id: number | null;
      created_at: Date;
    }>(LOCK_OLDEST, [destination, limit]);
    return rows.map((r) => ({
      id: r.id,
      delivery: r.delivery,
      senderAccountId: r.sender_account_id,
      senderDeviceId: r.sender_device_id,
      createdAt: r.created_at,
    }));
  }

  async hasRows(destination: string, db: Queryable = this.pool): Promise<boolean> {
    const { rows } = await db.query<{ any: boolean }>(HAS_ROWS, [destination]);
    return rows[0].any;
  }

  async delete(ids: string[], db: Queryable = this.pool): Promise<void> {
    if (ids.length > 0) await db.query(DELETE_IDS, [ids]);
  }

  async destinations(db: Queryable = this.pool): Promise<string[]> {
    const { rows } = await db.query<{ destination: string }>(DESTINATIONS_WITH_ROWS);
    return rows.map((r) => r.destination);
  }

  async stats(db: Queryable = this.pool): Promise<Map<string, { depth: number; oldest: Date }>> {
    const { rows } = await db.query<{ destination: string; depth: number; oldest: Date }>(STATS);
    return new Map(rows.map((r) => [r.destination, { depth: r.depth, oldest: r.oldest }]));
  }

  async dropDestination(destination: string, db: Queryable = this.pool): Promise<number> {
    const { rowCount } = await db.query(DELETE_DESTINATION, [destination]);
    return rowCount ?? 0;
  }
}
