import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { createPool, ensureDatabase } from './database';
import { MigrationSet, migrateUp } from './migration-runner';

export const PG_POOL = Symbol('PG_POOL');

export interface DatabaseModuleOptions {
  databaseUrl: string;
  poolSize: number;
  applicationName: string;
  /** The owning service's schema; pending migrations are applied before the pool is handed out. */
  migrations: MigrationSet;
}

@Injectable()
class PoolCloser implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forService(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: PG_POOL,
          useFactory: async () => {
            await ensureDatabase(options.databaseUrl);
            const pool = createPool(options.databaseUrl, options.poolSize, options.applicationName);
            const applied = await migrateUp(pool, options.migrations);
            if (applied.length > 0) {
              new Logger('Database').log(`schema ${options.migrations.schema}: applied ${applied.join(', ')}`);
            }
            return pool;
          },
        },
        PoolCloser,
      ],
      exports: [PG_POOL],
    };
  }
}
