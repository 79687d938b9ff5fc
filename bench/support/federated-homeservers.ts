/**
 * Complete homeservers for the federation bench: each one a prekey directory, a relay and a
 * federation gateway (three child processes) with its own database, Redis prefix, keys folder
 * and server name, all federating on loopback through a static peer map.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { REDIS_URL, exitOnSigtermPreload, resetSchemas } from './homeserver';
import { ServiceProcess, spawnService } from './service-process';

/**
 * A port that is free now, picked at random BELOW the kernel's ephemeral range (32768+): every
 * port here must be known before any service starts (peers list each other's gateways), and
 * ports handed out by `listen(0)` elsewhere on a busy machine were seen to take one meanwhile.
 */
async function reservePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolvePromise) => {
      const server = createServer();
      server.once('error', () => resolvePromise(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

export type ServiceKind = 'directory' | 'relay' | 'gateway';
export const SERVICE_KINDS: ServiceKind[] = ['directory', 'relay', 'gateway'];

const ENTRIES: Record<ServiceKind, string> = {
  directory: 'dist/apps/prekey-directory/src/main.js',
  relay: 'dist/apps/relay/src/main.js',
  gateway: 'dist/apps/federation-gateway/src/main.js',
};

export interface HomeserverSpec {
  /** Short label for logs and reports, e.g. `alpha`. */
  label: string;
  serverName: string;
  databaseUrl: string;
  /** Redis of this homeserver (default: REDIS_URL of the bench, the shared one). */
  redisUrl?: string;
  /** Extra env per service (on top of the common env; the caller's own env passes through underneath). */
  env?: Partial<Record<ServiceKind, Record<string, string>>>;
  /** Services to run under `--cpu-prof`, writing `<label>-<service>.cpuprofile` into `cpuProfDir`. */
  cpuProfile?: ServiceKind[];
}

interface Ports {
  directory: number;
  relay: number;
  gateway: number;
}

/** A service process that ended; `expected` when this harness stopped or killed it. */
export interface ServiceExit {
  kind: ServiceKind;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
  at: number;
}

export interface RunningHomeserver {
  label: string;
  serverName: string;
  databaseUrl: string;
  redisPrefix: string;
  keysDir: string;
  ports: Ports;
  /** The current process of each service (replaced by `restart` and `startServices`). */
  services: Record<ServiceKind, ServiceProcess>;
  /** Every exit of a service process so far, in order. */
  exits: ServiceExit[];
  /** Sends `signal` to one service (an expected exit) and waits until the process has ended. */
  kill(kind: ServiceKind, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a new process of `kind` on the same port (after it ended) and waits until it is healthy. */
  restart(kind: ServiceKind): Promise<void>;
  /** Stops all three services (SIGTERM, front to back), keeping keys and data; `startServices` brings them back. */
  stopServices(): Promise<void>;
  startServices(): Promise<void>;
  /** Stops the services and removes the keys folder. */
  stop(): Promise<void>;
}

export interface FederationOptions {
  /** Folder for `--cpu-prof` output of the services named in each spec's `cpuProfile`. */
  cpuProfDir?: string;
  /** Schemas dropped in each database before start (the services re-migrate). */
  resetSchemas?: string[];
  /** Where the services' output lines go (default: stderr, prefixed `<label>-<service>`). */
  onLine?: (name: string, line: string) => void;
  /** More FEDERATION_PEERS entries (server name → base URL), e.g. loopback stand-ins for servers that never answer. */
  extraPeers?: Record<string, string>;
}

/**
 * Starts every homeserver of `specs`, federating with each other (FEDERATION_PEERS lists all of
 * them, loopback allowed). Each child is pushed into `holder.services` as soon as it is spawned
 * so a signal handler can stop it while start-up is still running. Per homeserver the directory
 * starts first (it creates the database), then the relay and the gateway together.
 */
export async function startFederation(
  specs: HomeserverSpec[],
  options: FederationOptions,
  holder: { services: ServiceProcess[] },
): Promise<RunningHomeserver[]> {
  // dist/bench/support when the bench runs, bench/support when a test suite imports this from source.
  const root = existsSync(resolve(__dirname, '..', '..', 'package.json'))
    ? resolve(__dirname, '..', '..')
    : resolve(__dirname, '..', '..', '..');
  const ports = new Map<string, Ports>();
  const taken = new Set<number>();
  const port = () => reservePort(taken);
  for (const spec of specs) ports.set(spec.serverName, { directory: await port(), relay: await port(), gateway: await port() });
  const peers = [
    ...specs.map((s) => `${s.serverName}=http://127.0.0.1:${ports.get(s.serverName)!.gateway}`),
    ...Object.entries(options.extraPeers ?? {}).map(([server, url]) => `${server}=${url}`),
  ].join(',');
  for (const spec of specs) await resetSchemas(spec.databaseUrl, options.resetSchemas ?? ['directory', 'relay', 'federation']);

  const outcomes = await Promise.allSettled(
    specs.map(async (spec): Promise<RunningHomeserver> => {
      const p = ports.get(spec.serverName)!;
      const redisPrefix = `bench:${spec.label}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`;
      const keysDir = mkdtempSync(join(tmpdir(), `sealpost-bench-${spec.label}-keys-`));
      const common: Record<string, string> = {
        SERVER_NAME: spec.serverName,
        DATABASE_URL: spec.databaseUrl,
        REDIS_URL: spec.redisUrl ?? REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        BIND_HOST: '127.0.0.1',
        DIRECTORY_PORT: String(p.directory),
        RELAY_PORT: String(p.relay),
        GATEWAY_PORT: String(p.gateway),
        PUBLIC_URL: `http://127.0.0.1:${p.gateway}`,
        FEDERATION_PEERS: peers,
        FEDERATION_ALLOW_PRIVATE_PEERS: 'true',
        KEYS_DIR: keysDir,
        OPEN_REGISTRATION: 'true',
        REGISTRATION_RATE_BURST: '1000000000',
        LOG_LEVEL: 'warn',
      };
      const started: Partial<Record<ServiceKind, ServiceProcess>> = {};
      const exits: ServiceExit[] = [];
      const expectedExit = new Set<ServiceProcess>();
      let stopping = false;
      const spawnOne = (kind: ServiceKind): ServiceProcess => {
        const profile =
          options.cpuProfDir && spec.cpuProfile?.includes(kind)
            ? [
                '-r',
                exitOnSigtermPreload(),
                '--cpu-prof',
                `--cpu-prof-dir=${options.cpuProfDir}`,
                `--cpu-prof-name=${spec.label}-${kind}.cpuprofile`,
              ]
            : [];
        const service = spawnService({
          name: `${spec.label}-${kind}`,
          entry: resolve(root, ENTRIES[kind]),
          port: p[kind],
          nodeArgs: profile,
          env: { ...common, ...spec.env?.[kind] },
          startTimeoutMs: 60_000,
          onLine: options.onLine,
        });
        holder.services.push(service);
        started[kind] = service;
        service.child.once('exit', (code, signal) => {
          const expected = stopping || expectedExit.has(service);
          exits.push({ kind, pid: service.pid, code, signal, expected, at: Date.now() });
          if (!expected)
            process.stderr.write(`${spec.label}-${kind} (pid ${service.pid}) exited unexpectedly: code ${code}, signal ${signal}\n`);
        });
        return service;
      };
      const hasEnded = (service: ServiceProcess | undefined): boolean =>
        !service || service.child.exitCode !== null || service.child.signalCode !== null;
      const stopServices = async (): Promise<void> => {
        // Front to back: nothing new comes in while the services behind still answer.
        for (const kind of ['relay', 'gateway', 'directory'] as ServiceKind[]) {
          const service = started[kind];
          if (!service) continue;
          expectedExit.add(service);
          await service.stop().catch(() => undefined);
        }
      };
      const stopAll = async (): Promise<void> => {
        stopping = true;
        await stopServices();
        rmSync(keysDir, { recursive: true, force: true });
      };
      const startServices = async (): Promise<void> => {
        if (hasEnded(started.directory)) await spawnOne('directory').waitUntilHealthy();
        const back = (['relay', 'gateway'] as ServiceKind[]).filter((kind) => hasEnded(started[kind]));
        await Promise.all(back.map((kind) => spawnOne(kind).waitUntilHealthy()));
      };
      const startOne = async (): Promise<RunningHomeserver> => {
        const directory = spawnOne('directory');
        await directory.waitUntilHealthy();
        const relay = spawnOne('relay');
        const gateway = spawnOne('gateway');
        await Promise.all([relay.waitUntilHealthy(), gateway.waitUntilHealthy()]);
        // A health answer from somebody else's process on a stolen port must not pass for ours.
        await sleep(200);
        for (const [kind, service] of Object.entries(started)) {
          if (service!.child.exitCode !== null || service!.child.signalCode !== null)
            throw new Error(`${spec.label}-${kind} exited right after start-up`);
        }
        const keys = await request(`${gateway.baseUrl}/federation/v1/server-keys`);
        const doc = (await keys.body.json().catch(() => null)) as { server?: string } | null;
        if (keys.statusCode !== 200 || doc?.server !== spec.serverName) {
          throw new Error(
            `${gateway.baseUrl} does not serve ${spec.serverName}'s server keys (HTTP ${keys.statusCode}, server ${doc?.server})`,
          );
        }
        return {
          label: spec.label,
          serverName: spec.serverName,
          databaseUrl: spec.databaseUrl,
          redisPrefix,
          keysDir,
          ports: p,
          services: started as Record<ServiceKind, ServiceProcess>,
          exits,
          stop: stopAll,
          stopServices,
          startServices,
          async kill(kind, signal = 'SIGKILL') {
            const service = started[kind]!;
            if (hasEnded(service)) return;
            expectedExit.add(service);
            const exited = new Promise<void>((resolveExit) => service.child.once('exit', () => resolveExit()));
            service.child.kill(signal);
            await exited;
          },
          async restart(kind) {
            if (!hasEnded(started[kind])) throw new Error(`${spec.label}-${kind} is still running`);
            await spawnOne(kind).waitUntilHealthy();
          },
        };
      };
      try {
        return await startOne();
      } catch (error) {
        await stopAll();
        throw error;
      }
    }),
  );
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    // Stop the homeservers that did start too (and remove their keys folders) before giving up.
    await Promise.all(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.stop() : undefined)));
    throw failed.reason;
  }
  return outcomes.map((o) => (o as PromiseFulfilledResult<RunningHomeserver>).value);
}
