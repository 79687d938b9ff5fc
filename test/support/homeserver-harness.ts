import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DirectoryConfig, RelayConfig, loadDirectoryConfig, loadRelayConfig } from '../../libs/config/src';
import { listeningUrl } from '../../libs/http/src';
import { createDirectoryApp } from '../../apps/prekey-directory/src/directory.app';
import { createRelayApp } from '../../apps/relay/src/relay.app';
import { join } from 'node:path';
import { testPrefix } from './directory-harness';
import { TEST_KEYS_ROOT } from './test-keys';

export interface RunningHomeserver {
  directoryUrl: string;
  relayUrls: string[];
  relayUrl: string;
  directory: NestFastifyApplication;
  relays: NestFastifyApplication[];
  directoryConfig: DirectoryConfig;
  relayConfig: RelayConfig;
  close(): Promise<void>;
}

/**
 * One homeserver in this process: a real directory and N real relays sharing the test Postgres,
 * the test Redis and a fresh key/bus prefix, each on its own loopback port.
 */
export async function startHomeserver(options: { relays?: number; env?: Record<string, string> } = {}): Promise<RunningHomeserver> {
  const env = {
    SERVER_NAME: 'alpha.test',
    DATABASE_URL: process.env.TEST_DATABASE_URL!,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    REDIS_PREFIX: testPrefix(),
    LOG_LEVEL: 'error',
    OPEN_REGISTRATION: 'true',
    REGISTRATION_RATE_BURST: '1000000000',
    KEYS_DIR: join(TEST_KEYS_ROOT, 'alpha.test'),
    ...options.env,
  };
  const directoryConfig = loadDirectoryConfig({ ...env, DIRECTORY_PORT: '0' });
  const relayConfig = loadRelayConfig({ ...env, RELAY_PORT: '0' });
  const directory = await createDirectoryApp(directoryConfig);
  await directory.listen(0, '127.0.0.1');
  const relays: NestFastifyApplication[] = [];
  for (let i = 0; i < (options.relays ?? 1); i++) {
    const relay = await createRelayApp(relayConfig);
    await relay.listen(0, '127.0.0.1');
    relays.push(relay);
  }
  const relayUrls = relays.map((r) => listeningUrl(r));
  return {
    directoryUrl: listeningUrl(directory),
    relayUrls,
    relayUrl: relayUrls[0],
    directory,
    relays,
    directoryConfig,
    relayConfig,
    close: async () => {
      for (const relay of relays) await relay.close();
      await directory.close();
    },
  };
}
