import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable } from '@sealpost/db';

const PROVE = `
  INSERT INTO federation.proven_peers (server) VALUES ($1)
  ON CONFLICT (server) DO UPDATE SET last_proven_at = now()`;
const LIST = `SELECT server FROM federation.proven_peers ORDER BY server`;
const IS_PROVEN = `SELECT EXISTS (SELECT 1 FROM federation.proven_peers WHERE server = $1) AS proven`;

/** Owner of `federation.proven_peers`: servers that showed they are Sealpost peers (see ProvenPeers). */
@Injectable()
export class ProvenPeersRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async prove(server: string, db: Queryable = this.pool): Promise<void> {
    await db.query(PROVE, [server]);
  }

  async isProven(server: string, db: Queryable = this.pool): Promise<boolean> {
    const { rows } = await db.query<{ proven: boolean }>(IS_PROVEN, [server]);
    return rows[0].proven;
  }

  async all(db: Queryable = this.pool): Promise<string[]> {
    const { rows } = await db.query<{ server: string }>(LIST);
    return rows.map((r) => r.server);
  }
}
