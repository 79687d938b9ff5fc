/**
 * The fixed schedule of the abuse bench, laid out before the legitimate load starts (an open-model
 * load has to know its end): a warm-up, then per attack a quiet `before` window, the attack
 * (`during`) and a `settle` window that is not judged. Times are `process.hrtime.bigint()` values.
 */
export type PhasePart = 'before' | 'during' | 'settle';

export interface AttackSlot {
  index: number;
  beforeStart: bigint;
  duringStart: bigint;
  duringEnd: bigint;
  settleEnd: bigint;
}

export interface TimelineOptions {
  warmup: number;
  before: number;
  during: number;
  settle: number;
}

const ns = (seconds: number): bigint => BigInt(Math.round(seconds * 1e9));

export class AbuseTimeline {
  readonly slots: AttackSlot[];
  /** Seconds from t0 to the end of the last settle window. */
  readonly totalSeconds: number;

  constructor(
    readonly t0: bigint,
    readonly options: TimelineOptions,
    attackCount: number,
  ) {
    const perAttack = options.before + options.during + options.settle;
    this.totalSeconds = options.warmup + attackCount * perAttack;
    this.slots = Array.from({ length: attackCount }, (_, index) => {
      const beforeStart = t0 + ns(options.warmup + index * perAttack);
      const duringStart = beforeStart + ns(options.before);
      const duringEnd = duringStart + ns(options.during);
      return { index, beforeStart, duringStart, duringEnd, settleEnd: duringEnd + ns(options.settle) };
    });
  }

  /** Which attack's window `at` falls in, if any (the warm-up is in none). */
  phaseAt(at: bigint): { attack: number; part: PhasePart } | undefined {
    for (const slot of this.slots) {
      if (at < slot.beforeStart || at >= slot.settleEnd) continue;
      const part: PhasePart = at < slot.duringStart ? 'before' : at < slot.duringEnd ? 'during' : 'settle';
      return { attack: slot.index, part };
    }
    return undefined;
  }
}

/** Resolves at the hrtime `at` (at once if it has passed). */
export function sleepUntil(at: bigint): Promise<void> {
  const ms = Number(at - process.hrtime.bigint()) / 1e6;
  return new Promise((done) => setTimeout(done, Math.max(0, ms)));
}
