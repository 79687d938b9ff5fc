import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * The BUILT services (`npm test` builds `dist/` first) fail to start cleanly: with a store
 * unreachable or a bad config they exit on their own, non-zero, and say on stderr what is wrong,
 * where, and how to fix it — without a stack trace and without printing a secret.
 */

const ROOT = resolve(__dirname, '..');
/** A failing start must end by itself well within this; a process still running after it fails the test. */
const EXIT_WITHIN_MS = 15_000;
const STACK_FRAME = /^\s+at\s/m;

interface Entry {
  label: string;
  file: string;
  portVariable: string;
}

const ENTRIES: Entry[] = [
  { label: 'prekey directory', file: 'dist/apps/prekey-directory/src/main.js', portVariable: 'DIRECTORY_PORT' },
  { label: 'relay', file: 'dist/apps/relay/src/main.js', portVariable: 'RELAY_PORT' },
  { label: 'federation gateway', file: 'dist/apps/federation-gateway/src/main.js', portVariable: 'GATEWAY_PORT' },
  { label: '`npm start` orchestrator', file: 'dist/scripts/start.js', portVariable: 'DIRECTORY_PORT' },
];

/** A loopback port nothing listens on (taken from the OS, then released). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** A working environment (real test stores, free ports), with `overrides` applied; nothing inherited but PATH and HOME. */
function envWith(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    SERVER_NAME: 'alpha.test',
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    REDIS_URL: process.env.TEST_REDIS_URL,
    REDIS_PREFIX: `sptest:startup-${process.pid}:`,
    DIRECTORY_PORT: '0',
    RELAY_PORT: '0',
    GATEWAY_PORT: '0',
    LOG_LEVEL: 'error',
    ...overrides,
  };
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/**
 * Runs a built entry point and waits, bounded, for it to exit by itself. It runs in a process
 * group of its own so that, should it not exit (e.g. the orchestrator started its children),
 * the group it leads is killed in `finally`.
 */
async function runUntilExit(file: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const child = spawn(process.execPath, [join(ROOT, file)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'timeout'>((done) => {
      timer = setTimeout(() => done('timeout'), EXIT_WITHIN_MS);
      child.once('error', () => done({ code: null, signal: null }));
      child.once('close', (code, signal) => {
        closed = true;
        done({ code, signal });
      });
    });
    if (exit === 'timeout') {
      throw new Error(`${file} was still running after ${EXIT_WITHIN_MS} ms.\nstderr:\n${stderr}\nstdout:\n${stdout}`);
    }
    return { ...exit, stderr, stdout };
  } finally {
    clearTimeout(timer);
    if (!closed && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

function expectCleanFailure(outcome: Outcome): void {
  expect({ signal: outcome.signal, exitedNonZero: outcome.code !== null && outcome.code !== 0 }).toEqual({
    signal: null,
    exitedNonZero: true,
  });
  expect(outcome.stderr.trim()).not.toBe('');
  expect(outcome.stderr).not.toMatch(STACK_FRAME);
}

describe('built services refuse to start cleanly', () => {
  beforeAll(() => {
    for (const entry of ENTRIES) {
      if (!existsSync(join(ROOT, entry.file))) throw new Error(`${entry.file} is missing: run \`npm run build\` first`);
    }
  });

  describe.each(ENTRIES)('$label', ({ file, portVariable }) => {
    it('exits non-zero when Redis is unreachable, naming Redis, its URL and how to start it, without a stack trace', async () => {
      const port = await unusedPort();
      const outcome = await runUntilExit(file, envWith({ REDIS_URL: `redis://127.0.0.1:${port}` }));
      expectCleanFailure(outcome);
      expect(outcome.stderr).toMatch(/Redis/);
      expect(outcome.stderr).toContain(`redis://127.0.0.1:${port}`);
      expect(outcome.stderr).toMatch(/not reachable|unreachable|cannot connect|could not connect/i);
      expect(outcome.stderr).toMatch(/redis-server|docker run/);
      expect(outcome.stderr).toContain('REDIS_URL');
      // Postgres answers, so it must not be blamed
      expect(outcome.stderr).not.toMatch(/Postgre/);
    });

    it('exits non-zero when Postgres is unreachable, naming Postgres, its URL and how to start it, without a stack trace', async () => {
      const port = await unusedPort();
      const outcome = await runUntilExit(file, envWith({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x` }));
      expectCleanFailure(outcome);
      expect(outcome.stderr).toMatch(/Postgre/);
      expect(outcome.stderr).toContain(`postgres://postgres@127.0.0.1:${port}/x`);
      expect(outcome.stderr).toMatch(/not reachable|unreachable|cannot connect|could not connect/i);
      expect(outcome.stderr).toMatch(/pg_ctl|pg_ctlcluster|systemctl start postgresql|docker run/);
      expect(outcome.stderr).toContain('DATABASE_URL');
      expect(outcome.stderr).not.toMatch(/Redis/);
    });

    it('exits non-zero when both stores are unreachable, naming both', async () => {
      const [redisPort, pgPort] = [await unusedPort(), await unusedPort()];
      const outcome = await runUntilExit(
        file,
        envWith({
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/x`,
        }),
      );
      expectCleanFailure(outcome);
      expect(outcome.stderr).toContain(`redis://127.0.0.1:${redisPort}`);
      expect(outcome.stderr).toContain(`postgres://postgres@127.0.0.1:${pgPort}/x`);
      expect(outcome.stderr).toContain('REDIS_URL');
      expect(outcome.stderr).toContain('DATABASE_URL');
    });

    it(`exits non-zero on invalid config (SERVER_NAME='Bad Name', ${portVariable}=99999), listing both variables`, async () => {
      const outcome = await runUntilExit(file, envWith({ SERVER_NAME: 'Bad Name', [portVariable]: '99999' }));
      expectCleanFailure(outcome);
      expect(outcome.stderr).toContain('SERVER_NAME');
      expect(outcome.stderr).toContain(portVariable);
      expect(outcome.stderr).toContain('99999');
    });
  });

  it('blames only the variables that were set wrongly, not REDIS_PREFIX derived from a bad SERVER_NAME', async () => {
    const outcome = await runUntilExit(ENTRIES[0].file, envWith({ SERVER_NAME: 'Bad Name', DIRECTORY_PORT: '99999', REDIS_PREFIX: '' }));
    expectCleanFailure(outcome);
    const blamed = [...outcome.stderr.matchAll(/^\s*-\s+([A-Z][A-Z0-9_]*)\b/gm)].map((m) => m[1]);
    expect(blamed.sort()).toEqual(['DIRECTORY_PORT', 'SERVER_NAME']);
  });

  it('never prints the password of an unreachable store URL', async () => {
    const [redisPort, pgPort] = [await unusedPort(), await unusedPort()];
    const outcome = await runUntilExit(
      ENTRIES[0].file,
      envWith({
        REDIS_URL: `redis://:redis-hunter2@127.0.0.1:${redisPort}`,
        DATABASE_URL: `postgres://postgres:pg-hunter2@127.0.0.1:${pgPort}/x`,
      }),
    );
    expectCleanFailure(outcome);
    expect(outcome.stderr).toContain(`127.0.0.1:${redisPort}`);
    expect(outcome.stderr).toContain(`127.0.0.1:${pgPort}`);
    expect(outcome.stderr + outcome.stdout).not.toContain('hunter2');
  });
});
