import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { busServerStrategy } from '@sealpost/bus';
import type { RelayConfig } from '@sealpost/config';
import { createHttpApp, requestsPerClientOf } from '@sealpost/http';
import { WebSocketGateway } from './delivery/websocket.gateway';
import { installRemoteSendAdmission } from './mailbox/remote-send-admission.hook';
import { installSendMetrics } from './mailbox/send-metrics.hook';
import { SocketSends } from './socket-sends/socket-sends.service';
import { RelayModule } from './relay.module';

/** Builds the relay (HTTP, WebSocket upgrades, bus listener) without listening, for main and tests. */
export async function createRelayApp(config: RelayConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(RelayModule.forConfig(config), {
    bodyLimit: config.maxBodyBytes,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    trustProxy: config.trustProxy,
    http: config.http,
    acceptsUpgrades: true,
  });
  installRemoteSendAdmission(app);
  installSendMetrics(app);
  app.get(SocketSends).shareRequestsPerClient(requestsPerClientOf(app));
  app.get(WebSocketGateway).attach(app.getHttpServer());
  app.connectMicroservice(busServerStrategy({ redisUrl: config.redisUrl, namespace: config.redisPrefix }));
  await app.startAllMicroservices();
  return app;
}
