import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TEST_KEYS_ROOT } from './test-keys';
import { DirectoryConfig, loadDirectoryConfig } from '../../libs/config/src';
import { createDirectoryApp } from '../../apps/prekey-directory/src/directory.app';
import { listeningUrl } from '../../libs/http/src';

export interface RunningDirectory {
  app: NestFastifyApplication;
  url: string;
  config: DirectoryConfig;
  close(): Promise<void>;
}

/** A unique Redis prefix so parallel or repeated runs never see each other's keys. */
export function testPrefix(): string {
  return `sptest:${randomBytes(4).toString('hex')}:`;
}

/** Boots a real directory (Fastify + bus listener) against the test Postgres and Redis, on a free port. */
export async function startDirectory(env: Record<string, string> = {}): Promise<RunningDirectory> {
  const config = loadDirectoryConfig({
    SERVER_NAME: 'alpha.test',
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    REDIS_URL: process.env.TEST_REDIS_URL,
    REDIS_PREFIX: testPrefix(),
    DIRECTORY_PORT: '0',
    LOG_LEVEL: 'error',
    OPEN_REGISTRATION: 'true',
    REGISTRATION_RATE_BURST: '1000000000',
    KEYS_DIR: join(TEST_KEYS_ROOT, 'alpha.test'),
    ...env,
  });
  const app = await createDirectoryApp(config);
  await app.listen(0, '127.0.0.1');
  return { app, url: listeningUrl(app), config, close: () => app.close() };
}
