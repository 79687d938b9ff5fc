import { Inject, Injectable, Logger } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { BoundedCache } from '@sealpost/redis';
import { ProvenPeersRepository } from './proven-peers.repository';

/** A peer noted as proven is written to Postgres at most this often per replica. */
const NOTE_INTERVAL_MS = 600_000;

/**
 * The servers that proved to be Sealpost peers: one answered a signed request of ours with 2xx,
 * or signed a request whose signature we verified. A server name that only appeared in a send (an
 * unauthenticated sealed send can name any) is not one. Key-transparency gossip polls only these
 * and the static peer map.
 */
@Injectable()
export class ProvenPeers {
  private readonly logger = new Logger(ProvenPeers.name);
  private readonly noted: BoundedCache<string, true>;
  private failing = false;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly repository: ProvenPeersRepository,
  ) {
    this.noted = new BoundedCache(config.federationLimits.keyCacheMaxEntries);
  }

  /** Records `server` as proven (in the background; a failed write is tried again on the next proof). */
  note(server: string): void {
    if (this.noted.get(server)) return;
    this.noted.set(server, true, NOTE_INTERVAL_MS);
    void this.repository.prove(server).then(
      () => {
        if (this.failing) this.logger.log('recording proven peers works again');
        this.failing = false;
      },
      (error: Error) => {
        this.noted.delete(server);
        if (!this.failing) this.logger.warn(`cannot record proven peers (logged once until it works again): ${error.message}`);
        this.failing = true;
      },
    );
  }

  all(): Promise<string[]> {
    return this.repository.all();
  }
}
