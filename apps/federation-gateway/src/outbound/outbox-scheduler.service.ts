import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import type { GatewayConfig } from '@sealpost/config';
import { JobName, QueueName, bullPrefix } from '@sealpost/contracts';
import { RedisOutageLog, bullConnection } from '@sealpost/redis';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { GatewayMetrics } from '../gateway.metrics';
import { DestinationsRepository } from './destinations.repository';
import { OutboxRepository } from './outbox.repository';

/** The repeatable BullMQ sweep of earlier versions; removed at start, the sweep is now in-process. */
const LEGACY_SWEEP_SCHEDULER = 'sweep-outbox';

/**
 * When the outbox is flushed. Postgres is the source of truth: `federation.destinations` holds
 * each peer's failure count and `next_attempt_at`, and every replica sweeps it on a local timer
 * (FEDERATION_OUTBOX_SWEEP_MS), flushing each destination that has queued deliveries and is due —
 * in-process, so retries go on whatever happens to Redis, and come back with no restart after
 * Redis lost its data. A delayed BullMQ job per attempt window only makes a retry start on time
 * between sweeps; losing it delays that retry by at most one sweep.
 * Several replicas sweeping at once is fine: the flusher holds a per-destination lock.
 */
@Injectable()
export class OutboxScheduler implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxScheduler.name);
  private queue?: Queue;
  private worker?: Worker;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  private readonly outage = new RedisOutageLog(this.logger, 'outbox retry queue', () =>
    this.metrics.queueErrors.inc({ queue: QueueName.FederationOutbox }),
  );
  private flushHandler: (destination: string) => Promise<void> = () => Promise.reject(new Error('no flusher registered'));

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly outbox: OutboxRepository,
    private readonly destinations: DestinationsRepository,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Set by the flusher (which depends on this scheduler for retries). */
  onFlush(handler: (destination: string) => Promise<void>): void {
    this.flushHandler = handler;
  }

  async onModuleInit(): Promise<void> {
    const connection = bullConnection(this.config.redisUrl);
    const prefix = bullPrefix(this.config.redisPrefix);
    this.queue = new Queue(QueueName.FederationOutbox, { connection, prefix });
    this.queue.on('error', this.outage.error);
    this.queue.removeJobScheduler(LEGACY_SWEEP_SCHEDULER).catch(this.outage.error);
    this.worker = new Worker(
      QueueName.FederationOutbox,
      async (job) => {
        if (job.name === JobName.FlushDestination) await this.flushHandler((job.data as { destination: string }).destination);
      },
      { connection, prefix, concurrency: 8 },
    );
    this.worker.on('error', this.outage.error);
    this.worker.on('failed', (job, error) => this.logger.warn(`${job?.name} failed: ${error.message}`));
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.outboxSweepMs);
    this.sweepTimer.unref();
    void this.sweep();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.worker?.close().catch((error: Error) => this.logger.warn(`closing the outbox worker: ${error.message}`));
    await this.queue?.close().catch((error: Error) => this.logger.warn(`closing the outbox queue: ${error.message}`));
  }

  /** Flush `destination` now, in this process (joins a flush already running here). */
  flushSoon(destination: string): void {
    this.flushHandler(destination).catch((error: Error) => this.logger.warn(`flushing the outbox failed: ${error.message}`));
  }

  /**
   * Records a failed attempt — once per attempt window, whichever batch, flush or replica failed
   * (see DestinationsRepository) — and asks for a flush when the window closes. The job id names
   * the window, so the many failures of one window schedule one retry. Not awaited on Redis: while
   * Redis is away the sweep does the job (the error is logged once per outage and counted).
   */
  async retryLater(destination: string, error: string, retryAfterSeconds: number | null): Promise<void> {
    const window = await this.destinations.recordFailedAttempt(
      destination,
      {
        baseMs: this.config.retryBaseMs,
        maxMs: this.config.retryMaxMs,
        retryAfterSeconds,
      },
      error,
    );
    this.queue
      ?.add(
        JobName.FlushDestination,
        { destination },
        {
          jobId: `retry-${Buffer.from(destination).toString('base64url')}-${window.nextAttemptAt.getTime()}`,
          delay: Math.ceil(window.retryInMs),
          removeOnComplete: true,
          removeOnFail: true,
        },
      )
      .then(this.outage.ready, this.outage.error);
  }

  async destinationRecovered(destination: string): Promise<void> {
    await this.destinations.recordSuccess(destination);
  }

  /** Flushes every destination with queued deliveries that is due (or has no backoff row yet). */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      // Due-ness by the database's clock, the one next_attempt_at was written with.
      const [withRows, due, all] = await Promise.all([this.outbox.destinations(), this.destinations.due(), this.destinations.all()]);
      const known = new Set(all.map((d) => d.destination));
      for (const destination of withRows) {
        if (due.has(destination) || !known.has(destination)) this.flushSoon(destination);
      }
    } catch (error) {
      this.logger.warn(`outbox sweep failed: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}
