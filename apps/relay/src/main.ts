import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadRelayConfig } from '@sealpost/config';
import { listeningUrl, runService } from '@sealpost/http';
import { createRelayApp } from './relay.app';

void runService(
  'relay',
  () => loadRelayConfig(),
  async (config) => {
    const app = await createRelayApp(config);
    await app.listen(config.port, config.host);
    new Logger('Relay').log(
      `relay of ${config.serverName} listening on ${listeningUrl(app)} (WebSockets at /v1/websocket, /v1/websocket/unidentified, /v1/provisioning/websocket)`,
    );
  },
);
