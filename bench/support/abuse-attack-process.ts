/**
 * One attack of the abuse bench in a process of its own (child_process.fork of the built
 * abuse-attack-runner.js), driven from the bench's process over IPC: `start` sends the key and
 * options and resolves once the attack is prepared; `startBaseline` in the quiet window; `run`
 * gives it its window, sends the abort when the window ends and resolves with what it did once
 * the process has exited.
 *
 * No attack process outlives its window by more than `graceMs`: past that it is killed (SIGKILL),
 * and it also exits by itself. None outlives the bench: every one still running is killed when
 * the bench's process exits, and each exits by itself when its IPC channel closes (the bench was
 * killed).
 */
import { ChildProcess, fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { AttackKey, AttackOptions } from './abuse-attack-catalog';
import { AttackOutcome, FromAttackProcess, ToAttackProcess, WireTargets } from './abuse-attack-ipc';

export const DEFAULT_RUNNER = join(__dirname, 'abuse-attack-runner.js');
/** How long past its window an attack process may take to stop and exit before it is killed. */
export const DEFAULT_GRACE_MS = 5000;

export interface AttackProcessOptions<K extends AttackKey = AttackKey> {
  key: K;
  options: AttackOptions<K>;
  targets: WireTargets;
  runTag: string;
  /** The never-answering server's accepted connections so far (read when the attack asks). */
  accepted: () => number;
  /** Scheduling priority of the attack process (os.setPriority; 0 = as the servers, 19 = only idle CPU). */
  nice?: number;
  /** The built runner script (default: abuse-attack-runner.js beside this module). */
  runner?: string;
  graceMs?: number;
}

export interface AttackRunResult extends Partial<AttackOutcome> {
  failure?: string;
  /** When the process exited, ms after the window's end (0 if before). */
  exitedAfterWindowMs: number;
}

const live = new Set<ChildProcess>();
let killOnExitInstalled = false;

function killLiveOnExit(): void {
  if (killOnExitInstalled) return;
  killOnExitInstalled = true;
  process.once('exit', () => live.forEach((child) => child.kill('SIGKILL')));
}

export class AttackProcess {
  private outcome?: AttackOutcome;
  private failure?: string;
  private killedAfterGrace = false;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly key: AttackKey,
    readonly graceMs: number,
    private readonly accepted: () => number,
    readonly title: string,
    readonly offered: string,
    readonly unit: string,
    readonly hasBaseline: boolean,
  ) {
    this.exited = new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) done({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => done({ code, signal }));
    });
    child.on('message', (message: FromAttackProcess) => this.onMessage(message));
  }

  /** Forks the attack process and resolves once its attack is prepared (rejects if preparing failed). */
  static async start<K extends AttackKey>(options: AttackProcessOptions<K>): Promise<AttackProcess> {
    killLiveOnExit();
    const child = fork(options.runner ?? DEFAULT_RUNNER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    if (options.nice && child.pid !== undefined) setPriority(child.pid, options.nice);
    const prepared = await new Promise<Extract<FromAttackProcess, { type: 'prepared' }>>((resolvePrepared, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        reject(new Error(`attack ${options.key}: its process exited (code ${code}, signal ${signal}) while preparing`));
      child.once('exit', onExit);
      child.once('error', reject);
      const onMessage = (message: FromAttackProcess): void => {
        if (message.type === 'prepared' || message.type === 'failed') {
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (message.type === 'prepared') resolvePrepared(message);
          else reject(new Error(`attack ${options.key}: preparing failed: ${message.message}`));
        }
      };
      child.on('message', onMessage);
      const prepare: ToAttackProcess = {
        type: 'prepare',
        key: options.key,
        options: options.options,
        targets: options.targets,
        runTag: options.runTag,
      };
      child.send(prepare);
    }).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    return new AttackProcess(
      child,
      options.key,
      options.graceMs ?? DEFAULT_GRACE_MS,
      options.accepted,
      prepared.title,
      prepared.offered,
      prepared.unit,
      prepared.hasBaseline,
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts the attack's baseline (if it has one); it ends when `run` starts. */
  startBaseline(): void {
    if (this.hasBaseline) this.send({ type: 'baseline' });
  }

  /**
   * Runs the attack for `windowMs`: the abort goes out when the window ends, the process is killed
   * if it has not exited `graceMs` later; resolves once it has exited.
   */
  async run(windowMs: number): Promise<AttackRunResult> {
    const windowEnd = process.hrtime.bigint() + BigInt(Math.round(windowMs * 1e6));
    this.send({ type: 'run', windowMs, graceMs: this.graceMs });
    const abortAt = setTimeout(() => this.send({ type: 'abort' }), windowMs);
    const killAt = setTimeout(() => {
      this.killedAfterGrace = true;
      this.child.kill('SIGKILL');
    }, windowMs + this.graceMs);
    const { code, signal } = await this.exited;
    clearTimeout(abortAt);
    clearTimeout(killAt);
    const exitedAfterWindowMs = Math.max(0, Math.round(Number(process.hrtime.bigint() - windowEnd) / 1e6));
    if (this.outcome) return { ...this.outcome, exitedAfterWindowMs };
    const failure = this.killedAfterGrace
      ? `did not stop within ${this.graceMs} ms of its window: killed`
      : `its process exited (code ${code}, signal ${signal}) without a result${this.failure ? `: ${this.failure}` : ''}`;
    return { failure, exitedAfterWindowMs };
  }

  /** Kills the process if it still runs (clean-up; SIGKILL). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private send(message: ToAttackProcess): void {
    if (!this.child.connected) return;
    this.child.send(message, (error) => {
      if (error) this.failure = `sending ${message.type}: ${error.message}`;
    });
  }

  private onMessage(message: FromAttackProcess): void {
    if (message.type === 'ask-accepted') this.send({ type: 'accepted', id: message.id, value: this.accepted() });
    else if (message.type === 'result') this.outcome = message.outcome;
  }
}
