import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a client keeps, by kind. Values are strings (base64 of libsignal records, or JSON).
 * `account` holds the identity key pair and the device token: an implementation must keep the
 * store where only its user can read it (the file store writes mode 0600).
 */
export type RecordKind =
  | 'account'
  | 'session'
  | 'identity'
  | 'prekey'
  | 'signed-prekey'
  | 'kyber-prekey'
  | 'contact'
  | 'seen-envelope'
  | 'kt'
  | 'counter'
  /** Decrypted messages the application has not confirmed yet (kept so a redelivery is not decrypted twice). */
  | 'inbox';

/**
 * A client's persistent state behind one interface: the SDK asks for no more than get / set /
 * delete / list by kind, plus `atomically`, whose writes all land together or none does.
 */
export interface ClientStore {
  get(kind: RecordKind, key: string): Promise<string | undefined>;
  set(kind: RecordKind, key: string, value: string): Promise<void>;
  delete(kind: RecordKind, key: string): Promise<void>;
  keys(kind: RecordKind): Promise<string[]>;
  /**
   * Runs `work` so that its writes are kept together: all of them, or — if it throws or the
   * process dies before the commit — none. Calls are serialised; a call inside `work` joins it,
   * and so does any plain `set`/`delete` made while it runs.
   */
  atomically<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

type Records = Map<RecordKind, Map<string, string>>;
const DELETED = Symbol('deleted');
type Staged = Map<string, string | typeof DELETED>;

/**
 * The transaction machinery both stores share: reads see the transaction's own writes first,
 * writes are staged and handed to `persist` in one piece at the commit.
 */
export abstract class StagedClientStore implements ClientStore {
  /** Marks the async flow that runs a transaction, so an `atomically` inside it joins instead of queueing. */
  private readonly transaction = new AsyncLocalStorage<Staged>();
  /**
   * The transaction running now (at most one: they are serialised). Reads and writes go through
   * it even from callbacks that lost the async context — libsignal calls its stores from native
   * code — so a session saved during an encryption is read back by the same encryption.
   */
  private active?: Staged;
  private queue: Promise<unknown> = Promise.resolve();

  protected constructor(protected readonly records: Records) {}

  /** Keeps `records` (already changed) durably; on failure the store keeps serving what it holds in memory. */
  protected abstract persist(records: Records): Promise<void>;

  async get(kind: RecordKind, key: string): Promise<string | undefined> {
    const staged = this.active?.get(slot(kind, key));
    if (staged !== undefined) return staged === DELETED ? undefined : staged;
    return this.records.get(kind)?.get(key);
  }

  set(kind: RecordKind, key: string, value: string): Promise<void> {
    return this.write(kind, key, value);
  }

  delete(kind: RecordKind, key: string): Promise<void> {
    return this.write(kind, key, DELETED);
  }

  async keys(kind: RecordKind): Promise<string[]> {
    const keys = new Set(this.records.get(kind)?.keys() ?? []);
    for (const [name, value] of this.active ?? []) {
      const [k, key] = unslot(name);
      if (k !== kind) continue;
      if (value === DELETED) keys.delete(key);
      else keys.add(key);
    }
    return [...keys];
  }

  atomically<T>(work: () => Promise<T>): Promise<T> {
    if (this.transaction.getStore()) return work();
    const run = this.queue.then(async () => {
      const staged: Staged = new Map();
      this.active = staged;
      try {
        const result = await this.transaction.run(staged, work);
        if (staged.size > 0) await this.commit(staged);
        return result;
      } finally {
        this.active = undefined;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Waits for the transactions under way. Also stops tracking async contexts for this store: an
   * AsyncLocalStorage in use makes Node follow every promise of the process (a load generator
   * measured 18 % of its CPU in that bookkeeping); a later transaction turns it on again.
   */
  async close(): Promise<void> {
    await this.queue;
    this.transaction.disable();
  }

  private async write(kind: RecordKind, key: string, value: string | typeof DELETED): Promise<void> {
    // A write while a transaction runs joins it (serialised callers cannot interleave otherwise).
    if (this.active) {
      this.active.set(slot(kind, key), value);
      return;
    }
    await this.atomically(async () => {
      this.active!.set(slot(kind, key), value);
    });
  }

  private async commit(staged: Staged): Promise<void> {
    const next: Records = new Map([...this.records].map(([kind, map]) => [kind, new Map(map)]));
    for (const [name, value] of staged) {
      const [kind, key] = unslot(name);
      if (!next.has(kind)) next.set(kind, new Map());
      if (value === DELETED) next.get(kind)!.delete(key);
      else next.get(kind)!.set(key, value);
    }
    await this.persist(next);
    this.records.clear();
    for (const [kind, map] of next) this.records.set(kind, map);
  }
}

const slot = (kind: RecordKind, key: string) => `${kind}\u0000${key}`;
const unslot = (name: string): [RecordKind, string] => {
  const at = name.indexOf('\u0000');
  return [name.slice(0, at) as RecordKind, name.slice(at + 1)];
};

/** For tests and short-lived tools (and bench hot paths): everything is lost when the process ends. */
export class MemoryClientStore extends StagedClientStore {
  constructor() {
    super(new Map());
  }

  protected async persist(): Promise<void> {
    // nothing to keep beyond memory
  }
}
