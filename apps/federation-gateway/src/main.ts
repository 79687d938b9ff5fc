import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadGatewayConfig } from '@sealpost/config';
import { createHttpApp, listeningUrl, runService } from '@sealpost/http';
import { FederationGatewayModule } from './federation-gateway.module';

void runService('federation-gateway', () => loadGatewayConfig(), async (config) => {
  const app = await createHttpApp(FederationGatewayModule.forConfig(config), { bodyLimit: 1024 * 1024, logLevel: config.logLevel });
  await app.listen(config.port, config.host);
  new Logger('FederationGateway').log(`federation gateway of ${config.serverName} listening on ${listeningUrl(app)}`);
});
