import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SignedTreeHead } from '@sealpost/transparency';
import type { KtStateStore, PendingMark } from './kt-state.store';

interface StoredState {
  format: 1;
  heads: Record<string, SignedTreeHead>;
  checkedVersions: Record<string, number>;
  /** Added later within format 1: absent in older files. */
  pendingSince?: Record<string, PendingMark>;
}

/**
 * A KtStateStore kept in one JSON file, so a client remembers across restarts the last head it
 * verified of each server (a later head must extend it) and how far it has checked its own
 * history. Each save rewrites the file atomically (write a temporary file, then rename); saves are
 * serialised. A file that exists but cannot be read as this format is an error, never a fresh
 * start: forgetting the kept heads would let a forked log pass.
 */
export class FileKtStateStore implements KtStateStore {
  private state?: Promise<StoredState>;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  async lastHead(server: string): Promise<SignedTreeHead | null> {
    return (await this.load()).heads[server] ?? null;
  }

  async saveHead(head: SignedTreeHead): Promise<void> {
    await this.update((state) => {
      state.heads[head.server] = head;
    });
  }

  async lastCheckedVersion(address: string): Promise<number> {
    return (await this.load()).checkedVersions[address] ?? 0;
  }

  async saveCheckedVersion(address: string, version: number): Promise<void> {
    await this.update((state) => {
      state.checkedVersions[address] = version;
    });
  }

  async pendingSince(address: string): Promise<PendingMark | null> {
    return (await this.load()).pendingSince?.[address] ?? null;
  }

  async savePendingSince(address: string, mark: PendingMark | null): Promise<void> {
    await this.update((state) => {
      state.pendingSince ??= {};
      if (mark) state.pendingSince[address] = mark;
      else delete state.pendingSince[address];
    });
  }

  private load(): Promise<StoredState> {
    this.state ??= this.read();
    return this.state;
  }

  private async read(): Promise<StoredState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return { format: 1, heads: {}, checkedVersions: {} };
      throw error;
    }
    let parsed: Partial<StoredState>;
    try {
      parsed = JSON.parse(text) as Partial<StoredState>;
    } catch {
      throw new Error(
        `key-transparency state ${this.path} is not valid JSON; refusing to start afresh (move it aside only if you know why it broke)`,
      );
    }
    if (
      parsed?.format !== 1 ||
      typeof parsed.heads !== 'object' ||
      typeof parsed.checkedVersions !== 'object' ||
      !parsed.heads ||
      !parsed.checkedVersions
    ) {
      throw new Error(`key-transparency state ${this.path} is not in the expected format`);
    }
    return parsed as StoredState;
  }

  private update(change: (state: StoredState) => void): Promise<void> {
    const next = this.writing.then(async () => {
      const state = await this.load();
      change(state);
      await mkdir(dirname(this.path), { recursive: true });
      const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temporary, JSON.stringify(state), { mode: 0o600 });
      await rename(temporary, this.path);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
