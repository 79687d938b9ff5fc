import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import type { RelayConfig } from '@sealpost/config';
import { JobName, QueueName, bullPrefix } from '@sealpost/contracts';
import { bullConnection } from '@sealpost/redis';
import { IdempotencyKeysRepository } from '../mailbox/idempotency-keys.repository';
import { MessagesStore } from '../mailbox/messages-store.repository';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

const DELETE_CHUNK = 5000;
const IDEMPOTENCY_KEY_LIFETIME_SECONDS = 86400;

/**
 * A BullMQ repeatable job (one schedule shared by all relay replicas; one of them runs each
 * occurrence) that deletes unacked envelopes older than ENVELOPE_TTL_SECONDS, in chunks, and
 * idempotency keys older than a day.
 */
@Injectable()
export class EnvelopeExpiryProcessor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EnvelopeExpiryProcessor.name);
  private queue?: Queue;
  private worker?: Worker;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly store: MessagesStore,
    private readonly idempotencyKeys: IdempotencyKeysRepository,
    private readonly metrics: RelayMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    const connection = bullConnection(this.config.redisUrl);
    const prefix = bullPrefix(this.config.redisPrefix);
    this.queue = new Queue(QueueName.RelayMaintenance, { connection, prefix });
    this.queue.on('error', () => undefined);
    await this.queue.upsertJobScheduler('expire-envelopes', { every: this.config.expiryIntervalSeconds * 1000 }, {
      name: JobName.ExpireEnvelopes, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 },
    });
    this.worker = new Worker(QueueName.RelayMaintenance, async (job) => {
      if (job.name === JobName.ExpireEnvelopes) return this.expire();
      return undefined;
    }, { connection, prefix, concurrency: 1 });
    this.worker.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
  }

  /** One run: returns how many envelopes it deleted. */
  async expire(): Promise<number> {
    const cutoff = Date.now() - this.config.envelopeTtlSeconds * 1000;
    let total = 0;
    for (;;) {
      const deleted = await this.store.expireOlderThan(cutoff, DELETE_CHUNK);
      total += deleted;
      if (deleted < DELETE_CHUNK) break;
    }
    await this.idempotencyKeys.purgeOlderThan(IDEMPOTENCY_KEY_LIFETIME_SECONDS);
    this.metrics.expired.inc(total);
    if (total > 0) this.logger.log(`expired ${total} undelivered envelopes older than ${this.config.envelopeTtlSeconds} s`);
    return total;
  }
}
