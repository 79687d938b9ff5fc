import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadDirectoryConfig } from '@sealpost/config';
import { listeningUrl, runService } from '@sealpost/http';
import { createDirectoryApp } from './directory.app';

void runService(
  'prekey-directory',
  () => loadDirectoryConfig(),
  async (config) => {
    const app = await createDirectoryApp(config);
    await app.listen(config.port, config.host);
    new Logger('PrekeyDirectory').log(`prekey directory of ${config.serverName} listening on ${listeningUrl(app)}`);
  },
);
