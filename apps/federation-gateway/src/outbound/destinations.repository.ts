import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

const RECORD_FAILURE = `
  INSERT INTO federation.destinations (destination, failures, next_attempt_at, last_attempt_at, last_error)
  VALUES ($1, 1, now() + make_interval(secs => $2::double precision / 1000), now(), $3)
  ON CONFLICT (destination) DO UPDATE SET failures = federation.destinations.failures + 1,
    next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), last_attempt_at = now(), last_error = $3
  RETURNING failures`;
const FAILURES = `SELECT failures FROM federation.destinations WHERE destination = $1`;
const RECORD_SUCCESS = `
  INSERT INTO federation.destinations (destination, failures, next_attempt_at, last_attempt_at, last_error)
  VALUES ($1, 0, now(), now(), NULL)
  ON CONFLICT (destination) DO UPDATE SET failures = 0, next_attempt_at = now(), last_attempt_at = now(), last_error = NULL`;
const DUE = `SELECT destination FROM federation.destinations WHERE next_attempt_at <= now()`;
const ALL = `SELECT destination, failures, next_attempt_at, last_attempt_at, last_error FROM federation.destinations ORDER BY destination`;
const RESET = `DELETE FROM federation.destinations WHERE destination = $1`;

export interface DestinationState { destination: string; failures: number; nextAttemptAt: Date; lastAttemptAt: Date | null; lastError: string | null }

/** Owner of `federation.destinations`: per-peer backoff, persisted so restarts keep it. */
@Injectable()
export class DestinationsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async failures(destination: string, db: Queryable = this.pool): Promise<number> {
    const { rows } = await db.query<{ failures: number }>(FAILURES, [destination]);
    return rows[0]?.failures ?? 0;
  }

  async recordFailure(destination: string, retryInMs: number, error: string, db: Queryable = this.pool): Promise<void> {
    await db.query(RECORD_FAILURE, [destination, retryInMs, error.slice(0, 500)]);
  }

  async recordSuccess(destination: string, db: Queryable = this.pool): Promise<void> {
    await db.query(RECORD_SUCCESS, [destination]);
  }

  async due(db: Queryable = this.pool): Promise<Set<string>> {
    const { rows } = await db.query<{ destination: string }>(DUE);
    return new Set(rows.map((r) => r.destination));
  }

  async all(db: Queryable = this.pool): Promise<DestinationState[]> {
    const { rows } = await db.query<{ destination: string; failures: number; next_attempt_at: Date; last_attempt_at: Date | null; last_error: string | null }>(ALL);
    return rows.map((r) => ({ destination: r.destination, failures: r.failures, nextAttemptAt: r.next_attempt_at, lastAttemptAt: r.last_attempt_at, lastError: r.last_error }));
  }

  async reset(destination: string, db: Queryable = this.pool): Promise<void> {
    await db.query(RESET, [destination]);
  }
}
