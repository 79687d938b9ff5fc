import { KtRecord, SignedTreeHead, decodeKtRecord, leafHash } from '@sealpost/transparency';
import type { KtStateStore, PendingMark } from './kt-state.store';

/** A record the directory shows logged at `leafIndex` but not yet covered by the head it served: unproven. */
export interface PendingRecord {
  record: KtRecord;
  leafIndex: number;
  leaf: string;
}

/** As `GET /v1/kt/history/{address}` lists them. */
export interface ServedLeaf {
  leafIndex: number;
  version: number;
  leaf: string;
}

const b64 = (s: string) => Buffer.from(s, 'base64');

/**
 * The directory's uncovered records of `address` that continue its proven history exactly: each
 * beyond the head, the next version, chained by `prevHash` to the one before. If any does not, none
 * counts (a directory that serves a broken chain gets no benefit of the doubt).
 */
export function continuingPendingRecords(
  address: string,
  head: SignedTreeHead,
  lastProven: { record: KtRecord; leaf: string } | undefined,
  served: ServedLeaf[] | undefined,
): PendingRecord[] {
  const out: PendingRecord[] = [];
  let previous = lastProven
    ? { version: lastProven.record.version, hash: leafHash(b64(lastProven.leaf)).toString('base64'), leafIndex: head.treeSize - 1 }
    : null;
  for (const entry of served ?? []) {
    if (typeof entry?.leaf !== 'string' || !Number.isInteger(entry.leafIndex)) return [];
    const record = decodeKtRecord(b64(entry.leaf));
    const follows =
      record &&
      record.address === address &&
      entry.leafIndex >= head.treeSize &&
      record.version === (previous?.version ?? 0) + 1 &&
      record.prevHash === (previous?.hash ?? null) &&
      (!previous || entry.leafIndex > previous.leafIndex);
    if (!follows) return [];
    out.push({ record, leafIndex: entry.leafIndex, leaf: entry.leaf });
    previous = { version: record.version, hash: leafHash(b64(entry.leaf)).toString('base64'), leafIndex: entry.leafIndex };
  }
  return out;
}

/**
 * How long this client lets an address's records stay pending. The clock is the client's own and
 * starts when it first sees the address's first unproven version pending, so a directory cannot
 * reset it with fresh timestamps or new pending records: the episode ends only when that version
 * is proven. Kept in the KtStateStore when it implements `pendingSince` (across restarts), else in
 * memory.
 */
export class PendingWindow {
  private readonly memory = new Map<string, PendingMark>();

  constructor(
    private readonly store: KtStateStore,
    private readonly maxPendingMs: number,
    private readonly now: () => number,
  ) {}

  /** Whether `address` may still be pending with `firstUnprovenVersion` unproven, and since when. */
  async admit(address: string, firstUnprovenVersion: number): Promise<{ admitted: boolean; sinceMs: number }> {
    let mark = await this.read(address);
    if (!mark || mark.version !== firstUnprovenVersion) {
      mark = { version: firstUnprovenVersion, sinceMs: this.now() };
      await this.write(address, mark);
    }
    return { admitted: this.now() - mark.sinceMs <= this.maxPendingMs, sinceMs: mark.sinceMs };
  }

  /** Everything served for `address` was proven: a later pending episode starts afresh. */
  async clear(address: string): Promise<void> {
    if (await this.read(address)) await this.write(address, null);
  }

  private async read(address: string): Promise<PendingMark | null> {
    return this.store.pendingSince ? this.store.pendingSince(address) : (this.memory.get(address) ?? null);
  }

  private async write(address: string, mark: PendingMark | null): Promise<void> {
    if (this.store.savePendingSince) return this.store.savePendingSince(address, mark);
    if (mark) this.memory.set(address, mark);
    else this.memory.delete(address);
  }
}
