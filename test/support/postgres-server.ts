import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service-process';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A private Postgres cluster for one spec (own data folder under /tmp, a spare loopback port,
 * trust auth), never the shared server. It runs as user `postgres` (initdb and postgres refuse
 * root). Durability settings are Postgres' defaults (fsync on): restart faults are real ones.
 *
 * `stop()` / `start()` take it down (fast) and bring the same data back on the same port;
 * `restart('fast' | 'immediate')` is `pg_ctl restart -m …`: every connection is killed (57P01
 * on fast, a crash-recovery restart on immediate). `freeze()` / `thaw()` SIGSTOP / SIGCONT the
 * postmaster and all its children: connections stay open but nothing answers.
 */
export class PrivatePostgres {
  private constructor(readonly port: number, private readonly dataDir: string, private readonly socketDir: string) {}

  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  static async start(): Promise<PrivatePostgres> {
    const root = mkdtempSync(join(tmpdir(), 'sealpost-pg-'));
    chownSync(root, uidOf('postgres'), gidOf('postgres'));
    const pg = new PrivatePostgres(await freePort(), join(root, 'data'), root);
    await asPostgres(join(PG_BIN, 'initdb'), ['-D', pg.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await pg.ctl('start');
    return pg;
  }

  /** Starts the cluster again after `stop()`: the same data on the same port. */
  async start(): Promise<void> {
    await this.ctl('start');
  }

  /** Fast shutdown: every connection is cut, as in a restart or failover; `start()` brings it back. */
  async stop(): Promise<void> {
    await this.ctl('stop', 'fast');
  }

  async restart(mode: 'fast' | 'immediate'): Promise<void> {
    await this.ctl('restart', mode);
  }

  /** Stops every Postgres process of this cluster (SIGSTOP): sockets stay open, nothing answers. */
  async freeze(): Promise<void> {
    await this.signalAll('STOP');
  }

  async thaw(): Promise<void> {
    await this.signalAll('CONT');
  }

  /** For afterAll: thaws, stops (immediate) and removes the data folder; never throws. */
  async destroy(): Promise<void> {
    await this.signalAll('CONT').catch(() => undefined);
    await this.ctl('stop', 'immediate').catch(() => undefined);
    rmSync(this.socketDir, { recursive: true, force: true });
  }

  private async ctl(action: 'start' | 'stop' | 'restart', mode?: 'fast' | 'immediate'): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.socketDir}`;
    await asPostgres(join(PG_BIN, 'pg_ctl'), [
      action, '-D', this.dataDir, '-w', '-t', '30', '-l', join(this.socketDir, 'postgres.log'),
      ...(action === 'stop' ? [] : ['-o', options]), ...(mode ? ['-m', mode] : []),
    ]);
  }

  private async signalAll(signal: 'STOP' | 'CONT'): Promise<void> {
    const postmaster = readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0].trim();
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', postmaster]).catch(() => ({ stdout: '' }));
    const pids = [postmaster, ...stdout.split('\n').map((p) => p.trim()).filter(Boolean)];
    // Children first on STOP (so none is left answering), the postmaster first on CONT.
    const ordered = signal === 'STOP' ? pids.reverse() : pids;
    for (const pid of ordered) {
      try {
        process.kill(Number(pid), `SIG${signal}`);
      } catch {
        // exited meanwhile
      }
    }
  }
}

async function asPostgres(command: string, args: string[]): Promise<void> {
  await run('runuser', ['-u', 'postgres', '--', command, ...args], { cwd: '/tmp' });
}

function uidOf(user: string): number {
  return Number(idField(user, 2));
}

function gidOf(user: string): number {
  return Number(idField(user, 3));
}

function idField(user: string, field: number): string {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no ${user} user on this machine`);
  return line.split(':')[field];
}
