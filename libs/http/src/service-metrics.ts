import { Controller, Get, Header, Injectable } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PostgresAvailability } from '@sealpost/db';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per service instance (several run in one test process, so never the
 * global one). Label values are only ever route patterns, status codes, outcomes and server
 * names — never an address, token, key or envelope content.
 */
@Injectable()
export class ServiceMetrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sealpost_' });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) });
  }

  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }
}

/** `GET /metrics`, Prometheus text format. Not routed by the public ingress (deploy/kubernetes). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ServiceMetrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  render(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

/**
 * Postgres outages as metrics: `sealpost_dependency_up{dependency="postgres"}` (0 during an
 * outage), `sealpost_dependency_outages_total` (one per outage) and
 * `sealpost_dependency_unavailable_total` (calls that failed as unavailable, answered 503).
 */
export function installDependencyMetrics(app: NestFastifyApplication, postgres: PostgresAvailability): void {
  const metrics = app.get(ServiceMetrics, { strict: false });
  const labels = { dependency: 'postgres' } as const;
  const outages = metrics.counter(
    'sealpost_dependency_outages_total',
    'Outages of a dependency (one per outage, however many calls failed)',
    ['dependency'] as const,
  );
  const failed = metrics.counter(
    'sealpost_dependency_unavailable_total',
    'Calls that failed because a dependency was unreachable or too slow',
    ['dependency'] as const,
  );
  metrics.gauge('sealpost_dependency_up', '1 while a dependency answers, 0 during an outage', ['dependency'] as const, function collect() {
    this.set(labels, postgres.isDown ? 0 : 1);
  });
  outages.inc(labels, 0);
  failed.inc(labels, 0);
  postgres.observe({ outageStarted: () => outages.inc(labels), callFailed: () => failed.inc(labels) });
}

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Counts every HTTP answer by method, route pattern (`/v1/keys/:address/:deviceId`, never the
 * concrete path) and status, with its duration.
 */
export function installHttpMetrics(app: NestFastifyApplication): void {
  const metrics = app.get(ServiceMetrics, { strict: false });
  const requests = metrics.counter('sealpost_http_requests_total', 'HTTP requests answered', ['method', 'route', 'status'] as const);
  const seconds = metrics.histogram('sealpost_http_request_duration_seconds', 'HTTP request duration', SECONDS_BUCKETS, [
    'method',
    'route',
  ] as const);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const route = request.routeOptions?.url ?? 'unmatched';
      requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      seconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
      done();
    });
}
