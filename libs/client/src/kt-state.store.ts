import type { SignedTreeHead } from '@sealpost/transparency';

/** Where a client keeps what it has verified, across restarts: FileKtStateStore, or an app's own storage. */
export interface KtStateStore {
  lastHead(server: string): Promise<SignedTreeHead | null>;
  saveHead(head: SignedTreeHead): Promise<void>;
  lastCheckedVersion(address: string): Promise<number>;
  saveCheckedVersion(address: string, version: number): Promise<void>;
  /**
   * Optional: since when (this client's clock) `address` has had `version` logged but not covered
   * by a signed head. Implement it so the bound on pending records (`maxPendingMs`) survives a
   * restart; without it the client keeps the marks in memory.
   */
  pendingSince?(address: string): Promise<PendingMark | null>;
  savePendingSince?(address: string, mark: PendingMark | null): Promise<void>;
}

/** The first unproven version of an address and when this client first saw it pending. */
export interface PendingMark {
  version: number;
  sinceMs: number;
}

/** For tests and short-lived tools: forgets everything when the process ends. */
export class MemoryKtStateStore implements KtStateStore {
  private readonly heads = new Map<string, SignedTreeHead>();
  private readonly versions = new Map<string, number>();
  private readonly pending = new Map<string, PendingMark>();

  async lastHead(server: string): Promise<SignedTreeHead | null> {
    return this.heads.get(server) ?? null;
  }

  async saveHead(head: SignedTreeHead): Promise<void> {
    this.heads.set(head.server, head);
  }

  async lastCheckedVersion(address: string): Promise<number> {
    return this.versions.get(address) ?? 0;
  }

  async saveCheckedVersion(address: string, version: number): Promise<void> {
    this.versions.set(address, version);
  }

  async pendingSince(address: string): Promise<PendingMark | null> {
    return this.pending.get(address) ?? null;
  }

  async savePendingSince(address: string, mark: PendingMark | null): Promise<void> {
    if (mark) this.pending.set(address, mark);
    else this.pending.delete(address);
  }
}
