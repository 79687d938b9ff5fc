import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable, namedStatement, queryNamed } from '@sealpost/db';

/**
 * Takes `count` sequence numbers per device under the device row's lock. Input rows are sorted
 * by the caller, so concurrent batches lock rows in one order and cannot deadlock.
 */
const ALLOCATE_SEQS = namedStatement(
  'relay.queues.allocate',
  `
  INSERT INTO relay.device_queues AS q (account_id, device_id, next_seq)
  SELECT a.account_id, a.device_id, a.count + 1 FROM unnest($1::uuid[], $2::smallint[], $3::int[]) AS a (account_id, device_id, count)
  ON CONFLICT (account_id, device_id) DO UPDATE SET next_seq = q.next_seq + EXCLUDED.next_seq - 1
  RETURNING account_id, device_id, next_seq`,
);
const INSERT_ENVELOPES = namedStatement(
  'relay.envelopes.insert',
  `
  INSERT INTO relay.envelopes (account_id, device_id, seq, id, type, source, source_device, client_timestamp, server_timestamp, content)
  SELECT * FROM unnest($1::uuid[], $2::smallint[], $3::bigint[], $4::uuid[], $5::smallint[], $6::text[], $7::smallint[], $8::bigint[], $9::bigint[], $10::bytea[])`,
);
const FETCH_AFTER = namedStatement(
  'relay.envelopes.fetch-after',
  `
  SELECT seq, id, type, source, source_device, client_timestamp, server_timestamp, content
  FROM relay.envelopes WHERE account_id = $1 AND device_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
);
const DELETE_ACKED = namedStatement(
  'relay.envelopes.delete-acked',
  `
  DELETE FROM relay.envelopes e USING unnest($1::uuid[], $2::smallint[], $3::uuid[]) AS a (account_id, device_id, id)
  WHERE e.account_id = a.account_id AND e.device_id = a.device_id AND e.id = a.id`,
);
/** Upper bound of unacked envelopes per device: next seq − oldest queued seq (O(1) on the primary key). */
const QUEUE_DEPTHS = namedStatement(
  'relay.queues.depths',
  `
  SELECT q.device_id, q.next_seq - coalesce(
    (SELECT e.seq FROM relay.envelopes e WHERE e.account_id = q.account_id AND e.device_id = q.device_id ORDER BY e.seq LIMIT 1),
    q.next_seq) AS depth
  FROM relay.device_queues q WHERE q.account_id = $1`,
);
const DELETE_DEVICE_ENVELOPES = `DELETE FROM relay.envelopes WHERE account_id = $1 AND device_id = $2`;
const DELETE_DEVICE_QUEUE = `DELETE FROM relay.device_queues WHERE account_id = $1 AND device_id = $2`;
const EXPIRE_OLDER_THAN = `
  DELETE FROM relay.envelopes WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM relay.envelopes WHERE server_timestamp < $1 LIMIT $2))`;

export interface NewEnvelope {
  accountId: string;
  deviceId: number;
  id: string;
  type: number;
  source: string | null;
  sourceDevice: number | null;
  clientTimestamp: number;
  serverTimestamp: number;
  content: Buffer;
}

export interface StoredEnvelope extends Omit<NewEnvelope, 'accountId' | 'deviceId'> {
  seq: number;
}

interface EnvelopeRow {
  seq: string;
  id: string;
  type: number;
  source: string | null;
  source_device: number | null;
  client_timestamp: string;
  server_timestamp: string;
  content: Buffer;
}

/** Owner of `relay.envelopes` and `relay.device_queues`: the durable per-device queues. */
@Injectable()
export class MessagesStore {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Appends envelopes inside the caller's transaction; returns each envelope's seq, in input order. */
  async append(envelopes: NewEnvelope[], tx: Queryable): Promise<number[]> {
    if (envelopes.length === 0) return [];
    const perDevice = new Map<string, { accountId: string; deviceId: number; count: number }>();
    for (const e of envelopes) {
      const key = `${e.accountId}/${e.deviceId}`;
      const entry = perDevice.get(key) ?? { accountId: e.accountId, deviceId: e.deviceId, count: 0 };
      entry.count += 1;
      perDevice.set(key, entry);
    }
    const devices = [...perDevice.values()].sort((a, b) =>
      a.accountId === b.accountId ? a.deviceId - b.deviceId : a.accountId < b.accountId ? -1 : 1,
    );
    const { rows } = await queryNamed<{ account_id: string; device_id: number; next_seq: string }>(tx, ALLOCATE_SEQS, [
      devices.map((d) => d.accountId),
      devices.map((d) => d.deviceId),
      devices.map((d) => d.count),
    ]);
    // next_seq is now one past this batch's range: the range starts `count` below it.
    const nextSeq = new Map(
      rows.map((r) => {
        const key = `${r.account_id}/${r.device_id}`;
        return [key, Number(r.next_seq) - (perDevice.get(key)?.count ?? 0)];
      }),
    );
    const seqs = envelopes.map((e) => {
      const key = `${e.accountId}/${e.deviceId}`;
      const seq = nextSeq.get(key) as number;
      nextSeq.set(key, seq + 1);
      return seq;
    });
    await queryNamed(tx, INSERT_ENVELOPES, [
      envelopes.map((e) => e.accountId),
      envelopes.map((e) => e.deviceId),
      seqs,
      envelopes.map((e) => e.id),
      envelopes.map((e) => e.type),
      envelopes.map((e) => e.source),
      envelopes.map((e) => e.sourceDevice),
      envelopes.map((e) => e.clientTimestamp),
      envelopes.map((e) => e.serverTimestamp),
      envelopes.map((e) => e.content),
    ]);
    return seqs;
  }

  /** The device's envelopes after `afterSeq`, oldest first. */
  async fetchAfter(
    accountId: string,
    deviceId: number,
    afterSeq: number,
    limit: number,
    db: Queryable = this.pool,
  ): Promise<StoredEnvelope[]> {
    const { rows } = await queryNamed<EnvelopeRow>(db, FETCH_AFTER, [accountId, deviceId, afterSeq, limit]);
    return rows.map((r) => ({
      seq: Number(r.seq),
      id: r.id,
      type: r.type,
      source: r.source,
      sourceDevice: r.source_device,
      clientTimestamp: Number(r.client_timestamp),
      serverTimestamp: Number(r.server_timestamp),
      content: r.content,
    }));
  }

  /** Deletes acknowledged envelopes; an id is only ever deleted from its own device's queue. */
  async deleteAcked(acks: { accountId: string; deviceId: number; id: string }[], db: Queryable = this.pool): Promise<number> {
    if (acks.length === 0) return 0;
    const { rowCount } = await queryNamed(db, DELETE_ACKED, [
      acks.map((a) => a.accountId),
      acks.map((a) => a.deviceId),
      acks.map((a) => a.id),
    ]);
    return rowCount ?? 0;
  }

  async queueDepths(accountId: string, db: Queryable = this.pool): Promise<Map<number, number>> {
    const { rows } = await queryNamed<{ device_id: number; depth: string }>(db, QUEUE_DEPTHS, [accountId]);
    return new Map(rows.map((r) => [r.device_id, Number(r.depth)]));
  }

  async deleteDevice(accountId: string, deviceId: number, db: Queryable = this.pool): Promise<number> {
    const { rowCount } = await db.query(DELETE_DEVICE_ENVELOPES, [accountId, deviceId]);
    await db.query(DELETE_DEVICE_QUEUE, [accountId, deviceId]);
    return rowCount ?? 0;
  }

  /** Deletes up to `limit` envelopes stored before `cutoffMs`; returns how many. */
  async expireOlderThan(cutoffMs: number, limit: number, db: Queryable = this.pool): Promise<number> {
    const { rowCount } = await db.query(EXPIRE_OLDER_THAN, [cutoffMs, limit]);
    return rowCount ?? 0;
  }
}
