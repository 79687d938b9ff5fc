import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable, namedStatement, queryNamed } from '@sealpost/db';

const CLAIM_KEYS = namedStatement(
  'relay.idempotency.claim',
  `
  INSERT INTO relay.idempotency_keys (scope, key, response)
  SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
  ON CONFLICT (scope, key) DO NOTHING
  RETURNING scope, key`,
);
const FIND_RESPONSE = `SELECT response FROM relay.idempotency_keys WHERE scope = $1 AND key = $2`;
const PURGE_OLDER_THAN = `DELETE FROM relay.idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`;

export interface IdempotencyClaim {
  scope: string;
  key: string;
  response: unknown;
}

/** Owner of `relay.idempotency_keys`: the first answer of each (sender scope, Idempotency-Key). */
@Injectable()
export class IdempotencyKeysRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Records keys with their answers inside the caller's transaction. Returns the set of
   * `scope\nkey` that were new; a key already there (or being written by a concurrent
   * transaction, which this waits for) is a retry.
   */
  async claim(claims: IdempotencyClaim[], tx: Queryable): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const { rows } = await queryNamed<{ scope: string; key: string }>(tx, CLAIM_KEYS, [
      claims.map((c) => c.scope),
      claims.map((c) => c.key),
      claims.map((c) => JSON.stringify(c.response)),
    ]);
    return new Set(rows.map((r) => `${r.scope}\n${r.key}`));
  }

  async findResponse(scope: string, key: string, db: Queryable = this.pool): Promise<unknown | null> {
    const { rows } = await db.query<{ response: unknown }>(FIND_RESPONSE, [scope, key]);
    return rows[0]?.response ?? null;
  }

  async purgeOlderThan(seconds: number, db: Queryable = this.pool): Promise<number> {
    const { rowCount } = await db.query(PURGE_OLDER_THAN, [seconds]);
    return rowCount ?? 0;
  }
}
