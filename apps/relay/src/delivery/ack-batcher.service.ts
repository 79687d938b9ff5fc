import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { GroupCommitBatcher } from '@sealpost/db';
import { MessagesStore } from '../mailbox/messages-store.repository';
import { QueueDepthCache } from '../mailbox/queue-depth.cache';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

interface Ack {
  accountId: string;
  deviceId: number;
  id: string;
}

/** Backoff between attempts to delete acks whose delete failed: doubling from the first delay up to the cap. */
const RETRY_FIRST_DELAY_MS = 100;
const RETRY_MAX_DELAY_MS = 2000;

/**
 * Acks from all sockets are deleted in batches (one DELETE per batch). An ack whose delete fails
 * (Postgres down or restarting) is **kept and retried** with bounded backoff until the delete
 * succeeds; meanwhile this relay does not push that envelope again (`isAwaitingDelete`) and a
 * reconnect of the device waits for it (`settled`). Only if the relay stops before Postgres is
 * back are the acks lost, and the envelopes come again (at least once; clients dedupe on id).
 * A delete outage is logged once when it starts and once when it ends, and counted.
 */
@Injectable()
export class AckBatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(AckBatcher.name);
  private readonly batcher: GroupCommitBatcher<Ack, void>;
  /** Deletes still in flight or being retried, per device: a reconnect waits for them. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Acked ids per device whose delete has not succeeded yet. */
  private readonly awaitingDelete = new Map<string, Set<string>>();
  /** Failed delete attempts in the current outage (0: deletes are succeeding). */
  private failedAttempts = 0;
  private stopping = false;
  private readonly retryWaits = new Set<{ timer: NodeJS.Timeout; resolve(goOn: boolean): void }>();

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
    metrics.watchAcksAwaitingDelete(() => [...this.awaitingDelete.values()].reduce((n, ids) => n + ids.size, 0));
  }

  acknowledge(accountId: string, deviceId: number, ids: string[]): void {
    const key = `${accountId}/${deviceId}`;
    const awaiting = this.awaitingDelete.get(key) ?? new Set<string>();
    for (const id of ids) awaiting.add(id);
    this.awaitingDelete.set(key, awaiting);
    const deletes = this.deleteUntilDone(key, accountId, deviceId, ids);
    const all = Promise.all([this.pending.get(key), deletes]).then(() => undefined);
    this.pending.set(key, all);
    void all.then(() => {
      if (this.pending.get(key) === all) this.pending.delete(key);
    });
  }

  /** Resolves once every ack of this device received so far on this relay is deleted (or the relay is stopping). */
  settled(accountId: string, deviceId: number): Promise<void> {
    return this.pending.get(`${accountId}/${deviceId}`) ?? Promise.resolve();
  }

  /** True while this acked envelope's delete has not succeeded: it must not be pushed again. */
  isAwaitingDelete(accountId: string, deviceId: number, id: string): boolean {
    return this.awaitingDelete.get(`${accountId}/${deviceId}`)?.has(id) ?? false;
  }

  onApplicationShutdown(): void {
    this.stopping = true;
    for (const wait of this.retryWaits) {
      clearTimeout(wait.timer);
      wait.resolve(false);
    }
    this.retryWaits.clear();
    const left = [...this.awaitingDelete.values()].reduce((n, ids) => n + ids.size, 0);
    if (left > 0) this.logger.warn(`stopping with ${left} acked envelopes not yet deleted; they will be delivered again`);
  }

  /** Deletes `ids`, retrying the ones that failed with bounded backoff until all are deleted or the relay stops. */
  private async deleteUntilDone(key: string, accountId: string, deviceId: number, ids: string[]): Promise<void> {
    let left = ids;
    for (let delay = RETRY_FIRST_DELAY_MS; ; delay = Math.min(delay * 2, RETRY_MAX_DELAY_MS)) {
      const outcomes = await Promise.allSettled(left.map((id) => this.batcher.submit({ accountId, deviceId, id })));
      const failed = left.filter((_, i) => outcomes[i].status === 'rejected');
      this.forget(
        key,
        left.filter((_, i) => outcomes[i].status === 'fulfilled'),
      );
      if (failed.length === 0) {
        this.deletesSucceeded();
        return;
      }
      this.deleteFailed((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason);
      left = failed;
      if (!(await this.pause(delay))) return;
    }
  }

  private forget(key: string, ids: string[]): void {
    const awaiting = this.awaitingDelete.get(key);
    if (!awaiting) return;
    for (const id of ids) awaiting.delete(id);
    if (awaiting.size === 0) this.awaitingDelete.delete(key);
  }

  private deleteFailed(reason: unknown): void {
    this.metrics.ackDeleteFailures.inc();
    if (this.failedAttempts++ === 0) {
      this.logger.warn(
        `ack deletes failing (${(reason as Error)?.message ?? String(reason)}); keeping the acks and retrying until Postgres takes them`,
      );
    }
  }

  private deletesSucceeded(): void {
    if (this.failedAttempts === 0) return;
    this.logger.log(`ack deletes succeeding again after ${this.failedAttempts} failed attempts`);
    this.failedAttempts = 0;
  }

  /** Waits `ms`; false if the relay began stopping meanwhile (no more retries). */
  private pause(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.retryWaits.delete(wait);
          resolve(true);
        }, ms),
        resolve,
      };
      this.retryWaits.add(wait);
    });
  }
}
