/**
 * Group commit: callers submit items one by one and each waits for the transaction that made
 * its item durable. Items are gathered until `maxBatch` are waiting or `maxWaitMs` has passed,
 * then committed together by `commit`, which must return one result per item, in order.
 * At most `maxConcurrentCommits` transactions run at once; meanwhile new items keep gathering,
 * so batches grow under load and latency stays bounded when idle.
 */
export interface GroupCommitOptions<T, R> {
  maxBatch: number;
  maxWaitMs: number;
  maxConcurrentCommits: number;
  commit(items: T[]): Promise<R[]>;
}

interface Waiting<T, R> {
  item: T;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class GroupCommitBatcher<T, R> {
  private waiting: Waiting<T, R>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = 0;

  constructor(private readonly options: GroupCommitOptions<T, R>) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.options.maxBatch) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
    });
  }

  /** Items waiting for a commit right now. */
  get pending(): number {
    return this.waiting.length;
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.waiting.length === 0 || this.running >= this.options.maxConcurrentCommits) return;
    const batch = this.waiting.splice(0, this.options.maxBatch);
    this.running += 1;
    this.options
      .commit(batch.map((w) => w.item))
      .then(
        (results) => batch.forEach((w, i) => w.resolve(results[i])),
        (error) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        this.running -= 1;
        if (this.waiting.length > 0) this.flush();
      });
  }
}
