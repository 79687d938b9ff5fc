import type { DiscoveryDocument } from '@sealpost/contracts';
import { Controller, Get, Inject } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { BUS_CLIENT } from '@sealpost/bus';
import type { GatewayConfig } from '@sealpost/config';
import { DirectoryPattern, SealedSenderTrustRootsReply } from '@sealpost/contracts';

/** The directory's public keys are asked for again at most this often (a rotation shows within it). */
const KEYS_CACHE_MS = 60_000;
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { busAnswer } from '../inbound/bus-answer';

/** `GET /.well-known/sealpost`: where clients and peers find every other URL of this homeserver. */
@Controller('.well-known/sealpost')
export class DiscoveryController {
  private directoryKeys?: { trustRoots: SealedSenderTrustRootsReply; ktPublicKey: string; until: number };

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(BUS_CLIENT) private readonly bus: ClientProxy,
  ) {}

  @Get()
  async document(): Promise<DiscoveryDocument> {
    // The directory owns the sealed-sender and KT keys; both rotate, so they are asked for again
    // at most every minute.
    if (!this.directoryKeys || this.directoryKeys.until < Date.now()) {
      const trustRoots = await busAnswer(
        this.bus.send<SealedSenderTrustRootsReply>(DirectoryPattern.SealedSenderTrustRoot, {}),
        'directory',
      );
      const { publicKey } = await busAnswer(this.bus.send<{ publicKey: string }>(DirectoryPattern.KtPublicKey, {}), 'directory');
      this.directoryKeys = { trustRoots, ktPublicKey: publicKey, until: Date.now() + KEYS_CACHE_MS };
    }
    const { trustRoots, ktPublicKey } = this.directoryKeys;
    return {
      server: this.config.serverName,
      directory: this.config.directoryUrl,
      relay: this.config.relayUrl,
      federation: this.config.publicUrl,
      sealedSenderTrustRoot: trustRoots.trustRoot,
      sealedSenderPreviousTrustRoots: trustRoots.previousTrustRoots,
      ktPublicKey,
    };
  }
}
