import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable, withTransaction } from '@sealpost/db';
import { OutboxEntry, OutboxRepository, outboxEntryBytes } from './outbox.repository';

/** The destination's backlog row, locked so concurrent enqueues for it take turns on the byte budget. */
const LOCK_BACKLOG = `SELECT bytes::float8 AS bytes FROM federation.outbox_backlog WHERE destination = $1 FOR UPDATE`;
/** Creating destinations takes turns cluster-wide, so two replicas cannot both take the last one of the hour. */
const LOCK_NEW_DESTINATIONS = `SELECT pg_advisory_xact_lock(hashtext('sealpost.federation.new-destination'))`;
/** Backlog rows idle (nothing queued) for over an hour are forgotten: the table stays as small as the hourly cap allows. */
const FORGET_IDLE = `DELETE FROM federation.outbox_backlog WHERE bytes = 0 AND created_at < now() - interval '1 hour'`;
const CREATED_LAST_HOUR = `
  SELECT count(*)::int AS n, coalesce(ceil(extract(epoch FROM min(created_at) + interval '1 hour' - now())), 0)::int AS wait_s
  FROM federation.outbox_backlog WHERE created_at > now() - interval '1 hour'`;
/** A peer whose signing keys are pinned has answered a signed request before: not a stranger. */
const KNOWN_PEER = `SELECT EXISTS (SELECT 1 FROM federation.peer_keys WHERE server = $1) AS known`;
const CREATE_BACKLOG = `INSERT INTO federation.outbox_backlog (destination) VALUES ($1) ON CONFLICT (destination) DO NOTHING`;

export interface OutboxLimits {
  maxBytesPerDestination: number;
  newDestinationsPerHour: number;
}

export type EnqueueRefusal = { reason: 'outbox_full' } | { reason: 'too_many_destinations'; retryAfterSeconds: number };

/**
 * Owner of `federation.outbox_backlog`: what each destination has queued (kept by triggers on
 * the outbox) and when its backlog row was created. `enqueue` is the only way into the outbox:
 * in one transaction it checks the destination's bytes and, for a destination without a backlog
 * row, the hourly cap on new ones, then inserts what fits — so neither bound can be raced past
 * by concurrent requests or replicas.
 */
@Injectable()
export class OutboxBacklogRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly outbox: OutboxRepository,
  ) {}

  /**
   * Queues the longest prefix of `entries` (all for `destination`) that fits its byte budget, so
   * order is kept; `refusal` says why the rest, if any, was not queued.
   */
  enqueue(destination: string, entries: OutboxEntry[], limits: OutboxLimits): Promise<{ queued: number; refusal: EnqueueRefusal | null }> {
    return withTransaction(this.pool, async (tx) => {
      let queuedBytes = await this.lockBacklog(destination, tx);
      if (queuedBytes === null) {
        const refusal = await this.createBacklog(destination, limits.newDestinationsPerHour, tx);
        if (refusal) return { queued: 0, refusal };
        queuedBytes = (await this.lockBacklog(destination, tx)) ?? 0;
      }
      let fits = 0;
      for (const entry of entries) {
        queuedBytes += outboxEntryBytes(entry);
        if (queuedBytes > limits.maxBytesPerDestination) break;
        fits += 1;
      }
      await this.outbox.add(entries.slice(0, fits), tx);
      return { queued: fits, refusal: fits < entries.length ? { reason: 'outbox_full' as const } : null };
    });
  }

  private async lockBacklog(destination: string, tx: Queryable): Promise<number | null> {
    const { rows } = await tx.query<{ bytes: number }>(LOCK_BACKLOG, [destination]);
    return rows.length ? rows[0].bytes : null;
  }

  /** A backlog row for a destination that has none: refused past the hourly cap, unless the peer is known. */
  private async createBacklog(destination: string, perHour: number, tx: Queryable): Promise<EnqueueRefusal | null> {
    await tx.query(LOCK_NEW_DESTINATIONS);
    await tx.query(FORGET_IDLE);
    const known = (await tx.query<{ known: boolean }>(KNOWN_PEER, [destination])).rows[0].known;
    if (!known) {
      const { n, wait_s } = (await tx.query<{ n: number; wait_s: number }>(CREATED_LAST_HOUR)).rows[0];
      if (n >= perHour) return { reason: 'too_many_destinations', retryAfterSeconds: Math.max(1, wait_s) };
    }
    await tx.query(CREATE_BACKLOG, [destination]);
    return null;
  }
}
