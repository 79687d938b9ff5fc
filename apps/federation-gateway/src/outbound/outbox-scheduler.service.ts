import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import type { GatewayConfig } from '@sealpost/config';
import { JobName, QueueName, bullPrefix } from '@sealpost/contracts';
import { bullConnection } from '@sealpost/redis';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { DestinationsRepository } from './destinations.repository';
import { OutboxRepository } from './outbox.repository';

const SWEEP_EVERY_MS = 5000;

/**
 * Drives outbox retries with BullMQ: one deduplicated flush job per destination (delayed by its
 * backoff), and a repeatable sweep that re-creates flush jobs from Postgres — so losing Redis
 * loses no retry, only delays it by one sweep.
 */
@Injectable()
export class OutboxScheduler implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxScheduler.name);
  private queue?: Queue;
  private worker?: Worker;
  private flushHandler: (destination: string) => Promise<void> = async () => undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly outbox: OutboxRepository,
    private readonly destinations: DestinationsRepository,
  ) {}

  /** Set by the flusher (which depends on this scheduler for retries). */
  onFlush(handler: (destination: string) => Promise<void>): void {
    this.flushHandler = handler;
  }

  async onModuleInit(): Promise<void> {
    const connection = bullConnection(this.config.redisUrl);
    const prefix = bullPrefix(this.config.redisPrefix);
    this.queue = new Queue(QueueName.FederationOutbox, { connection, prefix });
    this.queue.on('error', () => undefined);
    await this.queue.upsertJobScheduler('sweep-outbox', { every: SWEEP_EVERY_MS }, { name: JobName.SweepOutbox, data: {}, opts: { removeOnComplete: true, removeOnFail: true } });
    this.worker = new Worker(QueueName.FederationOutbox, async (job) => {
      if (job.name === JobName.FlushDestination) await this.flushHandler((job.data as { destination: string }).destination);
      else if (job.name === JobName.SweepOutbox) await this.sweep();
    }, { connection, prefix, concurrency: 8 });
    this.worker.on('error', () => undefined);
    this.worker.on('failed', (job, error) => this.logger.warn(`${job?.name} failed: ${error.message}`));
    await this.sweep().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
  }

  /** Ask for a flush of `destination` in `delayMs` (no-op if one is already waiting). */
  async flushSoon(destination: string, delayMs = 0): Promise<void> {
    await this.queue?.add(JobName.FlushDestination, { destination }, {
      jobId: `flush-${Buffer.from(destination).toString('base64url')}`, delay: Math.max(0, Math.round(delayMs)), removeOnComplete: true, removeOnFail: true,
    });
  }

  /**
   * Records a failed attempt and schedules the next one after the backoff. The retry job has an
   * id of its own: it is usually scheduled from inside the running flush job, whose id BullMQ
   * would treat as taken.
   */
  async retryLater(destination: string, error: string, retryAfterSeconds: number | null): Promise<void> {
    const delay = await this.backoffMs(destination, retryAfterSeconds);
    await this.destinations.recordFailure(destination, delay, error);
    await this.queue?.add(JobName.FlushDestination, { destination }, {
      jobId: `retry-${Buffer.from(destination).toString('base64url')}-${Date.now() + Math.round(delay)}`,
      delay: Math.round(delay), removeOnComplete: true, removeOnFail: true,
    }).catch(() => undefined);
  }

  async destinationRecovered(destination: string): Promise<void> {
    await this.destinations.recordSuccess(destination);
  }

  /** Jittered exponential backoff, never sooner than the peer's Retry-After. */
  async backoffMs(destination: string, retryAfterSeconds: number | null): Promise<number> {
    const failures = (await this.destinations.failures(destination)) + 1;
    const exponential = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** Math.min(failures - 1, 30));
    const jittered = exponential * (0.5 + Math.random() / 2);
    return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
  }

  private async sweep(): Promise<void> {
    const [withRows, due, all] = await Promise.all([this.outbox.destinations(), this.destinations.due(), this.destinations.all()]);
    const known = new Set(all.map((d) => d.destination));
    for (const destination of withRows) {
      if (due.has(destination) || !known.has(destination)) await this.flushSoon(destination);
    }
  }
}
