import { LatencyHistogram } from './histogram';

/** What one operation reported: its HTTP status, or 0 when the request itself failed. */
export type Outcome = { status: number };

export interface LoopResult {
  elapsedMs: number;
  /** 2xx answers; only these are in `latency`. */
  ok: number;
  /** Everything else, by status ("0" = network error). */
  errors: Map<string, number>;
  errorCount: number;
  latency: LatencyHistogram;
}

/**
 * Closed loop: `workers` concurrent workers each run `op(workerIndex, iteration)` back to back
 * until `seconds` have passed; a new request starts only when the worker's previous one ended.
 */
export async function runClosedLoop(
  workers: number,
  seconds: number,
  op: (worker: number, iteration: number) => Promise<Outcome>,
): Promise<LoopResult> {
  const latency = new LatencyHistogram();
  const errors = new Map<string, number>();
  let ok = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));

  const worker = async (index: number): Promise<void> => {
    for (let i = 0; process.hrtime.bigint() < deadline; i++) {
      const t0 = process.hrtime.bigint();
      let status = 0;
      try {
        status = (await op(index, i)).status;
      } catch {
        status = 0;
      }
      if (status >= 200 && status < 300) {
        latency.recordSince(t0);
        ok++;
      } else {
        errors.set(String(status), (errors.get(String(status)) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  return { elapsedMs, ok, errors, errorCount, latency };
}

/** Runs `task` over `items` with at most `concurrency` at a time; keeps result order. */
export async function mapConcurrent<T, R>(items: T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
