import { readFileSync, readdirSync } from 'node:fs';

/** Linux /proc readings for the bench report (USER_HZ is 100 on every mainstream Linux build). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size of a process, in MiB (VmRSS of /proc/<pid>/status); null if unreadable. */
export function rssMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used so far; 0 if unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Pids of the processes whose command name (/proc/<pid>/comm) is `comm`, e.g. `redis-server`. */
export function pidsByName(comm: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const values = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = values[3] + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** CPU use over an interval, in percent of one core (100 = one core fully busy). */
export interface CpuUse {
  groups: Record<string, number>;
  selfPct: number;
  machinePct: number;
  otherPct: number;
}

/** Samples CPU of named process groups (e.g. the service, its Postgres backends), this process and the machine. */
export class CpuSampler {
  private readonly startPids = new Map<number, number>();
  private readonly startSelf = process.cpuUsage();
  private readonly startMachine = machineTicks();
  private readonly startedAt = process.hrtime.bigint();

  constructor(private readonly pids: Record<string, number[]>) {
    for (const pid of Object.values(pids).flat()) this.startPids.set(pid, cpuSeconds(pid));
  }

  finish(): CpuUse {
    const wall = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    // A process gone meanwhile reads 0: count it as idle rather than negative.
    const used = (pid: number) => Math.max(0, cpuSeconds(pid) - (this.startPids.get(pid) ?? 0));
    const groups = Object.fromEntries(
      Object.entries(this.pids).map(([name, list]) => [name, (100 * list.reduce((sum, pid) => sum + used(pid), 0)) / wall]),
    );
    const self = process.cpuUsage(this.startSelf);
    const selfPct = (100 * (self.user + self.system)) / 1e6 / wall;
    const machine = machineTicks();
    const machineCores = (machine.total - this.startMachine.total) / CLOCK_TICKS_PER_SECOND / wall;
    const machinePct =
      (100 * machineCores * (machine.busy - this.startMachine.busy)) / Math.max(1, machine.total - this.startMachine.total);
    const known = selfPct + Object.values(groups).reduce((a, b) => a + b, 0);
    return { groups, selfPct, machinePct, otherPct: Math.max(0, machinePct - known) };
  }
}
