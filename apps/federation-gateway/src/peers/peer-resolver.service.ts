import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { BoundedCache } from './bounded-cache';
import { PeerHttp } from './peer-http';
import { assertPublicPeer } from './ssrf-guard';

const DISCOVERY_CACHE_MS = 3600_000;
/** Discovery documents are small: a larger answer is not one. */
const DISCOVERY_MAX_ANSWER_BYTES = 64 * 1024;

export class PeerUnreachable extends Error {}

/**
 * Finds a peer's federation base URL: the static map in config (FEDERATION_PEERS) first, else
 * `https://{server}/.well-known/sealpost`. Every URL passes the SSRF guard before use (and
 * PeerHttp's again at connect time). A failed discovery is remembered for
 * FEDERATION_KEY_DISCOVERY_NEGATIVE_TTL_SECONDS, so naming a server that does not answer costs
 * one lookup per TTL, not one per request; both caches are bounded LRUs.
 */
@Injectable()
export class PeerResolver {
  private readonly discovered: BoundedCache<string, string>;
  private readonly failed: BoundedCache<string, string>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly http: PeerHttp,
  ) {
    this.discovered = new BoundedCache(config.federationLimits.keyCacheMaxEntries);
    this.failed = new BoundedCache(config.federationLimits.keyCacheMaxEntries);
  }

  async federationUrl(server: string): Promise<string> {
    if (!SERVER_PATTERN.test(server)) throw new PeerUnreachable(`"${server}" is not a server name`);
    const url = this.config.peers.get(server) ?? (await this.discover(server));
    if (!this.config.peers.has(server)) await assertPublicPeer(url, this.config.allowPrivatePeers);
    return url;
  }

  private async discover(server: string): Promise<string> {
    const cached = this.discovered.get(server);
    if (cached) return cached;
    const failure = this.failed.get(server);
    if (failure) throw new PeerUnreachable(failure);
    try {
      const url = await this.fetchDiscovery(server);
      this.discovered.set(server, url, DISCOVERY_CACHE_MS);
      return url;
    } catch (error) {
      const reason = `discovery of ${server} failed: ${(error as Error).message}`;
      this.failed.set(server, reason, this.config.federationLimits.keyDiscoveryNegativeTtlSeconds * 1000);
      throw new PeerUnreachable(reason);
    }
  }

  private async fetchDiscovery(server: string): Promise<string> {
    const wellKnown = `https://${server}/.well-known/sealpost`;
    await assertPublicPeer(wellKnown, this.config.allowPrivatePeers);
    const answer = await this.http.fetch(wellKnown, { maxAnswerBytes: DISCOVERY_MAX_ANSWER_BYTES });
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
    const doc = JSON.parse(answer.body.toString('utf8')) as { server?: unknown; federation?: unknown };
    if (doc.server !== server || typeof doc.federation !== 'string' || !/^https?:\/\//.test(doc.federation)) {
      throw new Error('an invalid document');
    }
    return doc.federation.replace(/\/$/, '');
  }
}
