import { FileClientStore, SealpostClient } from '@sealpost/client';
import type { GlobalOptions } from './global-options';
import { StateLock } from './state-lock';
import { UsageError } from './command';

/**
 * Runs `work` with this state directory's device (or, for register/link, with its empty store),
 * holding the directory's lock, and closes the client and releases the lock whatever happens.
 */
export async function withStore<T>(global: GlobalOptions, work: (store: FileClientStore) => Promise<T>): Promise<T> {
  const lock = StateLock.acquire(global.state);
  try {
    const store = await FileClientStore.open(global.state);
    try {
      return await work(store);
    } finally {
      await store.close().catch(() => undefined);
    }
  } finally {
    lock.release();
  }
}

export async function withDevice<T>(global: GlobalOptions, work: (client: SealpostClient) => Promise<T>): Promise<T> {
  return withStore(global, async (store) => {
    const client = await SealpostClient.open({ store, servers: global.servers });
    try {
      return await work(client);
    } finally {
      await client.disconnect().catch(() => undefined);
    }
  });
}

export function requireServer(global: GlobalOptions, command: string): string {
  if (!global.server) throw new UsageError(`${command} needs --server URL-or-name`);
  return global.server;
}
