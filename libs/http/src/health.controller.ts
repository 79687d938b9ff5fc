import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { PG_POOL, PostgresAvailability } from '@sealpost/db';
import { REDIS } from '@sealpost/redis';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { ApiError, UNAVAILABLE_RETRY_AFTER_SECONDS } from './api-error';
import { HEALTH_OPTIONS, HealthOptions, ReadinessCheck, withinMs } from './readiness';

const DEFAULT_OPTIONS: HealthOptions = { timeoutMs: 800, checks: [] };

/**
 * For orchestrators. `GET /healthz` is readiness — able to serve: 200 only when Postgres and
 * Redis answer and every check of the service (e.g. the relay's bus round trip to the
 * directory) passes, each within `timeoutMs`, so it answers within about that bound even when a
 * dependency hangs; else 503 naming what is not ready. `GET /healthz/live` is liveness: 200
 * whenever the process serves HTTP at all — a dependency outage must not get it restarted.
 */
@Controller('healthz')
export class HealthController {
  private readonly checks: ReadinessCheck[];
  private readonly timeoutMs: number;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly postgres: PostgresAvailability,
    @Optional() @Inject(HEALTH_OPTIONS) options: HealthOptions | null,
  ) {
    const { timeoutMs, checks } = options ?? DEFAULT_OPTIONS;
    this.timeoutMs = timeoutMs;
    this.checks = [{ name: 'postgres', ready: () => this.checkPostgres() }, { name: 'redis', ready: () => this.redis.ping() }, ...checks];
  }

  @Get()
  async ready(): Promise<{ status: 'ok' }> {
    const outcomes = await Promise.all(
      this.checks.map((check) =>
        withinMs(check.ready(), this.timeoutMs, check.name).then(
          () => null,
          () => check.name,
        ),
      ),
    );
    const failing = outcomes.filter((name): name is string => name !== null);
    if (failing.length > 0) {
      throw new ApiError(
        503,
        'unavailable',
        `not ready: ${failing.join(', ')}`,
        {},
        { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      );
    }
    return { status: 'ok' };
  }

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  private async checkPostgres(): Promise<void> {
    try {
      await withinMs(this.pool.query('SELECT 1'), this.timeoutMs, 'postgres');
      this.postgres.noteAvailable();
    } catch (error) {
      this.postgres.noteUnavailable(error);
      throw error;
    }
  }
}
