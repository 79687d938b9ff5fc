import { Injectable } from '@nestjs/common';
import { DestinationsRepository } from '../outbound/destinations.repository';
import { OutboxRepository } from '../outbound/outbox.repository';
import { PeerKeysRepository } from '../peers/peer-keys.repository';

export interface DestinationStatus {
  destination: string;
  queueDepth: number;
  oldestEnvelopeAgeSeconds: number | null;
  failures: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
}

/** Per-destination state of outbound federation, for `federation status` and the admin endpoint. */
@Injectable()
export class FederationStatus {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly destinations: DestinationsRepository,
    private readonly peerKeys: PeerKeysRepository,
  ) {}

  async status(): Promise<DestinationStatus[]> {
    const [stats, states] = await Promise.all([this.outbox.stats(), this.destinations.all()]);
    const names = new Set([...stats.keys(), ...states.map((s) => s.destination)]);
    return [...names].sort().map((destination) => {
      const stat = stats.get(destination);
      const state = states.find((s) => s.destination === destination);
      return {
        destination,
        queueDepth: stat?.depth ?? 0,
        oldestEnvelopeAgeSeconds: stat ? Math.round((Date.now() - stat.oldest.getTime()) / 1000) : null,
        failures: state?.failures ?? 0,
        nextAttemptAt: state && (stat?.depth ?? 0) > 0 ? state.nextAttemptAt.toISOString() : null,
        lastAttemptAt: state?.lastAttemptAt?.toISOString() ?? null,
        lastError: state?.lastError ?? null,
      };
    });
  }

  /** Clears backoff (retry at once) and forgets pinned keys of `server`; queued deliveries stay. */
  async reset(server: string): Promise<{ forgottenKeys: number }> {
    await this.destinations.reset(server);
    return { forgottenKeys: await this.peerKeys.forget(server) };
  }
}
