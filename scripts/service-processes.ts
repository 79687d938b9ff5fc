import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ServiceSpec {
  name: string;
  entry: string;
  healthUrl: string;
}

const COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[33m'];

/** Starts one service as a child process, prefixing each line it prints with its name. */
export function spawnService(spec: ServiceSpec, env: NodeJS.ProcessEnv, index: number): ChildProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', join(__dirname, '..', spec.entry)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = process.stdout.isTTY ? `${COLORS[index % COLORS.length]}${spec.name}\x1b[0m` : spec.name;
  const relay = (stream: NodeJS.WritableStream) => {
    let pending = '';
    return (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) stream.write(`[${tag}] ${line}\n`);
    };
  };
  child.stdout?.on('data', relay(process.stdout));
  child.stderr?.on('data', relay(process.stderr));
  return child;
}

/** Resolves when `url` answers 200, or rejects after `timeoutMs`. */
export async function waitUntilHealthy(url: string, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('exited before it was ready');
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not healthy after ${timeoutMs} ms`);
}
