import { RecordKind, StagedClientStore } from '@sealpost/client';
import type { StoreSnapshot } from './load-accounts.types';

/**
 * A client store held in memory that can be handed to another process or written to the
 * accounts file as plain data (`snapshot()`), and revived from it. Nothing is persisted on its
 * own: the load tester decides when a snapshot is kept.
 */
export class SnapshotClientStore extends StagedClientStore {
  constructor(snapshot: StoreSnapshot = {}) {
    super(new Map(Object.entries(snapshot).map(([kind, records]) => [kind as RecordKind, new Map(Object.entries(records))])));
  }

  snapshot(): StoreSnapshot {
    const out: StoreSnapshot = {};
    for (const [kind, records] of this.records) out[kind] = Object.fromEntries(records);
    return out;
  }

  protected async persist(): Promise<void> {
    // memory only; see snapshot()
  }
}
