/**
 * The event-loop delay of THIS process (the abuse bench's legitimate load generator) per phase of
 * the abuse timeline: p99 and max of each before, during and settle window. A delay of hundreds
 * of ms means the client, not only the servers, was late, and its latencies say less about the
 * servers. Read at each phase's end by a timer (which itself fires late when the loop lags: the
 * lag then counts in the phase that was ending).
 */
import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { AbuseTimeline, PhasePart } from './abuse-timeline';

export interface LoopDelayFigures {
  p99Ms: number;
  maxMs: number;
}

export class PhaseLoopDelay {
  private readonly monitor: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly byPhase = new Map<string, LoopDelayFigures>();
  private timer?: NodeJS.Timeout;
  /** The phase being measured now (undefined in the warm-up and once stopped). */
  private current?: string;

  constructor(private readonly timeline: AbuseTimeline) {}

  /** Starts measuring (call at the timeline's t0; the warm-up is measured but not kept). */
  start(): void {
    const ends: { key?: string; at: bigint }[] = [];
    for (const slot of this.timeline.slots) {
      if (slot.index === 0) ends.push({ at: slot.beforeStart });
      ends.push(
        { key: `${slot.index}:before`, at: slot.duringStart },
        { key: `${slot.index}:during`, at: slot.duringEnd },
        { key: `${slot.index}:settle`, at: slot.settleEnd },
      );
    }
    this.monitor.enable();
    const next = (i: number): void => {
      this.current = ends[i]?.key;
      if (i >= ends.length) return this.stop();
      const ms = Number(ends[i].at - process.hrtime.bigint()) / 1e6;
      this.timer = setTimeout(
        () => {
          this.keepCurrent();
          this.monitor.reset();
          next(i + 1);
        },
        Math.max(0, ms),
      );
    };
    next(0);
  }

  /** Stops measuring; the phase under way (e.g. the last settle window, if its timer is still due) keeps what was measured of it. */
  stop(): void {
    clearTimeout(this.timer);
    this.keepCurrent();
    this.current = undefined;
    this.monitor.disable();
  }

  private keepCurrent(): void {
    if (this.current) this.byPhase.set(this.current, { p99Ms: this.monitor.percentile(99) / 1e6, maxMs: this.monitor.max / 1e6 });
  }

  /** The phase's figures, once it has ended. */
  of(attack: number, part: PhasePart): LoopDelayFigures | undefined {
    return this.byPhase.get(`${attack}:${part}`);
  }
}
