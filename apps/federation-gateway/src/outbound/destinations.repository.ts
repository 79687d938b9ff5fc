import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

/**
 * One failed attempt per attempt window: a failure counts (and pushes `next_attempt_at` out by the
 * jittered backoff of the new count) only when the window it failed in was open, i.e. the
 * destination was due. Failures of attempts that overlapped — concurrent batches, another
 * replica, a late timeout — land inside the window the first one opened and count nothing; they
 * only respect a longer Retry-After. One statement, so concurrent failures cannot both count.
 * $2 base ms, $3 max ms, $4 Retry-After ms (0 if none), $5 error.
 */
const RECORD_FAILED_ATTEMPT = `
  INSERT INTO federation.destinations AS d (destination, failures, next_attempt_at, last_attempt_at, last_error)
  VALUES ($1, 1, now() + make_interval(secs => greatest(least($3::double precision, $2::double precision) * (0.5 + random() / 2), $4::double precision) / 1000), now(), $5)
  ON CONFLICT (destination) DO UPDATE SET
    failures = CASE WHEN d.next_attempt_at <= now() THEN d.failures + 1 ELSE d.failures END,
    next_attempt_at = CASE
      WHEN d.next_attempt_at <= now() THEN now() + make_interval(secs =>
        greatest(least($3::double precision, $2::double precision * 2 ^ least(d.failures, 30)) * (0.5 + random() / 2), $4::double precision) / 1000)
      ELSE greatest(d.next_attempt_at, now() + make_interval(secs => $4::double precision / 1000)) END,
    last_attempt_at = now(), last_error = $5
  RETURNING failures, next_attempt_at, greatest(0, extract(epoch FROM next_attempt_at - now()) * 1000)::double precision AS retry_in_ms`;
const RECORD_SUCCESS = `
  INSERT INTO federation.destinations (destination, failures, next_attempt_at, last_attempt_at, last_error)
  VALUES ($1, 0, now(), now(), NULL)
  ON CONFLICT (destination) DO UPDATE SET failures = 0, next_attempt_at = now(), last_attempt_at = now(), last_error = NULL`;
const DUE = `SELECT destination FROM federation.destinations WHERE next_attempt_at <= now()`;
const ALL = `SELECT destination, failures, next_attempt_at, last_attempt_at, last_error FROM federation.destinations ORDER BY destination`;
const RESET = `DELETE FROM federation.destinations WHERE destination = $1`;

/** Jittered exponential backoff: base·2^(failures-1), at most max, halved at random (jitter), never sooner than Retry-After. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  retryAfterSeconds: number | null;
}
export interface AttemptWindow {
  failures: number;
  nextAttemptAt: Date;
  retryInMs: number;
}

export interface DestinationState {
  destination: string;
  failures: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastError: string | null;
}

/** Owner of `federation.destinations`: per-peer backoff, persisted so restarts keep it. */
@Injectable()
export class DestinationsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Records a failed attempt (counted once per attempt window, see RECORD_FAILED_ATTEMPT); returns the window now open. */
  async recordFailedAttempt(destination: string, backoff: Backoff, error: string, db: Queryable = this.pool): Promise<AttemptWindow> {
    const { rows } = await db.query<{ failures: number; next_attempt_at: Date; retry_in_ms: number }>(RECORD_FAILED_ATTEMPT, [
      destination,
      backoff.baseMs,
      backoff.maxMs,
      (backoff.retryAfterSeconds ?? 0) * 1000,
      error.slice(0, 500),
    ]);
    return { failures: rows[0].failures, nextAttemptAt: rows[0].next_attempt_at, retryInMs: rows[0].retry_in_ms };
  }

  async recordSuccess(destination: string, db: Queryable = this.pool): Promise<void> {
    await db.query(RECORD_SUCCESS, [destination]);
  }

  async due(db: Queryable = this.pool): Promise<Set<string>> {
    const { rows } = await db.query<{ destination: string }>(DUE);
    return new Set(rows.map((r) => r.destination));
  }

  async all(db: Queryable = this.pool): Promise<DestinationState[]> {
    const { rows } = await db.query<{
      destination: string;
      failures: number;
      next_attempt_at: Date;
      last_attempt_at: Date | null;
      last_error: string | null;
    }>(ALL);
    return rows.map((r) => ({
      destination: r.destination,
      failures: r.failures,
      nextAttemptAt: r.next_attempt_at,
      lastAttemptAt: r.last_attempt_at,
      lastError: r.last_error,
    }));
  }

  async reset(destination: string, db: Queryable = this.pool): Promise<void> {
    await db.query(RESET, [destination]);
  }
}
