import type { WorkerProcess } from './worker-processes';

const DELIVERY_WAIT_MS = 60_000;
const nowMs = () => performance.timeOrigin + performance.now();

/**
 * `--warmup N`: N unmeasured sends (shared by the workers, closed loop) before the clock, then a
 * wait — at most a minute — until what they owe has arrived, so the measured run starts warm
 * (JIT, connection pools, caches) and without their backlog. Their envelopes carry a key of
 * their own: they appear nowhere in the report's figures.
 */
export async function warmUpPhase(workers: WorkerProcess[], sends: number, log: (line: string) => void): Promise<void> {
  const started = nowMs();
  const shares = workers.map((_, w) => Math.floor(sends / workers.length) + (w < sends % workers.length ? 1 : 0));
  const answers = await Promise.all(workers.map((w, i) => w.request({ type: 'warm-up', sends: shares[i] }, 'warmed')));
  const expected = answers.reduce((n, a) => n + a.expected, 0);
  const refused = answers.reduce((n, a) => n + a.refused, 0);
  let delivered = 0;
  while (nowMs() - started < DELIVERY_WAIT_MS) {
    const counts = await Promise.all(workers.map((w) => w.request({ type: 'warm-count' }, 'warm-count')));
    delivered = counts.reduce((n, c) => n + c.delivered, 0);
    if (delivered >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log(
    `warmed up: ${sends} unmeasured sends (${refused} refused), ${delivered} of ${expected} deliveries arrived, ` +
      `${((nowMs() - started) / 1000).toFixed(1)} s`,
  );
}
