import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { RelayConfig } from '@sealpost/config';
import { GroupCommitBatcher, PG_POOL, withTransaction } from '@sealpost/db';
import { RELAY_CONFIG } from '../relay.tokens';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { MessagesStore, NewEnvelope } from './messages-store.repository';

export interface PersistRequest {
  envelopes: NewEnvelope[];
  /** The answer to give, stored with the idempotency key so a retry gets it again. */
  response: unknown;
  idempotency?: { scope: string; key: string };
}

export type PersistResult = { stored: true; seqs: number[] } | { stored: false; previousResponse: unknown };

/**
 * Makes sends durable with group commit: the envelopes of many concurrent sends go into one
 * Postgres transaction, and each send is answered only after that transaction has committed.
 * A send whose Idempotency-Key was seen before stores nothing and gets the first answer.
 */
@Injectable()
export class EnvelopePersister {
  private readonly batcher: GroupCommitBatcher<PersistRequest, PersistResult>;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(RELAY_CONFIG) config: RelayConfig,
    private readonly store: MessagesStore,
    private readonly idempotencyKeys: IdempotencyKeysRepository,
  ) {
    this.batcher = new GroupCommitBatcher({
      maxBatch: config.groupCommitMaxBatch,
      maxWaitMs: config.groupCommitMaxWaitMs,
      maxConcurrentCommits: Math.min(config.groupCommitMaxConcurrent, Math.max(1, config.dbPoolSize - 1)),
      commit: (requests) => this.commit(requests),
    });
  }

  persist(request: PersistRequest): Promise<PersistResult> {
    return this.batcher.submit(request);
  }

  private async commit(requests: PersistRequest[]): Promise<PersistResult[]> {
    const keyOf = (r: PersistRequest) => (r.idempotency ? `${r.idempotency.scope}\n${r.idempotency.key}` : null);
    const firstWithKey = new Map<string, number>();
    requests.forEach((r, i) => {
      const key = keyOf(r);
      if (key && !firstWithKey.has(key)) firstWithKey.set(key, i);
    });
    const outcome = await withTransaction(this.pool, async (tx) => {
      const claims = [...firstWithKey.values()].map((i) => ({ ...requests[i].idempotency!, response: requests[i].response }));
      const fresh = await this.idempotencyKeys.claim(claims, tx);
      const storing = requests.map((r, i) => {
        const key = keyOf(r);
        return key === null || (fresh.has(key) && firstWithKey.get(key) === i);
      });
      const envelopes = requests.flatMap((r, i) => (storing[i] ? r.envelopes : []));
      const seqs = await this.store.append(envelopes, tx);
      return { storing, seqs };
    });
    let offset = 0;
    const results: PersistResult[] = [];
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i];
      if (outcome.storing[i]) {
        results.push({ stored: true, seqs: outcome.seqs.slice(offset, offset + r.envelopes.length) });
        offset += r.envelopes.length;
      } else {
        const previous = await this.idempotencyKeys.findResponse(r.idempotency!.scope, r.idempotency!.key);
        results.push({ stored: false, previousResponse: previous ?? r.response });
      }
    }
    return results;
  }
}
