import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import type { RelayConfig } from '@sealpost/config';
import { JobName, QueueName, bullPrefix } from '@sealpost/contracts';
import { RedisOutageLog, bullConnection } from '@sealpost/redis';
import { IdempotencyKeysRepository } from '../mailbox/idempotency-keys.repository';
import { MessagesStore } from '../mailbox/messages-store.repository';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

const DELETE_CHUNK = 5000;
const SCHEDULER_ID = 'expire-envelopes';
/** How often each replica checks that the schedule still exists in Redis (at most). */
const SCHEDULE_CHECK_MAX_MS = 30_000;
const IDEMPOTENCY_KEY_LIFETIME_SECONDS = 86400;

/**
 * A BullMQ repeatable job (one schedule shared by all relay replicas; one of them runs each
 * occurrence) that deletes unacked envelopes older than ENVELOPE_TTL_SECONDS, in chunks, and
 * idempotency keys older than a day.
 * The schedule lives in Redis: Redis losing its data loses it. So each replica checks, on a local
 * timer (every EXPIRY_INTERVAL_SECONDS, at most every 30 s), that it still exists, and re-creates
 * it if not — upserting one id is idempotent, so replicas doing it together make one schedule.
 */
@Injectable()
export class EnvelopeExpiryProcessor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EnvelopeExpiryProcessor.name);
  private queue?: Queue;
  private worker?: Worker;
  private checkTimer?: NodeJS.Timeout;
  private checking = false;
  private readonly outage = new RedisOutageLog(this.logger, 'envelope expiry queue', () =>
    this.metrics.queueErrors.inc({ queue: QueueName.RelayMaintenance }),
  );

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
    this.queue.on('error', this.outage.error);
    await this.upsertSchedule();
    this.worker = new Worker(
      QueueName.RelayMaintenance,
      async (job) => {
        if (job.name === JobName.ExpireEnvelopes) return this.expire();
        return undefined;
      },
      { connection, prefix, concurrency: 1 },
    );
    this.worker.on('error', this.outage.error);
    this.checkTimer = setInterval(
      () => void this.ensureSchedule(),
      Math.min(SCHEDULE_CHECK_MAX_MS, this.config.expiryIntervalSeconds * 1000),
    );
    this.checkTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.checkTimer);
    await this.worker?.close().catch((error: Error) => this.logger.warn(`closing the expiry worker: ${error.message}`));
    await this.queue?.close().catch((error: Error) => this.logger.warn(`closing the expiry queue: ${error.message}`));
  }

  /** Re-creates the repeatable expiry job if Redis lost it (e.g. restarted without persistence). */
  async ensureSchedule(): Promise<void> {
    if (this.checking || !this.queue) return;
    this.checking = true;
    try {
      if (!(await this.queue.getJobScheduler(SCHEDULER_ID))) {
        await this.upsertSchedule();
        this.logger.warn('the envelope expiry schedule was missing from Redis (data lost?); re-created it');
      }
      this.outage.ready();
    } catch (error) {
      this.outage.error(error);
    } finally {
      this.checking = false;
    }
  }

  private async upsertSchedule(): Promise<void> {
    await this.queue!.upsertJobScheduler(
      SCHEDULER_ID,
      { every: this.config.expiryIntervalSeconds * 1000 },
      {
        name: JobName.ExpireEnvelopes,
        data: {},
        opts: { removeOnComplete: 100, removeOnFail: 100 },
      },
    );
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
