/**
 * Samples the resident memory of named processes every `intervalMs` and keeps, per attack phase,
 * the highest value seen: "RSS max before / during" in the abuse bench. A process that has gone
 * (crashed) reads null and is reported as such.
 */
import { AbuseTimeline, PhasePart } from './abuse-timeline';
import { rssMiB } from './proc-stats';

export class PhaseRssSampler {
  private readonly max = new Map<string, number>();
  private readonly gone = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly pids: Record<string, number>,
    private readonly timeline: AbuseTimeline,
  ) {}

  start(intervalMs = 250): void {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const phase = this.timeline.phaseAt(process.hrtime.bigint());
    if (!phase) return;
    for (const [name, pid] of Object.entries(this.pids)) {
      const key = `${phase.attack}:${phase.part}:${name}`;
      const rss = rssMiB(pid);
      if (rss === null) this.gone.add(key);
      else this.max.set(key, Math.max(this.max.get(key) ?? 0, rss));
    }
  }

  /** Highest RSS (MiB) of `name` in that phase; null if never read (or the process was gone). */
  maxOf(attack: number, part: PhasePart, name: string): number | null {
    return this.max.get(`${attack}:${part}:${name}`) ?? null;
  }

  wasGone(attack: number, part: PhasePart, name: string): boolean {
    return this.gone.has(`${attack}:${part}:${name}`);
  }

  get names(): string[] {
    return Object.keys(this.pids);
  }
}
