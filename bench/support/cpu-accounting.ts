/**
 * Whole-machine CPU accounting over a window: every process's CPU time is read from /proc at the
 * start and at the end (synchronously, so it can run inside a timer tick), and attributed to
 * named groups only afterwards. Processes born during the window (e.g. Postgres backends a pool
 * opened under load) count in full; what belongs to no group is listed by process, so a busy
 * neighbour on a shared machine is visible in the report.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpuSeconds, machineTicks } from './proc-stats';

const CLOCK_TICKS_PER_SECOND = 100;

function snapshot(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const seconds = cpuSeconds(pid);
    if (seconds > 0) out.set(pid, seconds);
  }
  return out;
}

function describe(pid: number): string {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    if (cmdline)
      return cmdline
        .replace(/\/\S*node_modules\/\.bin\//, '')
        .replace(/\/usr\/bin\/node /, 'node ')
        .slice(0, 110);
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '(exited)';
  }
}

export interface WindowCpu {
  seconds: number;
  /** % of one core per group. */
  groups: Record<string, number>;
  selfPct: number;
  machinePct: number;
  /** Busy CPU not in any group nor this process (includes processes that exited during the window). */
  otherPct: number;
  /** The biggest consumers among the others. */
  topOthers: { pid: number; pct: number; command: string }[];
}

export class WindowCpuSampler {
  private readonly start = snapshot();
  private readonly startMachine = machineTicks();
  private readonly startedAt = process.hrtime.bigint();
  private readonly startSelf = process.cpuUsage();
  private end?: { procs: Map<number, number>; machine: { busy: number; total: number }; at: bigint; self: NodeJS.CpuUsage };

  /** Closes the window (synchronous: call it right at the window's end). */
  stop(): void {
    if (this.end) return;
    this.end = { procs: snapshot(), machine: machineTicks(), at: process.hrtime.bigint(), self: process.cpuUsage(this.startSelf) };
  }

  /**
   * Attributes the window's CPU to `groups` (pids known at any time: pass the union of start and
   * end lists). A process that exited before the window closed reads nothing here: what such
   * processes reported of their own CPU time within the window goes in `exitedSeconds`, by group.
   */
  report(groups: Record<string, number[]>, exitedSeconds: Record<string, number> = {}): WindowCpu {
    this.stop();
    const end = this.end!;
    const wall = Number(end.at - this.startedAt) / 1e9;
    const used = (pid: number): number => {
      const after = end.procs.get(pid);
      if (after === undefined) return 0; // exited: unknown
      return Math.max(0, after - (this.start.get(pid) ?? 0));
    };
    const pct = (seconds: number): number => (100 * seconds) / wall;
    const grouped = new Set<number>([process.pid]);
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(groups)) {
      const unique = [...new Set(pids)].filter((pid) => !grouped.has(pid));
      unique.forEach((pid) => grouped.add(pid));
      out[name] = pct(unique.reduce((sum, pid) => sum + used(pid), 0));
    }
    for (const [name, seconds] of Object.entries(exitedSeconds)) out[name] = (out[name] ?? 0) + pct(seconds);
    const selfPct = pct((end.self.user + end.self.system) / 1e6);
    const machineCores = (end.machine.total - this.startMachine.total) / CLOCK_TICKS_PER_SECOND / wall;
    const machinePct =
      (100 * machineCores * (end.machine.busy - this.startMachine.busy)) / Math.max(1, end.machine.total - this.startMachine.total);
    const known = selfPct + Object.values(out).reduce((a, b) => a + b, 0);
    const others = [...end.procs.keys()]
      .filter((pid) => !grouped.has(pid))
      .map((pid) => ({ pid, pct: pct(used(pid)) }))
      .filter((o) => o.pct >= 1)
      .sort((a, b) => b.pct - a.pct)
      .slice(0, 6)
      .map((o) => ({ ...o, pct: Number(o.pct.toFixed(1)), command: describe(o.pid) }));
    return { seconds: wall, groups: out, selfPct, machinePct, otherPct: Math.max(0, machinePct - known), topOthers: others };
  }
}
