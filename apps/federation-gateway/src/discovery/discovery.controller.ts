import { Controller, Get, Inject } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { GATEWAY_CONFIG } from '../gateway.tokens';

export interface DiscoveryDocument {
  server: string;
  directory: string;
  relay: string;
  federation: string;
}

/** `GET /.well-known/sealpost`: where clients and peers find every other URL of this homeserver. */
@Controller('.well-known/sealpost')
export class DiscoveryController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get()
  document(): DiscoveryDocument {
    return {
      server: this.config.serverName,
      directory: this.config.directoryUrl,
      relay: this.config.relayUrl,
      federation: this.config.publicUrl,
    };
  }
}
