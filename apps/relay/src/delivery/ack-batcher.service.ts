import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { GroupCommitBatcher } from '@sealpost/db';
import { MessagesStore } from '../mailbox/messages-store.repository';
import { QueueDepthCache } from '../mailbox/queue-depth.cache';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

interface Ack { accountId: string; deviceId: number; id: string }

/**
 * Acks from all sockets are deleted in batches (one DELETE per batch). An ack whose delete
 * fails leaves the envelope stored: it is delivered again later (at least once; clients dedupe on id).
 */
@Injectable()
export class AckBatcher {
  private readonly logger = new Logger(AckBatcher.name);
  private readonly batcher: GroupCommitBatcher<Ack, void>;

  constructor(
    private readonly store: MessagesStore,
    private readonly depths: QueueDepthCache,
    private readonly metrics: RelayMetrics,
    @Inject(RELAY_CONFIG) config: RelayConfig,
  ) {
    this.batcher = new GroupCommitBatcher<Ack, void>({
      maxBatch: 1000,
      maxWaitMs: config.groupCommitMaxWaitMs,
      maxConcurrentCommits: 2,
      commit: async (acks) => {
        await this.store.deleteAcked(acks);
        this.metrics.acked.inc(acks.length);
        const perAccount = new Map<string, Map<number, number>>();
        for (const a of acks) {
          const devices = perAccount.get(a.accountId) ?? new Map<number, number>();
          devices.set(a.deviceId, (devices.get(a.deviceId) ?? 0) + 1);
          perAccount.set(a.accountId, devices);
        }
        for (const [accountId, devices] of perAccount) this.depths.acknowledged(accountId, devices);
        return acks.map(() => undefined);
      },
    });
  }

  /** Deletes still in flight per device: a reconnect waits for them, so acked envelopes are not sent again. */
  private readonly pending = new Map<string, Promise<void>>();

  acknowledge(accountId: string, deviceId: number, ids: string[]): void {
    const key = `${accountId}/${deviceId}`;
    const deletes = Promise.all(ids.map((id) => this.batcher.submit({ accountId, deviceId, id })))
      .then(() => undefined, (error: Error) => this.logger.warn(`ack delete failed, will redeliver: ${error.message}`));
    const all = Promise.all([this.pending.get(key), deletes]).then(() => undefined);
    this.pending.set(key, all);
    void all.then(() => { if (this.pending.get(key) === all) this.pending.delete(key); });
  }

  /** Resolves once every ack of this device received so far on this relay is deleted (or failed). */
  settled(accountId: string, deviceId: number): Promise<void> {
    return this.pending.get(`${accountId}/${deviceId}`) ?? Promise.resolve();
  }
}
