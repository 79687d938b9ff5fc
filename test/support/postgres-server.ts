import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service-process';

const run = promisify(execFile);
const BIN = process.env.POSTGRES_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
/** initdb and postgres refuse to run as root: every server command runs as this user. */
const OS_USER = 'postgres';

export type ShutdownMode = 'smart' | 'fast' | 'immediate';

/**
 * A private Postgres cluster for one spec, on a spare loopback port (never the shared server):
 * `initdb` into a temporary folder owned by the `postgres` user, trust authentication, and the
 * durability settings left as shipped (fsync on, synchronous_commit on) — so a restart, even
 * `-m immediate` (crash recovery from the WAL on the next start), keeps every committed row,
 * which is what the restart faults test. The cluster can be stopped and started again on the same
 * port, and frozen (SIGSTOP of the postmaster and all its children) and thawed (SIGCONT).
 */
export class PrivatePostgres {
  private frozenPids: number[] = [];

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** A connection URL for database `name` on this cluster (user postgres, no password). */
  url(name: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** Creates a cluster in a fresh temporary folder and starts it on a free port (or `port`). */
  static async create(port?: number): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-private-pg-'));
    chownSync(dir, uid(OS_USER), gid(OS_USER));
    const pg = new PrivatePostgres(port ?? (await freePort()), dir);
    await asPostgres('initdb', ['-D', pg.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    await pg.start();
    return pg;
  }

  /** Starts the cluster (crash recovery first if it was stopped `immediate`); resolves once it accepts connections. */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.dir}`,
      '-c max_connections=300',
      '-c shared_buffers=64MB',
      '-c log_min_messages=warning',
    ].join(' ');
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  }

  /** `pg_ctl stop -m <mode>`: fast rolls back sessions and checkpoints; immediate quits without a checkpoint (a crash, for the WAL). */
  async stop(mode: ShutdownMode = 'fast'): Promise<void> {
    this.thaw();
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async restart(mode: ShutdownMode): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** SIGSTOP to the postmaster and every child: connections stay open, nothing answers. */
  freeze(): void {
    const postmaster = this.postmasterPid();
    if (postmaster === null) throw new Error('Postgres is not running');
    this.frozenPids = [postmaster, ...childrenOf(postmaster)];
    for (const pid of this.frozenPids) process.kill(pid, 'SIGSTOP');
  }

  /** SIGCONT to what `freeze` stopped (children first, so the postmaster never sees them stopped). */
  thaw(): void {
    for (const pid of [...this.frozenPids].reverse()) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // the process is gone already
      }
    }
    this.frozenPids = [];
  }

  get frozen(): boolean {
    return this.frozenPids.length > 0;
  }

  /** The postmaster's pid from postmaster.pid, or null when the cluster is stopped. */
  postmasterPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  get running(): boolean {
    return this.postmasterPid() !== null;
  }

  /** The server log (for a failing spec's message). */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'server.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** For teardown: stops the cluster at once and removes its folder; never throws. */
  async destroy(): Promise<void> {
    this.thaw();
    if (this.running) await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function asPostgres(binary: string, args: string[]): Promise<void> {
  try {
    await run('runuser', ['-u', OS_USER, '--', join(BIN, binary), ...args], { timeout: 90_000 });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Direct children of `parent` (from /proc): a postmaster's backends and background workers. */
function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function uid(user: string): number {
  return Number(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`))
      ?.split(':')[2] ?? NaN,
  );
}

function gid(user: string): number {
  return Number(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`))
      ?.split(':')[3] ?? NaN,
  );
}
