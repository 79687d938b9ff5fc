import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { join } from 'node:path';
import { GatewayConfig, loadGatewayConfig } from '../../libs/config/src';
import { createGatewayApp } from '../../apps/federation-gateway/src/gateway.app';
import { RunningHomeserver, startHomeserver } from './homeserver-harness';
import { freePort } from './service-process';
import { TEST_KEYS_ROOT, federationTestDatabaseUrl } from './test-keys';

export interface FederatedHomeserver extends RunningHomeserver {
  server: string;
  gatewayUrl: string;
  gateway: NestFastifyApplication | null;
  gatewayConfig: GatewayConfig;
  /** Stops only the gateway (the peer looks down); `startGateway` brings it back on the same port. */
  stopGateway(): Promise<void>;
  startGateway(): Promise<void>;
}

/**
 * Several homeservers in this process (directory + relay + gateway each), federating on
 * loopback through a static peer map, sharing the test Postgres (separate schemas would collide,
 * so each homeserver gets its own database) and the test Redis (separate prefixes).
 * `extraPeers` adds entries to every server's peer map (e.g. a loopback server that never answers).
 */
export async function startFederation(
  servers: string[],
  env: Record<string, Record<string, string>> = {},
  options: { extraPeers?: Record<string, string> } = {},
): Promise<FederatedHomeserver[]> {
  const ports = new Map<string, number>();
  for (const server of servers) ports.set(server, await freePort());
  const peers = [
    ...servers.map((s) => `${s}=http://127.0.0.1:${ports.get(s)}`),
    ...Object.entries(options.extraPeers ?? {}).map(([server, url]) => `${server}=${url}`),
  ].join(',');
  const running: FederatedHomeserver[] = [];
  for (const server of servers) {
    const databaseUrl = federationTestDatabaseUrl(process.env.TEST_DATABASE_URL!, server);
    const common = {
      SERVER_NAME: server,
      DATABASE_URL: databaseUrl,
      FEDERATION_PEERS: peers,
      FEDERATION_ALLOW_PRIVATE_PEERS: 'true',
      PUBLIC_URL: `http://127.0.0.1:${ports.get(server)}`,
      KEYS_DIR: join(TEST_KEYS_ROOT, server),
      FEDERATION_RETRY_BASE_MS: '200',
      FEDERATION_RETRY_MAX_MS: '1000',
      // A fresh peer's first probe may take seconds on a loaded CI machine; specs of the deadline set their own.
      FEDERATION_RESOLVE_TIMEOUT_MS: '15000',
      ...env[server],
    };
    const hs = await startHomeserver({ env: common });
    const gatewayConfig = loadGatewayConfig({
      // A server given its own REDIS_URL (e.g. a PrivateRedis to restart) runs its gateway on it too.
      REDIS_URL: process.env.TEST_REDIS_URL!,
      ...common,
      REDIS_PREFIX: hs.relayConfig.redisPrefix,
      // Discovery names the directory and relay this harness started, so clients find them.
      PUBLIC_DIRECTORY_URL: hs.directoryUrl,
      PUBLIC_RELAY_URL: hs.relayUrl,
      LOG_LEVEL: 'error',
      GATEWAY_PORT: String(ports.get(server)),
    });
    const entry: FederatedHomeserver = {
      ...hs,
      server,
      gatewayUrl: `http://127.0.0.1:${ports.get(server)}`,
      gateway: null,
      gatewayConfig,
      stopGateway: async () => {
        await entry.gateway?.close();
        entry.gateway = null;
      },
      startGateway: async () => {
        const app = await createGatewayApp(gatewayConfig);
        await app.listen(gatewayConfig.port, '127.0.0.1');
        entry.gateway = app;
      },
      close: async () => {
        await entry.stopGateway();
        await hs.close();
      },
    };
    await entry.startGateway();
    running.push(entry);
  }
  return running;
}
