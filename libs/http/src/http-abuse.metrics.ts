import type { Counter } from 'prom-client';
import type { ApiErrorObserver } from './api-error.filter';
import type { ClientErrorObserver } from './client-errors';
import type { ServiceMetrics } from './service-metrics';

/**
 * Counters for what a hostile or broken client costs the HTTP server, without logging each one:
 * `sealpost_http_client_aborts_total` (connections reset or hung up mid-request) and
 * `sealpost_http_refused_total{status}` (408 timeouts, 400 unparseable, 431 oversized headers,
 * 429 too many requests in flight from one address, 503 no room in the body budget), and the gauge
 * `sealpost_http_body_bytes_in_flight`. The handlers are wired into Fastify before the Nest app (and
 * its metrics registry) exists, so they count into nothing until `bind`.
 */
export class HttpAbuseCounters implements ClientErrorObserver, ApiErrorObserver {
  private aborts?: Counter;
  private refusals?: Counter<'status'>;
  private boxedConnections?: Counter;

  bind(metrics: ServiceMetrics, bodyBytesInFlight: () => number): void {
    this.aborts = metrics.counter('sealpost_http_client_aborts_total', 'Clients that hung up or reset the connection mid-request');
    this.refusals = metrics.counter(
      'sealpost_http_refused_total',
      'Requests refused before routing or while their body arrived: 400, 408, 429, 431, 503',
      ['status'] as const,
    );
    this.aborts.inc(0);
    this.boxedConnections = metrics.counter(
      'sealpost_http_connections_refused_total',
      'Connections closed at accept: their client address sent too many malformed requests (HTTP_MALFORMED_REQUEST_*)',
    );
    this.boxedConnections.inc(0);
    metrics.gauge(
      'sealpost_http_body_bytes_in_flight',
      'Request-body bytes being received now, by declared length (HTTP_MAX_BODY_BYTES_IN_FLIGHT bounds it)',
      [],
      function () {
        this.set(bodyBytesInFlight());
      },
    );
  }

  clientAborted(): void {
    this.aborts?.inc();
  }

  connectionRefused(): void {
    this.boxedConnections?.inc();
  }

  refused(status: number): void {
    this.refusals?.inc({ status: String(status) });
  }
}
