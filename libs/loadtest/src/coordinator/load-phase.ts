import type { LoadOptions } from '../options/load-options';
import type { LoadReport, TimelineSecond } from '../report/load-report';
import type { ArrivalSchedule } from '../schedule/arrival-schedule';
import type { WorkerLedger, WorkerSecond } from '../worker/ipc-messages';
import { LiveProgress } from './live-progress';
import type { ServiceSampler } from './service-sampler';
import type { WorkerProcess } from './worker-processes';

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Time the workers get between the start command and t0. */
const START_LEAD_MS = 1000;
/** After the drain, arrivals still in the pipe (a late duplicate) get this long. */
const LATE_ARRIVALS_MS = 500;
/** An interrupted run drains at most this long. */
const INTERRUPT_DRAIN_MS = 5000;

export interface LoadPhaseResult {
  endedBy: LoadReport['endedBy'];
  error?: string;
  t0EpochMs: number;
  ledgers: (WorkerLedger | undefined)[];
  drops: Record<string, number>;
  verifyFailures: Record<string, number>;
  timeline: TimelineSecond[];
}

/**
 * The timed part of a run: every worker starts its arrivals at the same t0; the run ends when the
 * last stage is over and everything accepted was delivered (or the drain ran out), at the hard
 * duration cap, on an abort (interrupted: sending stops, a short drain) or when a worker fails.
 * Then each worker's book is collected.
 */
export async function runLoadPhase(args: {
  workers: WorkerProcess[];
  schedule: ArrivalSchedule;
  options: LoadOptions;
  sampler: ServiceSampler;
  signal?: AbortSignal;
  log: (line: string) => void;
  onSecond?: (second: TimelineSecond) => void;
  route: (handler: (worker: number, second: WorkerSecond) => void) => void;
}): Promise<LoadPhaseResult> {
  const { workers, schedule, options } = args;
  const progress = new LiveProgress(workers.length, schedule, (second, line) => {
    if (!options.quiet) args.log(line);
    args.onSecond?.(second);
  });
  args.route((worker, second) => progress.add(worker, second));
  const t0 = nowMs() + START_LEAD_MS;
  for (const w of workers) w.post({ type: 'start', t0EpochMs: t0 });
  args.sampler.start(t0);
  const loadEnd = t0 + schedule.durationSeconds * 1000;
  const drainEnd = loadEnd + options.drainSeconds * 1000;
  const cap = t0 + options.maxDurationSeconds * 1000;
  let endedBy: LoadReport['endedBy'] = 'completed';
  let error: string | undefined;
  const drained = () => {
    const t = progress.totals();
    return t.inFlight === 0 && t.delivered >= t.expected;
  };
  for (;;) {
    await sleep(100);
    const now = nowMs();
    const failed = workers.find((w) => w.failed);
    if (failed) {
      endedBy = 'error';
      error = failed.failed!.message;
      break;
    }
    if (args.signal?.aborted) {
      endedBy = 'interrupted';
      break;
    }
    if (now >= cap) {
      endedBy = 'duration-cap';
      break;
    }
    // A second past the last stage's end, so the totals include its last answers.
    if (now >= loadEnd + 1000 && (drained() || now >= drainEnd)) break;
  }
  if (endedBy !== 'completed') {
    for (const w of workers) w.post({ type: 'stop-sending' });
    if (endedBy === 'interrupted') {
      args.log('interrupted: sending stopped; draining what was accepted (at most 5 s)');
      const until = nowMs() + Math.min(INTERRUPT_DRAIN_MS, options.drainSeconds * 1000);
      while (nowMs() < until && !drained()) await sleep(100);
    }
  }
  await sleep(LATE_ARRIVALS_MS);
  const finished = await Promise.all(workers.map((w) => w.request({ type: 'finish' }, 'ledger', 60_000).catch(() => undefined)));
  args.sampler.stop();
  progress.flush();
  const drops: Record<string, number> = {};
  const verifyFailures: Record<string, number> = {};
  for (const f of finished) {
    for (const [k, n] of Object.entries(f?.drops ?? {})) drops[k] = (drops[k] ?? 0) + n;
    for (const [k, n] of Object.entries(f?.verifyFailures ?? {})) verifyFailures[k] = (verifyFailures[k] ?? 0) + n;
  }
  if (finished.some((f) => f === undefined) && endedBy !== 'error') {
    endedBy = 'error';
    error = 'a worker did not hand over its book: its sends are missing from the figures';
  }
  return { endedBy, error, t0EpochMs: t0, ledgers: finished.map((f) => f?.ledger), drops, verifyFailures, timeline: progress.timeline };
}
