import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { busServerStrategy } from '@sealpost/bus';
import type { GatewayConfig } from '@sealpost/config';
import { createHttpApp } from '@sealpost/http';
import { FederationGatewayModule } from './federation-gateway.module';

/** Builds the gateway (HTTP with raw bodies for Content-Digest, bus listener) without listening. */
export async function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(FederationGatewayModule.forConfig(config), {
    bodyLimit: 64 * 1024 * 1024,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    trustProxy: config.trustProxy,
    http: config.http,
    rawBody: true,
  });
  app.connectMicroservice(busServerStrategy({ redisUrl: config.redisUrl, namespace: config.redisPrefix }));
  await app.startAllMicroservices();
  return app;
}
