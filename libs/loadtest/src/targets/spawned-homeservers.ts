import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import type { ServiceKind } from '../options/load-options';
import type { ResolvedTarget } from './resolved-target';

const ENTRIES: Record<ServiceKind, string> = {
  directory: 'dist/apps/prekey-directory/src/main.js',
  relay: 'dist/apps/relay/src/main.js',
  gateway: 'dist/apps/federation-gateway/src/main.js',
};

/**
 * Limits of a spawned homeserver raised out of the load's way: it measures delivery, and every
 * account and socket of the run comes from a few loopback addresses.
 */
const LOAD_ENV: Record<string, string> = {
  OPEN_REGISTRATION: 'true',
  REGISTRATION_RATE_BURST: '1000000000',
  REGISTRATION_RATE_PER_HOUR: '1000000000',
  CLAIM_RATE_BURST: '10000000',
  CLAIM_RATE_PER_MINUTE: '100000000',
  SEND_RATE_BURST: '100000000',
  SEND_RATE_PER_MINUTE: '1000000000',
  RECEIVE_RATE_BURST: '100000000',
  RECEIVE_RATE_PER_MINUTE: '1000000000',
  SEND_PAIR_RATE_BURST: '100000000',
  SEND_PAIR_RATE_PER_MINUTE: '1000000000',
  SEALED_REMOTE_RATE_BURST: '100000000',
  SEALED_REMOTE_RATE_PER_MINUTE: '1000000000',
  REMOTE_DESTINATION_RATE_BURST: '100000000',
  REMOTE_DESTINATION_RATE_PER_MINUTE: '1000000000',
  PROVISIONING_SOCKET_RATE_BURST: '100000000',
  PROVISIONING_SOCKET_RATE_PER_MINUTE: '1000000000',
  PROVISIONING_PUT_RATE_BURST: '100000000',
  PROVISIONING_PUT_RATE_PER_MINUTE: '1000000000',
  HTTP_MAX_REQUESTS_PER_CLIENT: '1000000',
  KT_EPOCH_SECONDS: '1',
  LOG_LEVEL: 'warn',
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

export function loadtestDatabaseUrl(base: string, n: number): string {
  return base.replace(/\/([^/?]*)(\?.*)?$/, (_m, name: string, query = '') => `/${name || 'sealpost'}_loadtest_${n}${query}`);
}

/** The folder holding the project's package.json (dist/ or the sources may be the one running). */
export function repositoryRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'sealpost') return dir;
  }
  throw new Error('cannot find the sealpost repository root (package.json) above the load tester');
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new Client({ connectionString: databaseUrl.replace(/\/[^/?]*(\?.*)?$/, '/postgres$1') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
