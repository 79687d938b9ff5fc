/**
 * An attack process of the abuse bench: forked by the bench (AttackProcess) with IPC, it builds
 * one attack from its key and options, prepares it, runs its baseline in the quiet window and the
 * attack in its own, sends back what it did, and exits. So the attack's CPU and event-loop load
 * never delay the legitimate load generator in the bench's process.
 *
 * It never outlives its job: it exits when the bench's IPC channel closes (the bench died, or
 * killed it), aborts the attack itself `windowMs` after the run began even if no abort arrives,
 * and exits `graceMs` after that whatever the attack is doing.
 */
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Attack, AttackTargets } from './abuse-attack';
import { buildAttack } from './abuse-attack-catalog';
import { AttackOutcome, FromAttackProcess, ToAttackProcess } from './abuse-attack-ipc';

/** Exit codes: the bench went away; the attack did not stop within its grace. */
const EXIT_BENCH_GONE = 3;
const EXIT_OVERRAN = 4;

if (!process.send) {
  process.stderr.write('abuse-attack-runner: run by the abuse bench (child_process.fork with IPC), not directly\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(EXIT_BENCH_GONE));

function send(message: FromAttackProcess): Promise<void> {
  return new Promise((done) => {
    if (!process.connected) return done();
    process.send!(message, undefined, {}, () => done());
  });
}

const pendingAccepted = new Map<number, (value: number) => void>();
let nextAskId = 0;
const askAccepted = (): Promise<number> =>
  new Promise((resolveValue) => {
    const id = nextAskId++;
    pendingAccepted.set(id, resolveValue);
    void send({ type: 'ask-accepted', id });
  });

let attack: Attack | undefined;
let preparedCpu: NodeJS.CpuUsage | undefined;
let baseline: { controller: AbortController; result: Promise<Record<string, unknown>> } | undefined;
const windowSignal = new AbortController();
setMaxListeners(0, windowSignal.signal); // every worker loop of an attack waits on the signal

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

async function prepare(message: Extract<ToAttackProcess, { type: 'prepare' }>): Promise<void> {
  try {
    const targets: AttackTargets = { ...message.targets, blackhole: { accepted: askAccepted } };
    attack = buildAttack(message.key, targets, message.options, message.runTag);
    await attack.prepare?.();
    preparedCpu = process.cpuUsage();
    await send({ type: 'prepared', title: attack.title, offered: attack.offered, unit: attack.unit, hasBaseline: !!attack.baseline });
  } catch (error) {
    await send({ type: 'failed', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  }
}

function startBaseline(): void {
  if (!attack?.baseline || baseline) return;
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  baseline = { controller, result: attack.baseline(controller.signal) };
}

async function run(windowMs: number, graceMs: number): Promise<void> {
  if (!attack) throw new Error('run before prepare');
  setTimeout(() => windowSignal.abort(), windowMs);
  setTimeout(() => {
    process.stderr.write(`attack ${attack?.key}: still running ${graceMs} ms after its window; exiting\n`);
    process.exit(EXIT_OVERRAN);
  }, windowMs + graceMs).unref();
  const outcome: Partial<AttackOutcome> = {};
  if (baseline) {
    baseline.controller.abort();
    outcome.baseline = await baseline.result.catch((error: unknown) => ({ failure: (error as Error).message }));
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const runCpu = process.cpuUsage();
  const startedAt = process.hrtime.bigint();
  let activeUntil: bigint | undefined;
  windowSignal.signal.addEventListener('abort', () => (activeUntil ??= process.hrtime.bigint()), { once: true });
  try {
    outcome.summary = await attack.run(windowSignal.signal);
  } catch (error) {
    outcome.failure = (error as Error).message;
  }
  activeUntil ??= process.hrtime.bigint();
  loopDelay.disable();
  const activeSeconds = Number(activeUntil - startedAt) / 1e9;
  await send({
    type: 'result',
    outcome: {
      ...outcome,
      activeSeconds,
      sentPerSecond: outcome.summary && activeSeconds > 0 ? outcome.summary.sent / activeSeconds : 0,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
      runCpuSeconds: cpuSeconds(runCpu),
      cpuSeconds: cpuSeconds(preparedCpu ?? runCpu),
    },
  });
  await attack.dispose?.().catch((error: unknown) => process.stderr.write(`attack ${attack?.key}: dispose: ${(error as Error).message}\n`));
  process.exit(0);
}

process.on('message', (message: ToAttackProcess) => {
  switch (message.type) {
    case 'prepare':
      void prepare(message);
      break;
    case 'baseline':
      startBaseline();
      break;
    case 'run':
      run(message.windowMs, message.graceMs).catch((error: unknown) => {
        process.stderr.write(`attack ${attack?.key}: ${(error as Error).stack ?? String(error)}\n`);
        process.exit(1);
      });
      break;
    case 'abort':
      windowSignal.abort();
      break;
    case 'accepted':
      pendingAccepted.get(message.id)?.(message.value);
      pendingAccepted.delete(message.id);
      break;
  }
});
