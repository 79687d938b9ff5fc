import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import type { DatabaseTimeouts } from '@sealpost/config';
import { Pool } from 'pg';
import { UNBOUNDED_STATEMENTS, createPool, ensureDatabase } from './database';
import { MigrationSet, migrateUp } from './migration-runner';
import { PostgresAvailability } from './postgres-availability';

export const PG_POOL = Symbol('PG_POOL');

export interface DatabaseModuleOptions {
  databaseUrl: string;
  poolSize: number;
  applicationName: string;
  /** Bounds on every wait of the service's pool (libs/config `readDatabaseTimeouts`). */
  timeouts: DatabaseTimeouts;
  /** The owning service's schema; pending migrations are applied before the pool is handed out. */
  migrations: MigrationSet;
}

@Injectable()
class PoolCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch((error: Error) => this.logger.warn(`closing the pool failed: ${error.message}`));
  }
}

/** The service's pool (PG_POOL) and what this process knows of Postgres' availability. */
@Global()
@Module({})
export class DatabaseModule {
  static forService(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: PostgresAvailability, useValue: new PostgresAvailability(options.applicationName) },
        {
          provide: PG_POOL,
          inject: [PostgresAvailability],
          useFactory: async (availability: PostgresAvailability) => {
            await ensureDatabase(options.databaseUrl);
            await applyMigrations(options);
            return createPool(options.databaseUrl, options.poolSize, options.applicationName, options.timeouts, availability);
          },
        },
        PoolCloser,
      ],
      exports: [PG_POOL, PostgresAvailability],
    };
  }
}

/** On a pool of its own without statement timeouts: a long migration must not be cut off. */
async function applyMigrations(options: DatabaseModuleOptions): Promise<void> {
  const pool = createPool(options.databaseUrl, 1, `${options.applicationName}-migrate`, {
    ...UNBOUNDED_STATEMENTS,
    connectTimeoutMs: options.timeouts.connectTimeoutMs,
  });
  try {
    const applied = await migrateUp(pool, options.migrations);
    if (applied.length > 0) {
      new Logger('Database').log(`schema ${options.migrations.schema}: applied ${applied.join(', ')}`);
    }
  } finally {
    await pool.end();
  }
}
