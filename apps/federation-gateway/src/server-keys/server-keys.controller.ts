import { Controller, Get } from '@nestjs/common';
import { ServerKeysDocument, ServerKeysService } from './server-keys.service';

/** `GET /federation/v1/server-keys`: this server's public signing keys, self-signed. Unauthenticated by design. */
@Controller('federation/v1/server-keys')
export class ServerKeysController {
  constructor(private readonly keys: ServerKeysService) {}

  @Get()
  document(): ServerKeysDocument {
    return this.keys.document();
  }
}
