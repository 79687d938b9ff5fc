import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceKind } from '../options/load-options';
import { LOAD_ENV } from './load-limits.env';
import type { ResolvedTarget } from './resolved-target';
import { deleteRedisKeys, dropDatabase, freePort, loadtestDatabaseUrl, repositoryRoot } from './spawn-resources';

const ENTRIES: Record<ServiceKind, string> = {
  directory: 'dist/apps/prekey-directory/src/main.js',
  relay: 'dist/apps/relay/src/main.js',
  gateway: 'dist/apps/federation-gateway/src/main.js',
};

/**
 * `--spawn N`: N federated homeservers on loopback (three services each, from dist/), isolated
 * from anything else on the machine: databases `<DATABASE_URL's name>_loadtest_<n>` (default
 * `sealpost_loadtest_<n>`, dropped before and after the run), a Redis prefix of their own
 * (`sp:loadtest:<pid>:<n>:`, deleted at the end), keys in a temporary folder, free ports. The
 * services run in their own process group, so a Ctrl-C reaches only the load tester, which
 * then drains and stops them. `stop()` is idempotent and removes everything the run left.
 */
export class SpawnedHomeservers {
  private readonly children: ChildProcess[] = [];
  private readonly keysRoot = mkdtempSync(join(tmpdir(), 'sealpost-loadtest-keys-'));
  private readonly redisPrefix = `sp:loadtest:${process.pid}:`;
  private readonly databases: string[] = [];
  private stopped?: Promise<void>;
  /** Every service process started, with what a caller needs to watch it (CPU of its pid, its database). */
  readonly services: SpawnedService[] = [];

  constructor(
    /** The services' environment (the caller's; tuning variables such as GROUP_COMMIT_* pass through), under the load limits and the run's own settings. */
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly onLine: (name: string, line: string) => void = (name, line) => process.stderr.write(`[${name}] ${line}\n`),
  ) {}

  async start(count: number): Promise<ResolvedTarget[]> {
    const servers = Array.from({ length: count }, (_, i) => `hs${i + 1}.loadtest`);
    const ports = new Map<string, Record<ServiceKind, number>>();
    for (const server of servers) ports.set(server, { directory: await freePort(), relay: await freePort(), gateway: await freePort() });
    const local = (port: number) => `http://127.0.0.1:${port}`;
    const peers = servers.map((s) => `${s}=${local(ports.get(s)!.gateway)}`).join(',');
    const targets: ResolvedTarget[] = [];
    const waits: Promise<void>[] = [];
    for (const [i, server] of servers.entries()) {
      const port = ports.get(server)!;
      const databaseUrl = loadtestDatabaseUrl(this.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sealpost', i + 1);
      this.databases.push(databaseUrl);
      await dropDatabase(databaseUrl);
      const env: NodeJS.ProcessEnv = {
        ...LOAD_ENV,
        ...this.env,
        SERVER_NAME: server,
        DATABASE_URL: databaseUrl,
        REDIS_PREFIX: `${this.redisPrefix}${i + 1}:`,
        KEYS_DIR: join(this.keysRoot, server),
        BIND_HOST: '127.0.0.1',
        DIRECTORY_PORT: String(port.directory),
        RELAY_PORT: String(port.relay),
        GATEWAY_PORT: String(port.gateway),
        PUBLIC_URL: local(port.gateway),
        FEDERATION_PEERS: peers,
        FEDERATION_ALLOW_PRIVATE_PEERS: 'true',
      };
      // The directory first (it creates the database), then the relay and the gateway.
      waits.push(
        (async () => {
          const start = (kind: ServiceKind) =>
            this.startService(`hs${i + 1}-${kind}`, { server, kind, databaseUrl }, env, local(port[kind]));
          await start('directory');
          const back = await Promise.allSettled([start('relay'), start('gateway')]);
          for (const outcome of back) if (outcome.status === 'rejected') throw outcome.reason;
        })(),
      );
      targets.push({
        serverName: server,
        discoveryUrl: local(port.gateway),
        directoryUrl: local(port.directory),
        relayUrl: local(port.relay),
        federationUrl: local(port.gateway),
        metrics: (['directory', 'relay', 'gateway'] as ServiceKind[]).map((service) => ({
          service,
          url: `${local(port[service])}/metrics`,
        })),
      });
    }
    // Every start-up settles before a failure is passed on, so stop() finds every process that was spawned.
    const outcomes = await Promise.allSettled(waits);
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    return targets;
  }

  /** Stops every service (SIGTERM, SIGKILL after 10 s), drops the databases, deletes the Redis keys and key folders. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async startService(name: string, what: Omit<SpawnedService, 'pid'>, env: NodeJS.ProcessEnv, baseUrl: string): Promise<void> {
    if (this.stopped) throw new Error(`${name} not started: the homeservers are stopping`);
    const child = spawn(process.execPath, [join(repositoryRoot(), ENTRIES[what.kind])], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.children.push(child);
    this.services.push({ ...what, pid: child.pid ?? 0 });
    let pending = '';
    const forward = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.onLine(name, line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited during start-up (code ${child.exitCode})`);
      try {
        if ((await fetch(`${baseUrl}/healthz`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${name} did not become healthy within 60 s`);
  }

  private async stopAll(): Promise<void> {
    const exits = this.children.map((child) =>
      child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve)),
    );
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const force = setTimeout(() => this.children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')), 10_000);
    await Promise.all(exits);
    clearTimeout(force);
    await deleteRedisKeys(this.env.REDIS_URL ?? 'redis://127.0.0.1:6379', this.redisPrefix).catch((error: unknown) =>
      process.stderr.write(`loadtest: could not delete the Redis keys ${this.redisPrefix}*: ${(error as Error).message}\n`),
    );
    for (const url of this.databases)
      await dropDatabase(url).catch((error: unknown) =>
        process.stderr.write(`loadtest: could not drop ${new URL(url).pathname.slice(1)}: ${(error as Error).message}\n`),
      );
    rmSync(this.keysRoot, { recursive: true, force: true });
  }
}

/** One spawned service process. */
export interface SpawnedService {
  server: string;
  kind: ServiceKind;
  pid: number;
  databaseUrl: string;
}
