import { Injectable } from '@nestjs/common';
import { ExpiringCache } from '../directory-client/expiring-cache';
import { MessagesStore } from './messages-store.repository';

const TTL_MS = 1000;

/**
 * Per-device queue depths for the queue cap, read from Postgres at most once a second per
 * recipient and kept current by this relay's own stores (+) and acks (re-read). Across replicas
 * the cap may be overshot by what other replicas store within a second.
 */
@Injectable()
export class QueueDepthCache {
  private readonly depths = new ExpiringCache<string, Map<number, number>>(TTL_MS, 100_000);

  constructor(private readonly store: MessagesStore) {}

  async depthsOf(accountId: string): Promise<Map<number, number>> {
    let depths = this.depths.get(accountId);
    if (!depths) {
      depths = await this.store.queueDepths(accountId);
      this.depths.set(accountId, depths);
    }
    return depths;
  }

  stored(accountId: string, deviceIds: number[]): void {
    const depths = this.depths.get(accountId);
    if (!depths) return;
    for (const id of deviceIds) depths.set(id, (depths.get(id) ?? 0) + 1);
  }

  /** `deleted` acked envelopes of these devices are gone: lower the cached depths. */
  acknowledged(accountId: string, perDevice: Map<number, number>): void {
    const depths = this.depths.get(accountId);
    if (!depths) return;
    for (const [deviceId, count] of perDevice) depths.set(deviceId, Math.max(0, (depths.get(deviceId) ?? 0) - count));
  }
}
