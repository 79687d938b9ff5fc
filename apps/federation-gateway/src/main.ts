import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadGatewayConfig } from '@sealpost/config';
import { listeningUrl, runService } from '@sealpost/http';
import { createGatewayApp } from './gateway.app';

void runService(
  'federation-gateway',
  () => loadGatewayConfig(),
  async (config) => {
    const app = await createGatewayApp(config);
    await app.listen(config.port, config.host);
    new Logger('FederationGateway').log(
      `federation gateway of ${config.serverName} listening on ${listeningUrl(app)} (public ${config.publicUrl})`,
    );
  },
);
