import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

/** A free TCP port on 127.0.0.1 (listen on port 0 briefly, then release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  /** Resolves once the health check answers 200; rejects (and stops the child) if it exits or times out first. */
  waitUntilHealthy(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** Path of the compiled entry script, run with this Node binary. */
  entry: string;
  env: Record<string, string>;
  port: number;
  healthPath?: string;
  startTimeoutMs?: number;
  nodeArgs?: string[];
  /** Where each output line goes (default: stderr, prefixed with the name). */
  onLine?: (name: string, line: string) => void;
}

/**
 * Spawns a service and forwards its output prefixed with its name. Returns at once, so the caller
 * can register the child for clean-up before waiting for it with `waitUntilHealthy()`.
 */
export function spawnService(options: SpawnOptions): ServiceProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onLine = options.onLine ?? ((name: string, line: string) => process.stderr.write(`[${name}] ${line}\n`));
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) onLine(options.name, line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  // 'error' without 'exit' means the process could not be spawned at all.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      forward(Buffer.from(String(error)));
      resolve();
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const service: ServiceProcess = {
    child,
    pid: child.pid ?? 0,
    baseUrl: `http://127.0.0.1:${options.port}`,
    async stop(graceMs = 5000) {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async waitUntilHealthy() {
      const path = options.healthPath ?? '/healthz';
      const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
      while (Date.now() < deadline) {
        if (hasExited) throw new Error(`${options.name} exited during start-up (code ${child.exitCode})`);
        try {
          const answer = await request(`${service.baseUrl}${path}`, { headersTimeout: 1000, bodyTimeout: 1000 });
          await answer.body.dump();
          if (answer.statusCode === 200) return;
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      await service.stop();
      throw new Error(`${options.name} did not answer ${path} with 200 within the start timeout`);
    },
  };
  return service;
}
