import { Logger } from '@nestjs/common';
import { unavailabilityReason } from './database-unavailable';

/** Told about each outage and each failed call, e.g. to count them as metrics. */
export interface AvailabilityObserver {
  outageStarted(): void;
  callFailed(): void;
}

/**
 * Whether Postgres is answering, as seen by this process: one log line when an outage starts
 * (the first failure), one when it is back (the first success after it), however many requests
 * failed in between — never a stack trace per request. Fed by the pool's events (a connection
 * lost or made), by the error filter (a call that failed as unavailable), by withTransaction
 * (a commit) and by the health check.
 */
export class PostgresAvailability {
  private readonly logger = new Logger('Postgres');
  private downSince: number | null = null;
  private failedDuringOutage = 0;
  private observers: AvailabilityObserver[] = [];

  /** `user`: who is speaking in the log lines, e.g. the pool's application name `sealpost-relay`. */
  constructor(private readonly user = 'this process') {}

  get isDown(): boolean {
    return this.downSince !== null;
  }

  observe(observer: AvailabilityObserver): void {
    this.observers.push(observer);
  }

  /** A call failed because Postgres was unreachable or too slow (isDatabaseUnavailable). */
  noteUnavailable(error: unknown): void {
    for (const o of this.observers) o.callFailed();
    this.failedDuringOutage += 1;
    this.noteConnectionLost(error);
  }

  /** An idle pooled connection died (no call failed): starts an outage if none is under way. */
  noteConnectionLost(error: unknown): void {
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    this.logger.warn(`Postgres unavailable to ${this.user} (${unavailabilityReason(error)}); answering 503 until it is back`);
    for (const o of this.observers) o.outageStarted();
  }

  /** Postgres answered. */
  noteAvailable(): void {
    if (this.downSince === null) return;
    const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.logger.log(`Postgres is back for ${this.user} after ${seconds} s (${this.failedDuringOutage} calls failed meanwhile)`);
    this.downSince = null;
    this.failedDuringOutage = 0;
  }
}
