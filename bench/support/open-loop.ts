/**
 * Open-model arrivals: operation `seq` is due at t0 + seq / rate, whatever the state of earlier
 * ones (no coordinated omission). A 1 ms timer issues whatever has come due; past
 * `maxOutstanding` unanswered operations, due ones wait for a slot (counted, and their latency
 * still runs from the intended time).
 */
export interface OpenLoopOptions {
  rate: number;
  total: number;
  maxOutstanding: number;
  /** Intended time of operation 0 (process.hrtime.bigint()). */
  t0: bigint;
  /** Starts operation `seq`; the promise settles when its answer is in. */
  start(seq: number): Promise<void>;
  /** Called on every timer turn with the current time (for sampling windows and the like). */
  onTick?(now: bigint): void;
  /** Keep ticking after the last arrival until this returns true (e.g. the measured window closed). */
  doneWhen?(): boolean;
}

export interface OpenLoopRun {
  /** Resolves once every operation has been issued (not answered). */
  issued: Promise<void>;
  outstanding(): number;
  waiting(): number;
  peakOutstanding(): number;
  waitedForSlot(): number;
  answered(): number;
}

export function intendedNs(t0: bigint, rate: number, seq: number): bigint {
  return t0 + BigInt(Math.round((seq * 1e9) / rate));
}

export function runOpenLoop(options: OpenLoopOptions): OpenLoopRun {
  const nsPerOp = 1e9 / options.rate;
  let issuedCount = 0;
  let outstanding = 0;
  let peak = 0;
  let waited = 0;
  let answered = 0;
  const queue: number[] = [];

  const start = (seq: number): void => {
    outstanding++;
    if (outstanding > peak) peak = outstanding;
    options
      .start(seq)
      .catch(() => undefined)
      .finally(() => {
        outstanding--;
        answered++;
        const next = queue.shift();
        if (next !== undefined) start(next);
      });
  };

  const issued = new Promise<void>((done) => {
    const tick = (): void => {
      const now = process.hrtime.bigint();
      options.onTick?.(now);
      const due = now < options.t0 ? 0 : Math.min(options.total, Math.floor(Number(now - options.t0) / nsPerOp) + 1);
      while (issuedCount < due) {
        const seq = issuedCount++;
        if (outstanding >= options.maxOutstanding) {
          waited++;
          queue.push(seq);
        } else {
          start(seq);
        }
      }
      if (issuedCount < options.total || (options.doneWhen && !options.doneWhen())) setTimeout(tick, 1);
      else done();
    };
    // First tick on the next turn, so the caller holds the returned run before onTick runs.
    setTimeout(tick, 0);
  });
  return {
    issued,
    outstanding: () => outstanding,
    waiting: () => queue.length,
    peakOutstanding: () => peak,
    waitedForSlot: () => waited,
    answered: () => answered,
  };
}
