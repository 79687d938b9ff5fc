import { ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../targets/spawn-resources';
import type { CoordinatorMessage, WorkerMessage } from '../worker/ipc-messages';

type Reply<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** The compiled worker entry: beside this file in dist/, else in the repository's dist/ (the sources running under a test runner). */
function workerEntry(): string {
  const beside = join(__dirname, '..', 'worker', 'worker-main.js');
  if (existsSync(beside)) return beside;
  const built = join(repositoryRoot(), 'dist', 'libs', 'loadtest', 'src', 'worker', 'worker-main.js');
  if (!existsSync(built)) throw new Error(`no compiled load-test worker at ${built}: run npm run build`);
  return built;
}

/**
 * One forked worker process and its IPC channel: `request` sends a command and resolves with the
 * worker's reply of the given type; a `failed` reply or the process's exit rejects every pending
 * request, so the coordinator never waits on a dead worker.
 */
export class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<string, { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }>();
  private failure?: Error;

  constructor(
    readonly index: number,
    onMessage: (index: number, message: WorkerMessage) => void,
  ) {
    // LOADTEST_WORKER_CPU_PROF=DIR: a V8 CPU profile of each worker, written into DIR when it exits.
    const profileDir = process.env.LOADTEST_WORKER_CPU_PROF;
    this.child = fork(workerEntry(), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    this.child.on('message', (message: WorkerMessage) => {
      if (message.type === 'failed') {
        this.fail(new Error(`worker ${index}: ${message.message}`));
        return;
      }
      const waiting = this.pending.get(message.type);
      if (waiting) {
        this.pending.delete(message.type);
        waiting.resolve(message);
      }
      onMessage(index, message);
    });
    this.child.on('exit', (code, signal) => this.fail(new Error(`worker ${index} exited (code ${code}, signal ${signal})`)));
    this.child.on('error', (error) => this.fail(error));
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  post(message: CoordinatorMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  request<T extends WorkerMessage['type']>(message: CoordinatorMessage, reply: T, timeoutMs = 600_000): Promise<Reply<T>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reply);
        reject(new Error(`worker ${this.index} did not answer ${message.type} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(reply, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Reply<T>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.post(message);
    });
  }

  /** Ends the process (SIGKILL after 5 s if it does not leave on its own once the channel closes). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }
}
