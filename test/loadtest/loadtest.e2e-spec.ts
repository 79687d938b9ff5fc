import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DeliveryTotals, LoadReport } from '@sealpost/loadtest';
import { assertBuilt } from '../support/service-process';

const SEALPOST = join(__dirname, '..', '..', 'dist', 'scripts', 'sealpost.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `sealpost loadtest` with the test database server and Redis (its spawned
 * homeservers get databases of their own); `interruptWhen` sends it SIGINT once its stderr matches.
 */
function loadtest(args: string[], interruptWhen?: RegExp, timeoutMs = 170_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SEALPOST, 'loadtest', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL, REDIS_URL: process.env.TEST_REDIS_URL },
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (interruptWhen && !interrupted && interruptWhen.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`sealpost loadtest did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const COUNTS = ['sent', 'accepted', 'delivered', 'duplicated', 'lost', 'expectedDeliveries', 'delayedByInFlightCap'] as const;

describe('sealpost loadtest against two spawned homeservers', () => {
  let dir: string;

  beforeAll(() => {
    assertBuilt('scripts/sealpost.js');
    assertBuilt('libs/loadtest/src/worker/worker-main.js');
    dir = mkdtempSync(join(tmpdir(), 'sealpost-loadtest-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers every accepted envelope exactly once, and its JSON and HTML reports agree with themselves', async () => {
    const stages = ['2s:10', '3s:20', '1s:0'];
    const json = join(dir, 'run.json');
    const html = join(dir, 'run.html');
    const run = await loadtest([
      '--spawn',
      '2',
      '--accounts',
      '8',
      '--devices-per-account',
      '2',
      '--multi-device-share',
      '0.5',
      '--sealed-share',
      '0.5',
      '--workers',
      '2',
      ...stages.flatMap((s) => ['--stage', s]),
      '--drain',
      '15s',
      '--threshold',
      'lost==0',
      '--json',
      json,
      '--html',
      html,
      '--quiet',
    ]);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;

    expect(report.endedBy).toBe('completed');
    expect(report.totals.lost).toBe(0);
    expect(report.totals.duplicated).toBe(0);
    expect(report.totals.sent).toBeGreaterThan(0);
    expect(report.totals.accepted).toBeLessThanOrEqual(report.totals.sent);
    expect(report.totals.delivered).toBe(report.totals.expectedDeliveries);
    // 8 accounts, half with 2 devices: 12 sockets over 2 workers, all open.
    expect(report.connect).toMatchObject({ attempted: 12, connected: 12, failed: 0, workers: 2 });
    expect(report.targets.map((t) => t.accounts)).toEqual([4, 4]);

    expect(report.stages.map((s) => s.label)).toEqual(stages);
    for (const key of COUNTS) {
      const sum = report.stages.reduce((n, s) => n + (s.totals[key as keyof DeliveryTotals] as number), 0);
      expect({ key, sum }).toEqual({ key, sum: report.totals[key] });
    }
    // Planned arrivals: 0→10 over 2 s, 10→20 over 3 s, 20→0 over 1 s.
    expect(report.totals.sent).toBe(10 + 45 + 10);
    expect(report.latency.sendToDeliver.count).toBe(report.totals.delivered);
    expect(report.timeline.length).toBeGreaterThanOrEqual(6);
    expect(report.thresholds).toEqual([{ expression: 'lost==0', actual: 0, passed: true }]);
    expect(report.passed).toBe(true);

    const page = readFileSync(html, 'utf8');
    for (const stage of stages) expect(page).toContain(stage);
  }, 180_000);

  it('exits 1 when a threshold is breached, and still writes the report (here: conversation messages, each delivery decrypted and checked)', async () => {
    const json = join(dir, 'breached.json');
    const run = await loadtest([
      ...['--spawn', '2', '--accounts', '4', '--rate', '5', '--duration', '2s', '--verify', '--conversations'],
      ...['--threshold', 'p99<0.001ms', '--json', json, '--quiet'],
    ]);
    expect(run.code).toBe(1);
    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
    expect(report.thresholds).toEqual([expect.objectContaining({ expression: 'p99<0.001ms', passed: false })]);
    expect(report.passed).toBe(false);
    expect(report.totals.lost).toBe(0);
    expect(report.totals.delivered).toBe(10);
    expect(report.totals).toMatchObject({ verified: 10, verifyFailures: 0 });
  }, 180_000);

  it('on Ctrl-C stops sending, drains, stops everything it started and still writes the report of what ran', async () => {
    const json = join(dir, 'interrupted.json');
    const run = await loadtest(['--spawn', '1', '--accounts', '4', '--rate', '10', '--duration', '60s', '--json', json], /\[\s+3s stage/);
    expect(run.code).toBe(130);
    const report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
    expect(report.endedBy).toBe('interrupted');
    expect(report.totals.sent).toBeGreaterThanOrEqual(30);
    expect(report.totals.sent).toBeLessThan(100);
    expect(report.totals.lost).toBe(0);
    expect(report.totals.delivered).toBe(report.totals.expectedDeliveries);
    // The spawned homeserver's database is gone.
    const database = `${new URL(process.env.TEST_DATABASE_URL!).pathname.slice(1)}_loadtest_1`;
    const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      expect(rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  }, 180_000);

  it('refuses an unknown flag with exit code 2 and the usage, without a stack trace', async () => {
    const run = await loadtest(['--spawn', '2', '--no-such-flag']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: Unknown option '--no-such-flag'/);
    expect(run.stderr).toContain('usage: sealpost loadtest');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
