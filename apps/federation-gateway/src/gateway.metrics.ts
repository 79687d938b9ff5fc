import { Injectable } from '@nestjs/common';
import { ServiceMetrics } from '@sealpost/http';
import { OutboxRepository } from './outbound/outbox.repository';

/**
 * What the gateway counts for Prometheus (`GET /metrics`). Labels name peers (server names) and
 * outcomes only. The outbox gauge is read from Postgres at scrape time, so every replica reports
 * the same shared figure (aggregate with max, not sum).
 */
@Injectable()
export class GatewayMetrics {
  readonly outbound;
  readonly gossip;
  readonly queueErrors;

  constructor(metrics: ServiceMetrics, outbox: OutboxRepository) {
    this.outbound = metrics.counter(
      'sealpost_federation_outbound_deliveries_total',
      'Outbound deliveries by outcome: delivered (peer accepted), queued (kept in the outbox), refused (peer answered 4xx), expired (outbox max age), outbox_full and too_many_destinations (refused by the outbox limits), unknown_server (the destination does not resolve), unanswered_server (a destination never heard from did not answer within FEDERATION_RESOLVE_TIMEOUT_MS), resolution_busy (FEDERATION_RESOLVE_MAX_CONCURRENT such checks running)',
      ['outcome'] as const,
    );
    this.gossip = metrics.counter('sealpost_kt_gossip_total', 'Key-transparency gossip rounds with a peer, by outcome', [
      'peer',
      'outcome',
    ] as const);
    this.queueErrors = metrics.counter(
      'sealpost_gateway_job_queue_errors_total',
      'Errors on the BullMQ queue/worker Redis connections (the client reconnects by itself)',
      ['queue'] as const,
    );
    metrics.gauge(
      'sealpost_federation_outbox_deliveries',
      'Deliveries waiting in the durable outbox, per destination',
      ['destination'] as const,
      async function collect() {
        this.reset();
        const stats = await outbox.stats().catch(() => new Map<string, { depth: number }>());
        for (const [destination, { depth }] of stats) this.set({ destination }, depth);
      },
    );
  }
}
