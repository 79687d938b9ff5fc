import { Controller, Get, Inject } from '@nestjs/common';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { PG_POOL } from '@sealpost/db';
import { ApiError } from './api-error';
import { REDIS } from '@sealpost/redis';

/** Liveness and readiness for orchestrators: 200 when Postgres and Redis answer, else 503. */
@Controller('healthz')
export class HealthController {
  constructor(@Inject(PG_POOL) private readonly pool: Pool, @Inject(REDIS) private readonly redis: Redis) {}

  @Get()
  async check(): Promise<{ status: 'ok' }> {
    const [pg, redis] = await Promise.allSettled([this.pool.query('SELECT 1'), this.redis.ping()]);
    if (pg.status === 'rejected' || redis.status === 'rejected') {
      throw new ApiError(503, 'unavailable', `${pg.status === 'rejected' ? 'postgres ' : ''}${redis.status === 'rejected' ? 'redis' : ''}`.trim() + ' unreachable');
    }
    return { status: 'ok' };
  }
}
