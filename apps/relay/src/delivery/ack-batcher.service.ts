import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { GroupCommitBatcher } from '@sealpost/db';
import { MessagesStore } from '../mailbox/messages-store.repository';
import { QueueDepthCache } from '../mailbox/queue-depth.cache';
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

  constructor(private readonly store: MessagesStore, private readonly depths: QueueDepthCache, @Inject(RELAY_CONFIG) config: RelayConfig) {
    this.batcher = new GroupCommitBatcher<Ack, void>({
      maxBatch: 1000,
      maxWaitMs: config.groupCommitMaxWaitMs,
      maxConcurrentCommits: 2,
      commit: async (acks) => {
        await this.store.deleteAcked(acks);
        for (const accountId of new Set(acks.map((a) => a.accountId))) this.depths.acknowledged(accountId);
        return acks.map(() => undefined);
      },
    });
  }

  acknowledge(accountId: string, deviceId: number, ids: string[]): void {
    for (const id of ids) {
      this.batcher.submit({ accountId, deviceId, id }).catch((error) => this.logger.warn(`ack delete failed, will redeliver: ${(error as Error).message}`));
    }
  }
}
