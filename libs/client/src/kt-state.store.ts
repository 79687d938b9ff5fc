import type { SignedTreeHead } from '@sealpost/transparency';

/** Where a client keeps what it has verified, across restarts: FileKtStateStore, or an app's own storage. */
export interface KtStateStore {
  lastHead(server: string): Promise<SignedTreeHead | null>;
  saveHead(head: SignedTreeHead): Promise<void>;
  lastCheckedVersion(address: string): Promise<number>;
  saveCheckedVersion(address: string, version: number): Promise<void>;
}

/** For tests and short-lived tools: forgets everything when the process ends. */
export class MemoryKtStateStore implements KtStateStore {
  private readonly heads = new Map<string, SignedTreeHead>();
  private readonly versions = new Map<string, number>();

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
}
