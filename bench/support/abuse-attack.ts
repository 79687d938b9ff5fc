/**
 * What every attack of the abuse bench is: a name, the bound on its intensity (`offered`: a rate or
 * a number in flight, stated in its options), optional preparation before the legitimate load
 * starts (accounts, sockets), an optional baseline run in the quiet window before it, and the
 * attack itself, which must stop promptly once its signal aborts and never exceed its own caps
 * (count and time). Each returns a small summary of what it did and what it was answered, with
 * `sent`: how many `unit`s it started, so the rate it achieved can be printed beside `offered`.
 *
 * Attacks run in a process of their own (abuse-attack-runner.ts), not beside the legitimate load:
 * their targets are plain data, and the one live figure they read from the bench's process (the
 * never-answering server's accepted connections) is asked for over IPC.
 */
import type { ServiceKind } from './federated-homeservers';

export type AttackSummary = Record<string, unknown> & { sent: number };

export interface Attack {
  /** Short key for `--attacks` and the JSON line, e.g. `huge-bodies`. */
  key: string;
  title: string;
  /** The bound on its intensity, e.g. "16 at a time, closed loop (at most 20,000)". */
  offered: string;
  /** What `sent` counts, e.g. "requests". */
  unit: string;
  prepare?(): Promise<void>;
  baseline?(signal: AbortSignal): Promise<Record<string, unknown>>;
  run(signal: AbortSignal): Promise<AttackSummary>;
  /** Closes whatever prepare() opened. */
  dispose?(): Promise<void>;
}

/** What an attack needs of a homeserver: names and addresses only (a RunningHomeserver is one). */
export interface AttackHomeserver {
  label: string;
  serverName: string;
  databaseUrl: string;
  services: Record<ServiceKind, { baseUrl: string }>;
}

export interface AttackTargets {
  alpha: AttackHomeserver;
  beta: AttackHomeserver;
  /** Server names in both gateways' FEDERATION_PEERS that lead to a loopback server that never answers. */
  voidServers: string[];
  /** The server behind `voidServers`: its accepted connections count the peer lookups made. */
  blackhole: { accepted(): Promise<number> };
}

/** Counts of answers by status ("error:<code>" for requests that got none). */
export class StatusTally {
  readonly counts = new Map<string, number>();
  total = 0;

  add(status: number | string): void {
    this.total++;
    const key = String(status);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  addError(error: unknown): void {
    this.add(`error:${(error as { code?: string }).code ?? (error as Error).name}`);
  }

  count(status: number | string): number {
    return this.counts.get(String(status)) ?? 0;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }
}

/**
 * Runs `workers` loops of `op(n)` (n counts across all workers) until `signal` aborts or `cap`
 * operations have started; resolves when every started operation has ended.
 */
export async function untilAborted(signal: AbortSignal, workers: number, cap: number, op: (n: number) => Promise<void>): Promise<number> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (!signal.aborted && started < cap) await op(started++);
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return started;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

/**
 * Starts `op` `ratePerSecond` times a second until `signal` aborts, skipping a turn while
 * `maxOutstanding` are unanswered (counted as skipped); resolves when every started op has ended.
 */
export async function paced(
  signal: AbortSignal,
  ratePerSecond: number,
  maxOutstanding: number,
  op: () => Promise<void>,
): Promise<{ started: number; skipped: number }> {
  const startedAt = Date.now();
  const running = new Set<Promise<void>>();
  let started = 0;
  let skipped = 0;
  while (!signal.aborted) {
    const due = Math.floor(((Date.now() - startedAt) / 1000) * ratePerSecond) + 1;
    while (started + skipped < due) {
      if (running.size >= maxOutstanding) {
        skipped++;
        continue;
      }
      started++;
      const one: Promise<void> = op().finally(() => running.delete(one));
      running.add(one);
    }
    await pause(Math.max(1, 1000 / ratePerSecond), signal);
  }
  await Promise.allSettled([...running]);
  return { started, skipped };
}
