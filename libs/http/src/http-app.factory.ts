import { DynamicModule, INestApplication, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiErrorFilter } from './api-error.filter';
import { QuietFrameworkLogger } from './quiet-framework.logger';

export interface HttpAppOptions {
  bodyLimit: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug';
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** A Fastify-backed Nest app whose every error answer is `{error, message}` JSON. */
export async function createHttpApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit, trustProxy: false, return503OnClosing: true });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new QuietFrameworkLogger(options.logLevel === 'debug', LEVELS.slice(0, LEVELS.indexOf(options.logLevel) + 1)),
  });
  app.useGlobalFilters(new ApiErrorFilter());
  app.enableShutdownHooks();
  return app;
}

export function listeningUrl(app: INestApplication): string {
  const address = app.getHttpServer().address();
  if (address && typeof address === 'object') {
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }
  return String(address);
}
