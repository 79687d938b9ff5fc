import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { assertPublicPeer } from './ssrf-guard';

const DISCOVERY_CACHE_MS = 3600_000;

export class PeerUnreachable extends Error {}

/**
 * Finds a peer's federation base URL: the static map in config (FEDERATION_PEERS) first, else
 * `https://{server}/.well-known/sealpost`. Every URL passes the SSRF guard before use.
 */
@Injectable()
export class PeerResolver {
  private readonly discovered = new Map<string, { url: string; until: number }>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  async federationUrl(server: string): Promise<string> {
    if (!SERVER_PATTERN.test(server)) throw new PeerUnreachable(`"${server}" is not a server name`);
    const url = this.config.peers.get(server) ?? (await this.discover(server));
    await assertPublicPeer(url, this.config.allowPrivatePeers);
    return url;
  }

  private async discover(server: string): Promise<string> {
    const cached = this.discovered.get(server);
    if (cached && cached.until > Date.now()) return cached.url;
    const wellKnown = `https://${server}/.well-known/sealpost`;
    await assertPublicPeer(wellKnown, this.config.allowPrivatePeers);
    let doc: { server?: unknown; federation?: unknown };
    try {
      const response = await fetch(wellKnown, { signal: AbortSignal.timeout(this.config.requestTimeoutMs), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      doc = (await response.json()) as typeof doc;
    } catch (error) {
      throw new PeerUnreachable(`discovery of ${server} failed: ${(error as Error).message}`);
    }
    if (doc.server !== server || typeof doc.federation !== 'string' || !/^https?:\/\//.test(doc.federation)) {
      throw new PeerUnreachable(`discovery of ${server} returned an invalid document`);
    }
    const url = doc.federation.replace(/\/$/, '');
    this.discovered.set(server, { url, until: Date.now() + DISCOVERY_CACHE_MS });
    return url;
  }
}
