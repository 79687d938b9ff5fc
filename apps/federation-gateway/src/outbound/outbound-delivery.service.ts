import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Pool } from 'pg';
import type { GatewayConfig } from '@sealpost/config';
import { DeliveryReply, DeliveryResult, OutboundDeliveryRequest } from '@sealpost/contracts';
import { GroupCommitBatcher, PG_POOL, withTransaction } from '@sealpost/db';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { FederationHttpClient, PeerAnswer } from '../peers/federation-http.client';
import { PeerUnreachable } from '../peers/peer-resolver.service';
import { PeerAddressRefused } from '../peers/ssrf-guard';
import { EnqueueRefusal, OutboxBacklogRepository } from './outbox-backlog.repository';
import { OutboxRepository, OutboxRow } from './outbox.repository';
import { OutboxScheduler } from './outbox-scheduler.service';
import { SenderNotices } from './sender-notices.service';
import { DestinationVetting } from './destination-vetting.service';
import { GatewayMetrics } from '../gateway.metrics';
import { requestSizedParts } from './request-sized-parts';

const QUEUED: DeliveryReply = { status: 202, body: { queued: true } };
const retryable = (status: number) => status === 429 || status >= 500;
/**
 * A whole request refused as unauthenticated usually means the peer could not check our
 * signature yet (keys not fetched, clock skew): kept and retried, never dropped on the spot.
 */
const retryableWholeRequest = (status: number) => retryable(status) || status === 401;

/**
 * Outbound federation delivery. A delivery is tried at once (deliveries to one destination
 * arriving together share one signed request); if the peer is unreachable or answers 5xx/429 it
 * goes to the durable outbox (Postgres) and is retried with backoff by the flusher. While a
 * destination has a backlog — kept by any replica — new deliveries queue behind it, keeping
 * per-sender order; and a backlog drains through one flusher per destination at a time,
 * cluster-wide (a Postgres lock), oldest first, each batch deleted before the next is taken.
 * A peer's 4xx answer (409/410/404/401/403) is passed back to the sender. A destination with no
 * backlog passes DestinationVetting first (a server never heard from must answer promptly).
 */
@Injectable()
export class OutboundDelivery implements OnModuleInit {
  private readonly batchers = new Map<string, GroupCommitBatcher<OutboundDeliveryRequest, DeliveryReply>>();
  private readonly backlogged = new Set<string>();
  /** Flushes running in this process; a flush asked for meanwhile runs once more after it. */
  private readonly flushing = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly client: FederationHttpClient,
    private readonly outbox: OutboxRepository,
    private readonly backlog: OutboxBacklogRepository,
    private readonly vetting: DestinationVetting,
    private readonly scheduler: OutboxScheduler,
    private readonly notices: SenderNotices,
    private readonly metrics: GatewayMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const destination of await this.outbox.destinations()) this.backlogged.add(destination);
    this.scheduler.onFlush((destination) => this.flush(destination));
  }

  async deliver(request: OutboundDeliveryRequest): Promise<DeliveryReply> {
    if (this.backlogged.has(request.destination)) return (await this.keep(request.destination, [request], null))[0];
    // A destination never heard from must answer promptly before anything is sent or queued for it.
    const refusal = await this.vetting.vet(request.destination);
    if (refusal) return refusal;
    // Not known here to be backlogged: batched, and checked against the shared outbox before sending.
    let batcher = this.batchers.get(request.destination);
    if (!batcher) {
      batcher = new GroupCommitBatcher({
        maxBatch: this.config.deliveryBatchSize,
        maxWaitMs: this.config.deliveryBatchWaitMs,
        maxConcurrentCommits: this.config.deliveryMaxRequestsInFlight,
        commit: (requests) => this.tryNow(request.destination, requests),
      });
      this.batchers.set(request.destination, batcher);
    }
    return batcher.submit(request);
  }

  /**
   * Sends what the outbox holds for `destination`, oldest first, until it is empty or the peer
   * fails. Resolves when done; if this process is flushing the destination already, resolves
   * with that flush, which then looks once more for rows queued meanwhile.
   */
  flush(destination: string): Promise<void> {
    const running = this.flushing.get(destination);
    if (running) {
      running.again = true;
      return running.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    this.flushing.set(destination, entry);
    entry.done = (async () => {
      try {
        let ended: 'empty' | 'busy' | 'failed';
        do {
          entry.again = false;
          ended = await this.drain(destination);
        } while (entry.again && ended !== 'failed');
      } finally {
        this.flushing.delete(destination);
      }
    })();
    return entry.done;
  }

  /**
   * One drain: batch after batch, each in a transaction holding the destination's flush lock, so
   * no other flusher (this replica or another) sends rows 101–200 while rows 1–100 are in flight.
   * 'busy': another flusher holds the lock and drains it instead.
   */
  private async drain(destination: string): Promise<'empty' | 'busy' | 'failed'> {
    for (;;) {
      const outcome = await withTransaction(this.pool, async (tx) => {
        if (!(await this.outbox.tryLockDestination(destination, tx))) return { kind: 'busy' as const };
        const rows = await this.outbox.lockOldest(destination, this.config.deliveryBatchSize, tx);
        if (rows.length === 0) return { kind: 'empty' as const };
        const cutoff = Date.now() - this.config.outboxMaxAgeSeconds * 1000;
        const expired = rows.filter((r) => r.createdAt.getTime() < cutoff);
        const live = rows.filter((r) => r.createdAt.getTime() >= cutoff);
        await this.outbox.delete(
          expired.map((r) => r.id),
          tx,
        );
        if (live.length === 0) return { kind: 'progress' as const, expired, refused: [] as [OutboxRow, string][] };
        const answer = await this.send(
          destination,
          live.map((r) => r.delivery),
        );
        if ('error' in answer) return { kind: 'failed' as const, error: answer.error, retryAfter: answer.retryAfter, expired };
        const refused: [OutboxRow, string][] = [];
        const done: string[] = [];
        for (const row of live) {
          const result = answer.results.get(row.id);
          if (!result || retryable(result.status)) continue;
          done.push(row.id);
          if (result.status >= 300) refused.push([row, `${result.status} ${String(result.body?.error ?? '')}`.trim()]);
        }
        await this.outbox.delete(done, tx);
        const delivered = done.length - refused.length;
        const partial = done.length < live.length;
        return partial
          ? { kind: 'failed' as const, error: 'some deliveries answered 5xx/429', retryAfter: null, expired, refused, delivered }
          : { kind: 'progress' as const, expired, refused, delivered };
      });
      if (outcome.kind === 'busy') return 'busy';
      if (outcome.kind === 'empty') {
        this.backlogged.delete(destination);
        await this.scheduler.destinationRecovered(destination);
        return 'empty';
      }
      this.countFlushed(outcome);
      if (outcome.expired.length > 0)
        await this.notices.deliveryFailed(outcome.expired, `not accepted by ${destination} within ${this.config.outboxMaxAgeSeconds} s`);
      for (const [row, reason] of 'refused' in outcome && outcome.refused ? outcome.refused : [])
        await this.notices.deliveryFailed([row], `refused by ${destination}: ${reason}`);
      if (outcome.kind === 'failed') {
        await this.scheduler.retryLater(destination, outcome.error, outcome.retryAfter);
        return 'failed';
      }
    }
  }

  private async tryNow(destination: string, requests: OutboundDeliveryRequest[]): Promise<DeliveryReply[]> {
    // Another replica may hold a backlog for this destination that this one has not seen: the
    // outbox in Postgres is the shared truth, and new deliveries must queue behind it.
    if (this.backlogged.has(destination) || (await this.outbox.hasRows(destination))) return this.keep(destination, requests, null);
    const answer = await this.send(
      destination,
      requests.map((r) => r.delivery),
    );
    if ('error' in answer) return this.keep(destination, requests, answer.error, answer.retryAfter);
    const retry = requests.filter((r) => {
      const result = answer.results.get(r.delivery.id);
      return !result || retryable(result.status);
    });
    const kept = retry.length > 0 ? await this.keep(destination, retry, 'some deliveries answered 5xx/429', null) : [];
    const keptReply = new Map(retry.map((r, i) => [r, kept[i]]));
    return requests.map((r) => {
      const result = answer.results.get(r.delivery.id);
      if (!result || retryable(result.status)) return keptReply.get(r) as DeliveryReply;
      this.metrics.outbound.inc({ outcome: result.status < 300 ? 'delivered' : 'refused' });
      return { status: result.status, body: result.body };
    });
  }

  private async keep(
    destination: string,
    requests: OutboundDeliveryRequest[],
    error: string | null,
    retryAfter: number | null = null,
  ): Promise<DeliveryReply[]> {
    const { queued, refusal } = await this.backlog.enqueue(
      destination,
      requests.map((r) => ({ destination, delivery: r.delivery, sender: r.sender })),
      {
        maxBytesPerDestination: this.config.outboxMaxBytesPerDestination,
        newDestinationsPerHour: this.config.outboxNewDestinationsPerHour,
      },
    );
    if (queued > 0) {
      this.metrics.outbound.inc({ outcome: 'queued' }, queued);
      const wasBacklogged = this.backlogged.has(destination);
      this.backlogged.add(destination);
      if (error) await this.scheduler.retryLater(destination, error, retryAfter);
      else if (!wasBacklogged) this.scheduler.flushSoon(destination);
    }
    if (refusal) this.metrics.outbound.inc({ outcome: refusal.reason }, requests.length - queued);
    return requests.map((_, i) => (i < queued ? QUEUED : this.refusalReply(destination, refusal as EnqueueRefusal)));
  }

  /** 429 with retryAfter (the relay passes it on as Retry-After): the outbox keeps nothing more for now. */
  private refusalReply(destination: string, refusal: EnqueueRefusal): DeliveryReply {
    if (refusal.reason === 'too_many_destinations') {
      const message = 'too many new destinations this hour; retry later';
      return { status: 429, body: { error: refusal.reason, message, retryAfter: refusal.retryAfterSeconds } };
    }
    const retryAfter = Math.max(1, Math.ceil(this.config.retryMaxMs / 1000));
    const message = `the outbox for ${destination} is full until it accepts deliveries again; retry later`;
    return { status: 429, body: { error: refusal.reason, message, retryAfter } };
  }

  /** A flush step: queued deliveries the peer took, refused for good, or that grew too old. */
  private countFlushed(outcome: { expired: OutboxRow[]; refused?: [OutboxRow, string][]; delivered?: number }): void {
    if (outcome.expired.length) this.metrics.outbound.inc({ outcome: 'expired' }, outcome.expired.length);
    if (outcome.refused?.length) this.metrics.outbound.inc({ outcome: 'refused' }, outcome.refused.length);
    if (outcome.delivered) this.metrics.outbound.inc({ outcome: 'delivered' }, outcome.delivered);
  }

  /**
   * Sends the deliveries as request-sized signed batches, in order; per-delivery results, or why
   * the whole set should be retried. A part failing after earlier parts succeeded leaves its
   * deliveries (and the later ones) without a result: they are retried, the earlier ones are not.
   */
  private async send(
    destination: string,
    deliveries: OutboundDeliveryRequest['delivery'][],
  ): Promise<{ results: Map<string, DeliveryResult> } | { error: string; retryAfter: number | null }> {
    const results = new Map<string, DeliveryResult>();
    for (const part of requestSizedParts(deliveries, this.config.federationLimits)) {
      const answer = await this.sendBatch(destination, part);
      if ('error' in answer) return results.size === 0 ? answer : { results };
      for (const [id, result] of answer.results) results.set(id, result);
    }
    return { results };
  }

  /** One signed batch request; per-delivery results, or why the whole request should be retried. */
  private async sendBatch(
    destination: string,
    deliveries: OutboundDeliveryRequest['delivery'][],
  ): Promise<{ results: Map<string, DeliveryResult> } | { error: string; retryAfter: number | null }> {
    let answer: PeerAnswer<{ results?: DeliveryResult[]; error?: string }>;
    try {
      answer = await this.client.request(destination, 'PUT', '/federation/v1/messages', { deliveries });
    } catch (error) {
      if (error instanceof PeerUnreachable || error instanceof PeerAddressRefused) return { error: error.message, retryAfter: null };
      throw error;
    }
    if (retryableWholeRequest(answer.status)) return { error: `HTTP ${answer.status}`, retryAfter: answer.retryAfterSeconds };
    if (answer.status !== 200 || !Array.isArray(answer.body?.results)) {
      // The whole request was refused (e.g. 401/403): every delivery gets that answer.
      const body = (answer.body ?? { error: 'federation_refused', message: `HTTP ${answer.status}` }) as Record<string, unknown>;
      return { results: new Map(deliveries.map((d) => [d.id, { id: d.id, status: answer.status, body }])) };
    }
    return { results: new Map(answer.body.results.map((r) => [r.id, r])) };
  }
}
