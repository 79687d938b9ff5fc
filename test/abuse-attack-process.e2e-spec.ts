/**
 * The abuse bench runs each attack in a process of its own (bench/support/abuse-attack-process.ts
 * forks the BUILT dist/bench/support/abuse-attack-runner.js), so an attack's CPU and event-loop
 * load never delay the legitimate load generator. These specs run the real `junk` attack against
 * a local HTTP server and prove the process's promises: it reports what it sent and at what rate,
 * it exits soon after its window, it is killed when it does not stop, and it does not outlive a
 * bench process that is killed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { Server, createServer } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AttackProcess } from '../bench/support/abuse-attack-process';
import type { WireTargets } from '../bench/support/abuse-attack-ipc';
import { assertBuilt } from './support/service-process';

const ROOT = join(__dirname, '..');
const RUNNER = join(ROOT, 'dist/bench/support/abuse-attack-runner.js');
const JUNK = { concurrent: 4, cap: 1_000_000 };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function untilGone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

describe('an abuse bench attack in its own process', () => {
  let server: Server;
  let connections = 0;
  let targets: WireTargets;

  beforeAll(async () => {
    assertBuilt('bench/support/abuse-attack-runner.js', 'bench/support/abuse-attack-process.js');
    server = createServer((request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"error":"bad_request","message":"junk"}');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
    const { port } = server.address() as { port: number };
    const home = (label: string) => ({
      label,
      serverName: `${label}.test`,
      databaseUrl: 'postgres://unused',
      services: {
        directory: { baseUrl: `http://127.0.0.1:${port}` },
        relay: { baseUrl: `http://127.0.0.1:${port}` },
        gateway: { baseUrl: `http://127.0.0.1:${port}` },
      },
    });
    targets = { alpha: home('alpha'), beta: home('beta'), voidServers: [] };
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((closed) => server.close(() => closed()));
  });

  const startJunk = (graceMs = 5000) =>
    AttackProcess.start({ key: 'junk', options: JUNK, targets, runTag: 'spec', accepted: () => 0, runner: RUNNER, graceMs });

  it('runs the attack in another process, reports what it sent at what rate, and exits within a second of its window', async () => {
    const attack = await startJunk();
    expect(attack.pid).not.toBe(process.pid);
    expect(attack.offered).toMatch(/^4 at a time, closed loop/);
    expect(attack.unit).toBe('requests');
    const connectionsBefore = connections;

    const result = await attack.run(1000);

    expect(result.failure).toBeUndefined();
    expect(result.summary?.sent).toBeGreaterThan(20);
    expect(connections - connectionsBefore).toBeGreaterThanOrEqual(result.summary!.sent - JUNK.concurrent);
    expect(result.activeSeconds).toBeGreaterThan(0.9);
    expect(result.activeSeconds).toBeLessThan(1.5);
    expect(result.sentPerSecond).toBeCloseTo(result.summary!.sent / result.activeSeconds!, 6);
    expect(result.loopDelayMaxMs).toBeGreaterThan(0);
    expect(result.exitedAfterWindowMs).toBeLessThan(1000);
    expect(isAlive(attack.pid)).toBe(false);
  });

  it('kills an attack process that has not exited its grace after the window (here: stopped with SIGSTOP)', async () => {
    const attack = await startJunk(1000);
    const running = attack.run(1000);
    await sleep(300);
    process.kill(attack.pid, 'SIGSTOP');

    const result = await running;

    expect(result.failure).toBe('did not stop within 1000 ms of its window: killed');
    expect(result.exitedAfterWindowMs).toBeGreaterThanOrEqual(900);
    expect(result.exitedAfterWindowMs).toBeLessThan(2000);
    expect(isAlive(attack.pid)).toBe(false);
  });

  it('does not outlive a bench process that is killed mid-attack (SIGKILL: no clean-up runs there)', async () => {
    // A stand-in for the bench: it starts a 60 s junk attack, prints the attack's pid, and waits.
    const bench: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        `const { AttackProcess } = require(${JSON.stringify(join(ROOT, 'dist/bench/support/abuse-attack-process.js'))});
         const options = ${JSON.stringify({ key: 'junk', options: JUNK, targets, runTag: 'spec' })};
         AttackProcess.start({ ...options, accepted: () => 0 }).then((attack) => {
           void attack.run(60000);
           console.log('attack pid ' + attack.pid);
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pid = await new Promise<number>((started, failed) => {
      let out = '';
      bench.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /attack pid (\d+)/.exec(out);
        if (match) started(Number(match[1]));
      });
      bench.once('exit', (code) => failed(new Error(`the stand-in bench exited (code ${code}) before its attack started`)));
    });
    await sleep(500); // mid-attack
    expect(isAlive(pid)).toBe(true);

    bench.kill('SIGKILL');

    const gone = await untilGone(pid, 3000);
    if (!gone) process.kill(pid, 'SIGKILL');
    expect(gone).toBe(true);
  });
});
