/**
 * The open-model arrival process of a run: stages of linearly ramping rate, and from them the
 * INTENDED time of every arrival. Arrival g (0, 1, 2, ...) is due at the instant the cumulative
 * count N(t) = ∫₀ᵗ rate reaches g, whatever happened to earlier arrivals (no coordinated
 * omission). Worker w of W issues the arrivals g ≡ w (mod W), so the workers together offer the
 * whole rate, interleaved, and every process computes the same intended times from the same plan.
 */
export interface StagePlan {
  /** As given on the command line ("30s:1000"), for the report. */
  label: string;
  durationSeconds: number;
  /** Arrivals per second at the stage's end; the rate ramps linearly to it from the previous stage's end rate. */
  rateTo: number;
}

interface StageSpan {
  startSeconds: number;
  durationSeconds: number;
  rateFrom: number;
  rateTo: number;
  /** N(t) at the stage's start. */
  countBefore: number;
}

export class ArrivalSchedule {
  readonly spans: StageSpan[] = [];
  /** Arrivals of the whole run (all workers). */
  readonly totalArrivals: number;
  readonly durationSeconds: number;

  constructor(
    readonly stages: StagePlan[],
    startRate = 0,
  ) {
    let start = 0;
    let count = 0;
    let rateFrom = startRate;
    for (const stage of stages) {
      this.spans.push({ startSeconds: start, durationSeconds: stage.durationSeconds, rateFrom, rateTo: stage.rateTo, countBefore: count });
      count += ((rateFrom + stage.rateTo) / 2) * stage.durationSeconds;
      start += stage.durationSeconds;
      rateFrom = stage.rateTo;
    }
    this.durationSeconds = start;
    this.totalArrivals = Math.ceil(count - 1e-9);
  }

  /** N(t): arrivals due by `seconds` after t0 (fractional). */
  cumulative(seconds: number): number {
    const span = this.spanAt(seconds);
    if (!span) return seconds <= 0 ? 0 : this.totalArrivals;
    const tau = seconds - span.startSeconds;
    const slope = (span.rateTo - span.rateFrom) / span.durationSeconds;
    return span.countBefore + span.rateFrom * tau + (slope * tau * tau) / 2;
  }

  /** Intended time of arrival `g` of the whole run, in seconds after t0. */
  intendedSeconds(g: number): number {
    // The stage holding arrival g (stages at rate 0 throughout hold none and are passed over).
    const span = this.spans.find((s) => g < s.countBefore + this.countOf(s)) ?? this.spans[this.spans.length - 1];
    const need = g - span.countBefore;
    const slope = (span.rateTo - span.rateFrom) / span.durationSeconds;
    // a·τ + b·τ²/2 = need, in the form without cancellation: τ = 2·need / (a + √(a² + 2·b·need)).
    const root = Math.sqrt(Math.max(0, span.rateFrom * span.rateFrom + 2 * slope * need));
    const denominator = span.rateFrom + root;
    const tau = denominator > 0 ? (2 * need) / denominator : 0;
    return span.startSeconds + Math.min(tau, span.durationSeconds);
  }

  /** How many of worker `w`'s arrivals (of `workers`) are due by `seconds`. */
  dueForWorker(seconds: number, w: number, workers: number): number {
    const due = Math.min(this.totalArrivals, Math.floor(this.cumulative(seconds) + 1e-9) + 1);
    return countForWorker(due, w, workers);
  }

  /** Worker `w`'s arrivals in the whole run. */
  totalForWorker(w: number, workers: number): number {
    return countForWorker(this.totalArrivals, w, workers);
  }

  /** Intended time (s after t0) of worker `w`'s `seq`-th arrival. */
  intendedForWorker(seq: number, w: number, workers: number): number {
    return this.intendedSeconds(seq * workers + w);
  }

  /** The stage index a time falls in (the last stage for times at or past the end). */
  stageAt(seconds: number): number {
    for (let i = this.spans.length - 1; i >= 0; i--) if (seconds >= this.spans[i].startSeconds) return i;
    return 0;
  }

  private spanAt(seconds: number): StageSpan | undefined {
    if (seconds < 0 || seconds >= this.durationSeconds) return undefined;
    return this.spans[this.stageAt(seconds)];
  }

  private countOf(span: StageSpan): number {
    return ((span.rateFrom + span.rateTo) / 2) * span.durationSeconds;
  }
}

/** Of arrivals 0..due-1, how many are ≡ w (mod workers). */
function countForWorker(due: number, w: number, workers: number): number {
  return due <= w ? 0 : Math.floor((due - 1 - w) / workers) + 1;
}
