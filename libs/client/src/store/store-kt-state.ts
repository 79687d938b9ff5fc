import type { SignedTreeHead } from '@sealpost/transparency';
import type { KtStateStore, PendingMark } from '../kt-state.store';
import type { ClientStore } from './client-store';

/** The key-transparency state (kept heads, checked versions, pending marks) inside a ClientStore. */
export class ClientStoreKtState implements KtStateStore {
  constructor(private readonly store: ClientStore) {}

  async lastHead(server: string): Promise<SignedTreeHead | null> {
    const text = await this.store.get('kt', `head:${server}`);
    return text === undefined ? null : (JSON.parse(text) as SignedTreeHead);
  }

  saveHead(head: SignedTreeHead): Promise<void> {
    return this.store.set('kt', `head:${head.server}`, JSON.stringify(head));
  }

  async lastCheckedVersion(address: string): Promise<number> {
    return Number((await this.store.get('kt', `checked:${address}`)) ?? 0);
  }

  saveCheckedVersion(address: string, version: number): Promise<void> {
    return this.store.set('kt', `checked:${address}`, String(version));
  }

  async pendingSince(address: string): Promise<PendingMark | null> {
    const text = await this.store.get('kt', `pending:${address}`);
    return text === undefined ? null : (JSON.parse(text) as PendingMark);
  }

  async savePendingSince(address: string, mark: PendingMark | null): Promise<void> {
    if (mark) await this.store.set('kt', `pending:${address}`, JSON.stringify(mark));
    else await this.store.delete('kt', `pending:${address}`);
  }
}
