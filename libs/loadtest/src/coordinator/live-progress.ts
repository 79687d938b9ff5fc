import { LatencyHistogram } from '../metrics/latency-histogram';
import type { TimelineSecond } from '../report/load-report';
import type { ArrivalSchedule } from '../schedule/arrival-schedule';
import type { WorkerSecond } from '../worker/ipc-messages';

interface PendingSecond {
  reported: Set<number>;
  merged: Omit<WorkerSecond, 'accept' | 'deliver' | 'expectedTotal' | 'deliveredTotal'>;
  accept: LatencyHistogram;
  deliver: LatencyHistogram;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The run's seconds as the workers report them: merged across workers (counts summed, HDR
 * histograms added) once every worker reported that second — or once a worker is two seconds
 * further, so a stuck worker does not freeze the display — in order, each one becoming a
 * timeline entry and one progress line. Also keeps each worker's running totals for the drain.
 */
export class LiveProgress {
  readonly timeline: TimelineSecond[] = [];
  private readonly pending = new Map<number, PendingSecond>();
  private readonly expected: number[];
  private readonly delivered: number[];
  private readonly inFlight: number[];
  private nextSecond = 0;

  constructor(
    private readonly workers: number,
    private readonly schedule: ArrivalSchedule,
    private readonly onSecond: (second: TimelineSecond, line: string) => void,
  ) {
    this.expected = new Array<number>(workers).fill(0);
    this.delivered = new Array<number>(workers).fill(0);
    this.inFlight = new Array<number>(workers).fill(0);
  }

  /** Σ accepted × devices and Σ first deliveries, and requests in flight, as of each worker's last second. */
  totals(): { expected: number; delivered: number; inFlight: number } {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    return { expected: sum(this.expected), delivered: sum(this.delivered), inFlight: sum(this.inFlight) };
  }

  add(worker: number, second: WorkerSecond): void {
    this.expected[worker] = second.expectedTotal;
    this.delivered[worker] = second.deliveredTotal;
    this.inFlight[worker] = second.inFlight;
    let entry = this.pending.get(second.t);
    if (!entry) {
      entry = {
        reported: new Set(),
        merged: { t: second.t, offered: 0, accepted: 0, delivered: 0, inFlight: 0, errorsByStatus: {}, cpuMs: 0 },
        accept: LatencyHistogram.empty(),
        deliver: LatencyHistogram.empty(),
      };
      this.pending.set(second.t, entry);
    }
    entry.reported.add(worker);
    const m = entry.merged;
    m.offered += second.offered;
    m.accepted += second.accepted;
    m.delivered += second.delivered;
    m.inFlight += second.inFlight;
    m.cpuMs += second.cpuMs;
    for (const [status, n] of Object.entries(second.errorsByStatus)) m.errorsByStatus[status] = (m.errorsByStatus[status] ?? 0) + n;
    if (second.accept) entry.accept.add(LatencyHistogram.decode(second.accept));
    if (second.deliver) entry.deliver.add(LatencyHistogram.decode(second.deliver));
    this.emitReady(second.t);
  }

  /** Emits every second still pending (the run ended). */
  flush(): void {
    const last = Math.max(-1, ...this.pending.keys());
    while (this.nextSecond <= last) this.emit(this.nextSecond);
  }

  private emitReady(latest: number): void {
    for (;;) {
      const entry = this.pending.get(this.nextSecond);
      const complete = entry !== undefined && entry.reported.size === this.workers;
      if (!complete && latest - this.nextSecond < 2) return;
      if (this.nextSecond > latest) return;
      this.emit(this.nextSecond);
    }
  }

  private emit(t: number): void {
    const entry = this.pending.get(t);
    this.pending.delete(t);
    this.nextSecond = t + 1;
    const m = entry?.merged ?? { t, offered: 0, accepted: 0, delivered: 0, inFlight: 0, errorsByStatus: {}, cpuMs: 0 };
    const accept = entry?.accept ?? LatencyHistogram.empty();
    const deliver = entry?.deliver ?? LatencyHistogram.empty();
    const draining = t >= this.schedule.durationSeconds;
    const second: TimelineSecond = {
      t: t + 1,
      stage: this.schedule.stageAt(Math.min(t + 0.5, this.schedule.durationSeconds - 1e-6)),
      ...(draining ? { drain: true } : {}),
      offeredPerSecond: m.offered,
      acceptedPerSecond: m.accepted,
      deliveredPerSecond: m.delivered,
      inFlight: m.inFlight,
      acceptP50: round1(accept.percentileMs(50)),
      acceptP99: round1(accept.percentileMs(99)),
      deliverP50: round1(deliver.percentileMs(50)),
      deliverP99: round1(deliver.percentileMs(99)),
      errorsByStatus: m.errorsByStatus,
      loadtestCpuCores: Math.round(m.cpuMs / 10) / 100,
    };
    this.timeline.push(second);
    const errors = Object.entries(m.errorsByStatus)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    const line =
      `[${String(t + 1).padStart(4)}s ${draining ? 'drain' : `stage ${second.stage + 1}/${this.schedule.stages.length}`}] ` +
      `offered ${m.offered}/s accepted ${m.accepted}/s delivered ${m.delivered}/s in-flight ${m.inFlight} | ` +
      `accept p50 ${second.acceptP50} p99 ${second.acceptP99} ms | deliver p50 ${second.deliverP50} p99 ${second.deliverP99} ms` +
      (errors ? ` | errors ${errors}` : '') +
      ` | workers ${second.loadtestCpuCores} cpu`;
    this.onSecond(second, line);
  }
}
