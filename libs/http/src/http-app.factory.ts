import { DynamicModule, INestApplication, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { PostgresAvailability } from '@sealpost/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrorFilter } from './api-error.filter';
import { QuietFrameworkLogger } from './quiet-framework.logger';
import { installDependencyMetrics, installHttpMetrics } from './service-metrics';

export interface HttpAppOptions {
  bodyLimit: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug';
  logFormat?: 'text' | 'json';
  /** Fastify `trustProxy` (see CommonConfig.trustProxy). */
  trustProxy?: boolean | number | string[];
  /** Keep the exact request bytes as `request.rawBody` (for Content-Digest checks). */
  rawBody?: boolean;
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** A Fastify-backed Nest app whose every error answer is `{error, message}` JSON. */
export async function createHttpApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions): Promise<NestFastifyApplication> {
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
    // Malformed URLs (bad percent-encoding) never reach Nest: answer them here, in the API's shape.
    frameworkErrors: (_error: Error, _request: unknown, reply: FastifyReply) => {
      void reply
        .code(400)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: 'invalid_request', message: 'the request URL is malformed' }));
    },
  });
  adapter.getInstance().addHook('onRequest', refuseNonJsonBodies);
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    rawBody: options.rawBody ?? false,
    logger: new QuietFrameworkLogger(
      options.logLevel === 'debug',
      LEVELS.slice(0, LEVELS.indexOf(options.logLevel) + 1),
      options.logFormat === 'json',
    ),
  });
  const postgres = app.get(PostgresAvailability, { strict: false });
  app.useGlobalFilters(new ApiErrorFilter(postgres));
  installHttpMetrics(app);
  installDependencyMetrics(app, postgres);
  // Only the stop signals: SIGUSR2/SIGHUP are left to diagnostics tooling.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  return app;
}

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/** Only JSON bodies are accepted: any other body gets 415 before it is parsed. */
function refuseNonJsonBodies(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const { headers } = request;
  const hasBody = headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
  if (hasBody && !JSON_MEDIA_TYPE.test(headers['content-type'] ?? '')) {
    void reply
      .code(415)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ error: 'unsupported_media_type', message: 'request bodies must be application/json' }));
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
