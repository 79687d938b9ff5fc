import { Controller, Get, Inject } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { BUS_CLIENT } from '@sealpost/bus';
import type { GatewayConfig } from '@sealpost/config';
import { DirectoryPattern } from '@sealpost/contracts';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { busAnswer } from '../inbound/bus-answer';

export interface DiscoveryDocument {
  server: string;
  directory: string;
  relay: string;
  federation: string;
  sealedSenderTrustRoot: string;
}

/** `GET /.well-known/sealpost`: where clients and peers find every other URL of this homeserver. */
@Controller('.well-known/sealpost')
export class DiscoveryController {
  private trustRoot?: string;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig, @Inject(BUS_CLIENT) private readonly bus: ClientProxy) {}

  @Get()
  async document(): Promise<DiscoveryDocument> {
    // The directory owns the sealed-sender keys; the public trust root is asked for once.
    this.trustRoot ??= (await busAnswer(this.bus.send<{ trustRoot: string }>(DirectoryPattern.SealedSenderTrustRoot, {}), 'directory')).trustRoot;
    return {
      server: this.config.serverName,
      directory: this.config.directoryUrl,
      relay: this.config.relayUrl,
      federation: this.config.publicUrl,
      sealedSenderTrustRoot: this.trustRoot,
    };
  }
}
