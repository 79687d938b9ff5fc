import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@sealpost/config';
import { deleteRedisKeys, dropDatabase, freePort } from '@sealpost/loadtest';
import { spawnService, waitUntilHealthy } from '../service-processes';

/** One demo homeserver: three services, as `npm start` runs them, on free loopback ports. */
export interface DemoHomeserver {
  server: string;
  gatewayUrl: string;
  directoryUrl: string;
  relayUrl: string;
}

/**
 * Homeservers for `npm run demo`, isolated from a running `npm start`: their own databases
 * (`<DATABASE_URL's name>_demo_<server>`, dropped and recreated each run), a Redis prefix of
 * their own (`sp:demo:<pid>:<server>:`, deleted at the end), keys in a temporary folder, free
 * ports. `stop()` ends every process started here and removes what the run left behind.
 */
export class DemoHomeservers {
  private readonly children: ChildProcess[] = [];
  private readonly keysRoot = mkdtempSync(join(tmpdir(), 'sealpost-demo-keys-'));
  private readonly redisPrefix = `sp:demo:${process.pid}:`;
  private stopped?: Promise<void>;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async start(servers: string[]): Promise<DemoHomeserver[]> {
    const ports = new Map<string, { directory: number; relay: number; gateway: number }>();
    for (const server of servers) ports.set(server, { directory: await freePort(), relay: await freePort(), gateway: await freePort() });
    const local = (port: number) => `http://127.0.0.1:${port}`;
    const peers = servers.map((s) => `${s}=${local(ports.get(s)!.gateway)}`).join(',');
    const started: DemoHomeserver[] = [];
    const waits: Promise<void>[] = [];
    for (const server of servers) {
      const port = ports.get(server)!;
      const databaseUrl = demoDatabaseUrl(this.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, server);
      await dropDatabase(databaseUrl);
      const env: NodeJS.ProcessEnv = {
        ...this.env,
        SERVER_NAME: server,
        DATABASE_URL: databaseUrl,
        REDIS_PREFIX: `${this.redisPrefix}${server}:`,
        KEYS_DIR: join(this.keysRoot, server),
        DIRECTORY_PORT: String(port.directory),
        RELAY_PORT: String(port.relay),
        GATEWAY_PORT: String(port.gateway),
        PUBLIC_URL: local(port.gateway),
        FEDERATION_PEERS: peers,
        FEDERATION_ALLOW_PRIVATE_PEERS: 'true',
        OPEN_REGISTRATION: 'true',
        KT_EPOCH_SECONDS: '1',
        LOG_LEVEL: 'warn',
      };
      const specs = [
        { name: `${server} directory`, entry: 'apps/prekey-directory/src/main.js', healthUrl: `${local(port.directory)}/healthz` },
        { name: `${server} relay`, entry: 'apps/relay/src/main.js', healthUrl: `${local(port.relay)}/healthz` },
        { name: `${server} gateway`, entry: 'apps/federation-gateway/src/main.js', healthUrl: `${local(port.gateway)}/healthz` },
      ];
      for (const spec of specs) {
        const child = spawnService(spec, env, this.children.length);
        this.children.push(child);
        waits.push(waitUntilHealthy(spec.healthUrl, 45_000, () => child.exitCode === null));
      }
      started.push({ server, gatewayUrl: local(port.gateway), directoryUrl: local(port.directory), relayUrl: local(port.relay) });
    }
    await Promise.all(waits);
    return started;
  }

  /** Stops every service started (SIGTERM, SIGKILL after 10 s), deletes the run's Redis keys and key folder. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async stopAll(): Promise<void> {
    const exits = this.children.map((child) =>
      child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve)),
    );
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGTERM');
    const force = setTimeout(() => this.children.forEach((c) => c.kill('SIGKILL')), 10_000);
    await Promise.all(exits);
    clearTimeout(force);
    await deleteRedisKeys(this.env.REDIS_URL ?? DEFAULT_REDIS_URL, this.redisPrefix);
    rmSync(this.keysRoot, { recursive: true, force: true });
  }
}

function demoDatabaseUrl(base: string, server: string): string {
  return base.replace(
    /\/([^/?]*)(\?.*)?$/,
    (_m, name: string, query = '') => `/${name || 'sealpost'}_demo_${server.replace(/[^a-z0-9]/g, '_')}${query}`,
  );
}

/** The demo's own database starts empty each run (each service creates it and migrates as it starts). */
