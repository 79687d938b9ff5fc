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
  /** The directory's key-transparency tree-head key (Ed25519, base64). */
  ktPublicKey: string;
}

/** `GET /.well-known/sealpost`: where clients and peers find every other URL of this homeserver. */
@Controller('.well-known/sealpost')
export class DiscoveryController {
  private trustRoot?: string;
  private ktPublicKey?: string;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig, @Inject(BUS_CLIENT) private readonly bus: ClientProxy) {}

  @Get()
  async document(): Promise<DiscoveryDocument> {
    // The directory owns the sealed-sender and KT keys; their public halves are asked for once.
    this.trustRoot ??= (await busAnswer(this.bus.send<{ trustRoot: string }>(DirectoryPattern.SealedSenderTrustRoot, {}), 'directory')).trustRoot;
    this.ktPublicKey ??= (await busAnswer(this.bus.send<{ publicKey: string }>(DirectoryPattern.KtPublicKey, {}), 'directory')).publicKey;
    return {
      server: this.config.serverName,
      directory: this.config.directoryUrl,
      relay: this.config.relayUrl,
      federation: this.config.publicUrl,
      sealedSenderTrustRoot: this.trustRoot,
      ktPublicKey: this.ktPublicKey,
    };
  }
}
