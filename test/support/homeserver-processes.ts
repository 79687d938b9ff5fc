import { join } from 'node:path';
import { testPrefix } from './directory-harness';
import { ServiceProcess, freePort, startServiceProcess } from './service-process';
import { TEST_KEYS_ROOT, federationTestDatabaseUrl } from './test-keys';

/**
 * One homeserver as three BUILT child processes (directory, relay, gateway from dist/, so
 * `npm run build` first), sharing a database of its own (named as federation-harness.ts names
 * them), a fresh Redis prefix and KEYS_DIR. Their stdout/stderr is kept for the caller to read.
 */
export interface HomeserverProcesses {
  server: string;
  databaseUrl: string;
  redisPrefix: string;
  directory: ServiceProcess;
  relay: ServiceProcess;
  gateway: ServiceProcess;
  all(): ServiceProcess[];
  stop(): Promise<void>;
}

export async function startHomeserverProcesses(
  server: string,
  env: Record<string, string> = {},
  gatewayPort?: number,
): Promise<HomeserverProcesses> {
  const [directoryPort, relayPort] = [await freePort(), await freePort()];
  const port = gatewayPort ?? (await freePort());
  const databaseUrl = federationTestDatabaseUrl(process.env.TEST_DATABASE_URL!, server);
  const redisPrefix = testPrefix();
  const common = {
    SERVER_NAME: server,
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    REDIS_PREFIX: redisPrefix,
    KEYS_DIR: join(TEST_KEYS_ROOT, server),
    DIRECTORY_PORT: String(directoryPort),
    RELAY_PORT: String(relayPort),
    GATEWAY_PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    FEDERATION_ALLOW_PRIVATE_PEERS: 'true',
    LOG_LEVEL: 'debug',
    REGISTRATION_RATE_BURST: '1000000000',
    ...env,
  };
  const started: ServiceProcess[] = [];
  try {
    const directory = await startServiceProcess('apps/prekey-directory/src/main.js', common, directoryPort);
    started.push(directory);
    const relay = await startServiceProcess('apps/relay/src/main.js', common, relayPort);
    started.push(relay);
    const gateway = await startServiceProcess('apps/federation-gateway/src/main.js', common, port);
    started.push(gateway);
    return {
      server,
      databaseUrl,
      redisPrefix,
      directory,
      relay,
      gateway,
      all: () => [directory, relay, gateway],
      stop: async () => {
        for (const p of [gateway, relay, directory]) await p.stop();
      },
    };
  } catch (error) {
    for (const p of started) await p.stop('SIGKILL');
    throw error;
  }
}
