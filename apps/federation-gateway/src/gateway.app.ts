import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { busServerStrategy } from '@sealpost/bus';
import type { GatewayConfig } from '@sealpost/config';
import { createHttpApp } from '@sealpost/http';
import { FederationGatewayModule } from './federation-gateway.module';
import { installFederationAdmission } from './inbound/federation-admission.hook';
import { UNSIGNED_ROUTE_MAX_BODY_BYTES } from './inbound/federation-body';

/**
 * Builds the gateway (HTTP with raw bodies for Content-Digest, bus listener) without listening.
 * Fastify's own body limit is the largest any route takes; each route's own cap, and the signature
 * check before any body is read, are installFederationAdmission's.
 */
export async function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(FederationGatewayModule.forConfig(config), {
    bodyLimit: Math.max(
      config.federationLimits.maxBatchBodyBytes,
      config.federationLimits.maxDeliveryBodyBytes,
      UNSIGNED_ROUTE_MAX_BODY_BYTES,
    ),
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    trustProxy: config.trustProxy,
    http: config.http,
    rawBody: true,
  });
  installFederationAdmission(app, config);
  app.connectMicroservice(busServerStrategy({ redisUrl: config.redisUrl, namespace: config.redisPrefix }));
  await app.startAllMicroservices();
  return app;
}
