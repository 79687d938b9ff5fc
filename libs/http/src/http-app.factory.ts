import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { DynamicModule, INestApplication, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '@sealpost/config';
import { PostgresAvailability } from '@sealpost/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrorFilter } from './api-error.filter';
import { clientErrorHandler } from './client-errors';
import { MalformedRequestPenalty } from './malformed-request-penalty';
import { FRAMEWORK_ANSWERS, answerOnSocket } from './framework-answers';
import { HttpAbuseCounters } from './http-abuse.metrics';
import { QuietFrameworkLogger } from './quiet-framework.logger';
import { RequestsPerClient, rememberRequestsPerClient } from './requests-per-client';
import { installRequestBodyAdmission } from './request-body-admission';
import { ServiceMetrics, installDependencyMetrics, installHttpMetrics } from './service-metrics';

export interface HttpAppOptions {
  bodyLimit: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug';
  logFormat?: 'text' | 'json';
  /** Fastify `trustProxy` (see CommonConfig.trustProxy). */
  trustProxy?: boolean | number | string[];
  /** Keep the exact request bytes as `request.rawBody` (for Content-Digest checks). */
  rawBody?: boolean;
  /** Timeouts and the per-client cap on requests in flight (CommonConfig.http); defaults when absent. */
  http?: HttpLimits;
  /**
   * The service handles WebSocket upgrades itself (the relay). Otherwise every upgrade is answered
   * 404 JSON before routing and charged to the malformed-request penalty box: no client of the API
   * asks this service for one.
   */
  acceptsUpgrades?: boolean;
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * A Fastify-backed Nest app whose every error answer is `{error, message}` JSON — those Node and
 * Fastify give before routing included — and in which no client can hold a request open past
 * HTTP_REQUEST_TIMEOUT_MS nor have more than HTTP_MAX_REQUESTS_PER_CLIENT in flight, and in which
 * request bodies being received never total more than HTTP_MAX_BODY_BYTES_IN_FLIGHT nor stall for
 * more than HTTP_BODY_IDLE_TIMEOUT_MS (installRequestBodyAdmission).
 */
export async function createHttpApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions): Promise<NestFastifyApplication> {
  const limits = options.http ?? DEFAULT_HTTP_LIMITS;
  const counters = new HttpAbuseCounters();
  const perClient = new RequestsPerClient(limits.maxRequestsPerClient, () => counters.refused(429));
  // Behind a reverse proxy every connection comes from the proxy: the box would shut out everyone.
  const penalty = options.trustProxy
    ? undefined
    : new MalformedRequestPenalty({ burst: limits.malformedRequestBurst, perSecond: limits.malformedRequestsPerSecond }, () =>
        counters.connectionRefused(),
      );
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy ?? false,
    return503OnClosing: true,
    // On shutdown, open keep-alive connections (e.g. a peer's pooled federation socket) are closed
    // at once instead of holding the process for up to a minute. A send cut this way was not
    // answered 2xx, so the client retries it (with its Idempotency-Key): nothing is lost.
    forceCloseConnections: true,
    // An address can be 64 + 1 + 253 characters; Fastify's default limit of 100 would refuse it.
    routerOptions: { maxParamLength: 512 },
    // Slow or stalled clients: the whole request must arrive within requestTimeout (408, socket
    // closed), headers within headersTimeout; idle keep-alive and silent connections are closed.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks the two timeouts above only this often (its default, 30 s, would let a stalled body live 30 s longer).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
      // A request without Host is answered by requireHost below in the API's shape, not by Node's empty 400.
      requireHostHeader: false,
    },
    clientErrorHandler: clientErrorHandler({
      clientAborted: () => counters.clientAborted(),
      refused: (status) => counters.refused(status),
      malformed: (address) => penalty?.charge(address),
    }),
    // Malformed URLs (bad percent-encoding) never reach Nest: answer them here, in the API's shape.
    frameworkErrors: (_error: Error, _request: unknown, reply: FastifyReply) => {
      void reply
        .code(400)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: FRAMEWORK_ANSWERS[400].error, message: 'the request URL is malformed' }));
    },
  });
  adapter.getInstance().addHook('onRequest', requireHost(penalty));
  adapter.getInstance().addHook('onRequest', perClient.onRequest);
  adapter.getInstance().addHook('onRequest', refuseNonJsonBodies);
  const bodyBudget = installRequestBodyAdmission(adapter.getInstance(), limits, counters);
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    rawBody: options.rawBody ?? false,
    logger: new QuietFrameworkLogger(
      options.logLevel === 'debug',
      LEVELS.slice(0, LEVELS.indexOf(options.logLevel) + 1),
      options.logFormat === 'json',
    ),
  });
  penalty?.guard(app.getHttpServer());
  if (!options.acceptsUpgrades) {
    app.getHttpServer().on('upgrade', (request: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => undefined);
      penalty?.charge(request.socket.remoteAddress);
      answerOnSocket(socket, 404, { error: 'not_found', message: 'this service has no WebSocket routes' });
    });
  }
  rememberRequestsPerClient(app, perClient);
  const postgres = app.get(PostgresAvailability, { strict: false });
  counters.bind(app.get(ServiceMetrics, { strict: false }), () => bodyBudget.inFlight);
  app.useGlobalFilters(new ApiErrorFilter(postgres, counters));
  installHttpMetrics(app);
  installDependencyMetrics(app, postgres);
  // Only the stop signals: SIGUSR2/SIGHUP are left to diagnostics tooling.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  return app;
}

/** HTTP/1.1 requires Host (RFC 9112 §3.2): a request without one is 400 in the API's shape (and a malformed request of its address). */
const requireHost =
  (penalty: MalformedRequestPenalty | undefined) =>
  (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      penalty?.charge(request.socket.remoteAddress);
      void reply
        .code(400)
        .header('connection', 'close')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: FRAMEWORK_ANSWERS[400].error, message: 'the Host header is required' }));
      return;
    }
    done();
  };

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/** Only JSON bodies are accepted: any other body gets 415 before it is parsed. */
function refuseNonJsonBodies(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const { headers } = request;
  const hasBody = headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
  if (hasBody && !JSON_MEDIA_TYPE.test(headers['content-type'] ?? '')) {
    void reply.code(415).type('application/json; charset=utf-8').send(JSON.stringify(FRAMEWORK_ANSWERS[415]));
    return;
  }
  done();
}

export function listeningUrl(app: INestApplication): string {
  const address = app.getHttpServer().address();
  if (address && typeof address === 'object') {
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }
  return String(address);
}
