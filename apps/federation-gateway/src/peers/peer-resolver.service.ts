import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { BoundedCache } from '@sealpost/redis';
import { PeerHttp, PeerNoAnswer } from './peer-http';
import { assertPublicPeer } from './ssrf-guard';

const DISCOVERY_CACHE_MS = 3600_000;
/** Discovery documents are small: a larger answer is not one. */
const DISCOVERY_MAX_ANSWER_BYTES = 64 * 1024;

export class PeerUnreachable extends Error {}
/** Discovery got no answer within FEDERATION_RESOLVE_TIMEOUT_MS: whether the name is a homeserver is undecided. */
export class PeerUnanswered extends PeerUnreachable {}

/**
 * Finds a peer's federation base URL: the static map in config (FEDERATION_PEERS) first, else
 * `https://{server}/.well-known/sealpost`. Every URL passes the SSRF guard before use (and
 * PeerHttp's again at connect time). Discovery waits at most FEDERATION_RESOLVE_TIMEOUT_MS (a
 * discovery document is small), runs once per name at a time (concurrent callers share it), and
 * a failed one is remembered for FEDERATION_KEY_DISCOVERY_NEGATIVE_TTL_SECONDS, so naming a
 * server that does not answer costs one lookup per TTL, not one per request; both caches are
 * bounded LRUs.
 */
@Injectable()
export class PeerResolver {
  private readonly discovered: BoundedCache<string, string>;
  private readonly failed: BoundedCache<string, PeerUnreachable>;
  private readonly inFlight = new Map<string, Promise<string>>();

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

  private discover(server: string): Promise<string> {
    const cached = this.discovered.get(server);
    if (cached) return Promise.resolve(cached);
    const failure = this.failed.get(server);
    if (failure) return Promise.reject(failure);
    const running = this.inFlight.get(server);
    if (running) return running;
    const discovering = this.fetchDiscovery(server)
      .then(
        (url) => {
          this.discovered.set(server, url, DISCOVERY_CACHE_MS);
          return url;
        },
        (error: Error) => {
          const reason = `discovery of ${server} failed: ${error.message}`;
          const failed = error instanceof PeerNoAnswer ? new PeerUnanswered(reason) : new PeerUnreachable(reason);
          this.failed.set(server, failed, this.config.federationLimits.keyDiscoveryNegativeTtlSeconds * 1000);
          throw failed;
        },
      )
      .finally(() => this.inFlight.delete(server));
    this.inFlight.set(server, discovering);
    return discovering;
  }

  private async fetchDiscovery(server: string): Promise<string> {
    const wellKnown = `https://${server}/.well-known/sealpost`;
    await assertPublicPeer(wellKnown, this.config.allowPrivatePeers);
    const answer = await this.http.fetch(wellKnown, {
      maxAnswerBytes: DISCOVERY_MAX_ANSWER_BYTES,
      timeoutMs: this.config.federationLimits.resolveTimeoutMs,
    });
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
    const doc = JSON.parse(answer.body.toString('utf8')) as { server?: unknown; federation?: unknown };
    if (doc.server !== server || typeof doc.federation !== 'string' || !/^https?:\/\//.test(doc.federation)) {
      throw new Error('an invalid document');
    }
    return doc.federation.replace(/\/$/, '');
  }
}
