import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { busServerStrategy } from '@sealpost/bus';
import type { DirectoryConfig } from '@sealpost/config';
import { createHttpApp } from '@sealpost/http';
import { PrekeyDirectoryModule } from './prekey-directory.module';

/** Builds the directory (HTTP + bus listener) without listening, for main and for tests. */
export async function createDirectoryApp(config: DirectoryConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(PrekeyDirectoryModule.forConfig(config), {
    bodyLimit: config.maxBodyBytes,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    trustProxy: config.trustProxy,
    http: config.http,
  });
  app.connectMicroservice(busServerStrategy({ redisUrl: config.redisUrl, namespace: config.redisPrefix }));
  await app.startAllMicroservices();
  return app;
}
