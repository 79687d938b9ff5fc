import { randomInt } from 'node:crypto';
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { testPrefix } from './directory-harness';

const ROOT = join(__dirname, '..', '..');

/**
 * A port to listen on later. Drawn below the kernel's ephemeral range (32768–60999 here), which
 * `listen(0)` and every outgoing connection draw from: a port picked there could be taken by an
 * outgoing connection before the service binds it (EADDRINUSE seen in CI). Checked free now.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + randomInt(12_000);
    if (await bindable(port)) return port;
    if (attempt > 50) throw new Error('no free port found in 20000-31999');
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs a BUILT service (`dist/...`, made by `npm run build`, which `npm test` runs first) as a
 * real child process and waits until its /healthz (readiness) answers 200, polling every
 * `pollIntervalMs`.
 */
export async function startServiceProcess(
  entry: string,
  env: Record<string, string>,
  port: number,
  pollIntervalMs = 100,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', entry)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited early:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} not healthy in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
  return {
    child,
    url,
    output: () => out,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Fails at once, with the fix, when a built entry (`dist/...`) is missing. */
export function assertBuilt(...entries: string[]): void {
  for (const entry of entries) {
    if (!existsSync(join(ROOT, 'dist', entry))) throw new Error(`dist/${entry} is missing: run \`npm run build\` first`);
  }
}

/**
 * The environment of built services of one test homeserver (alpha.test) on the test Postgres and
 * Redis, under a fresh Redis prefix, with open registration and no registration limit;
 * `overrides` adds ports and anything else a spec sets.
 */
export function builtServiceEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SERVER_NAME: 'alpha.test',
    DATABASE_URL: process.env.TEST_DATABASE_URL!,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    REDIS_PREFIX: testPrefix(),
    OPEN_REGISTRATION: 'true',
    REGISTRATION_RATE_BURST: '1000000000',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
}
