import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadRelayConfig } from '@sealpost/config';
import { createHttpApp, listeningUrl, runService } from '@sealpost/http';
import { RelayModule } from './relay.module';

void runService('relay', () => loadRelayConfig(), async (config) => {
  const app = await createHttpApp(RelayModule.forConfig(config), { bodyLimit: 1024 * 1024, logLevel: config.logLevel });
  await app.listen(config.port, config.host);
  new Logger('Relay').log(`relay of ${config.serverName} listening on ${listeningUrl(app)}`);
});
