import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service-process';

const run = promisify(execFile);
const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/**
 * A private Postgres cluster for one spec, on a spare loopback port, trust auth, in a temp
 * directory: `stop()` takes it down (fast shutdown: every connection is cut) and `start()` brings
 * the same data back on the same port — what restart tests want. initdb and postgres refuse to
 * run as root, so when the tests run as root the server runs as the `postgres` user.
 */
export class PrivatePostgres {
  private constructor(readonly port: number, private readonly dataDir: string, private readonly asPostgres: boolean) {}

  /** A database URL on this server (the database is created by `ensureDatabase`/`freshDatabase`). */
  url(database = 'sealpost'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb in a fresh temp directory, then starts the server and waits until it accepts connections. */
  static async start(): Promise<PrivatePostgres> {
    const root = mkdtempSync(join(tmpdir(), 'sealpost-pg-'));
    const asPostgres = process.getuid?.() === 0;
    if (asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(root, Number(stdout.trim()), Number(gid.trim()));
    }
    const server = new PrivatePostgres(await freePort(), join(root, 'data'), asPostgres);
    await server.pg('initdb', ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off`;
    await this.pg('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', join(this.dataDir, '..', 'server.log'), '-w', '-t', '30', 'start']);
  }

  /** Fast shutdown: open connections are terminated, as in a restart or failover. */
  async stop(): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  }

  /** For teardown: stops the server (if running) and removes its directory; never throws. */
  async destroy(): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => undefined);
    rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const binary = join(BIN, tool);
    if (this.asPostgres) await run('runuser', ['-u', 'postgres', '--', binary, ...args]);
    else await run(binary, args);
  }
}
