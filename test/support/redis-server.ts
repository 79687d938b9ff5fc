import { ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { freePort } from './service-process';

/**
 * A private `redis-server` for one spec, on a spare loopback port, keeping nothing on disk
 * (`--save "" --appendonly no`): stopping it loses every key, channel subscription and script,
 * which is what restart tests want. `start()` again brings up an empty Redis on the same port.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private out = '';

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts a private Redis on a free port (or on `port`) and waits until it answers PING. */
  static async start(port?: number): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port ?? (await freePort()));
    await redis.start();
    return redis;
  }

  /** (Re)starts the server on this instance's port; waits for PING → PONG (bounded). */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.running) return;
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--dir',
        '/tmp',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited early:\n${this.out}`);
      if (await ping(this.port)) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${this.port} did not answer PING in time:\n${this.out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the server, losing all its state: SHUTDOWN NOSAVE, then SIGKILL if it lingers. */
  async stop(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await command(this.port, 'SHUTDOWN NOSAVE').catch(() => undefined);
    const timer = setTimeout(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** For teardown in finally/afterAll: never throws. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  output(): string {
    return this.out;
  }
}

/** One inline command over a raw socket; resolves with the first reply line (or '' on close). */
function command(port: number, text: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply.split('\r\n')[0]);
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.connect(port, '127.0.0.1', () => socket.write(`${text}\r\n`));
  });
}

async function ping(port: number): Promise<boolean> {
  try {
    return (await command(port, 'PING', 500)) === '+PONG';
  } catch {
    return false;
  }
}
