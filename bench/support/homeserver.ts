/**
 * A directory + relay pair for the relay benches: each service one child process, sharing one
 * bench database (separate schemas), one fresh Redis prefix and one server name.
 */
import { resolve } from 'node:path';
import { Client } from 'pg';
import type { Pool } from 'undici';
import { ServiceProcess, freePort, spawnService } from './service-process';

export const BENCH_SERVER_NAME = 'bench.sealpost';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Drops the given schemas of the bench database, if it exists (the services re-migrate; they also create the database). */
export async function resetSchemas(databaseUrl: string, schemas: string[]): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') return; // no database yet: the first service creates it
    throw error;
  }
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export interface HomeserverOptions {
  databaseUrl: string;
  /** Extra env for the relay (rate limits, ping interval...); the caller's own env passes through underneath. */
  relayEnv?: Record<string, string>;
  relayNodeArgs?: string[];
  directoryEnv?: Record<string, string>;
}

export interface Homeserver {
  directory: ServiceProcess;
  relay: ServiceProcess;
  redisPrefix: string;
  stop(): Promise<void>;
}

/**
 * Spawns the directory and the relay, registering each in `holder` at once so a caller's
 * signal handler can stop them even while they are still starting.
 */
export async function startHomeserver(
  options: HomeserverOptions,
  holder: { services: ServiceProcess[]; stopping?: boolean },
): Promise<Homeserver> {
  const root = resolve(__dirname, '..', '..', '..');
  const redisPrefix = `bench:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`;
  const common = {
    BIND_HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    SERVER_NAME: BENCH_SERVER_NAME,
    LOG_LEVEL: 'warn',
  };
  const directoryPort = await freePort();
  const directory = spawnService({
    name: 'directory',
    entry: resolve(root, 'dist/apps/prekey-directory/src/main.js'),
    port: directoryPort,
    env: {
      ...common,
      DIRECTORY_PORT: String(directoryPort),
      OPEN_REGISTRATION: 'true',
      REGISTRATION_RATE_BURST: '1000000000',
      ...options.directoryEnv,
    },
  });
  holder.services.push(directory);
  // The directory first: it creates the database if needed, and the relay asks it over the bus.
  await directory.waitUntilHealthy();
  const relayPort = await freePort();
  const relay = spawnService({
    name: 'relay',
    entry: resolve(root, 'dist/apps/relay/src/main.js'),
    port: relayPort,
    nodeArgs: options.relayNodeArgs,
    env: { ...common, RELAY_PORT: String(relayPort), ...options.relayEnv },
  });
  holder.services.push(relay);
  for (const service of [directory, relay]) {
    service.child.once('exit', (code, signal) => {
      if (!holder.stopping)
        process.stderr.write(
          `${service === relay ? 'relay' : 'directory'} (pid ${service.pid}) exited unexpectedly: code ${code}, signal ${signal}\n`,
        );
    });
  }
  await relay.waitUntilHealthy();
  return {
    directory,
    relay,
    redisPrefix,
    async stop() {
      holder.stopping = true;
      await relay.stop().catch(() => undefined);
      await directory.stop().catch(() => undefined);
    },
  };
}

/** The compiled exit-on-sigterm preload, for profiling a child with `--cpu-prof`. */
export function exitOnSigtermPreload(): string {
  return resolve(__dirname, 'exit-on-sigterm.js');
}

export interface Registered {
  address: string;
  accountId: string;
  deviceId: number;
  token: string;
}

/** POSTs a JSON body, expecting `expected`; returns the parsed answer. */
export async function postJson<T>(
  http: Pool,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  expected = 201,
): Promise<T> {
  const answer = await http.request({
    method: 'POST',
    path,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await answer.body.text();
  if (answer.statusCode !== expected) throw new Error(`POST ${path}: ${answer.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
