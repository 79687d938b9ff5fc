import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { PostgresAvailability, isDatabaseUnavailable } from '@sealpost/db';
import { isRedisUnavailable } from '@sealpost/redis';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, unavailable } from './api-error';
import { errorAnswer } from './error-answer';
import { INVALID_JSON, frameworkAnswer } from './framework-answers';

interface ErrorBody {
  error: string;
  message: string;
  [k: string]: unknown;
}

/** Counts what the filter sees but does not log at warn or above. */
export interface ApiErrorObserver {
  /** The client hung up before its request was read (mid-body): nothing to answer. */
  clientAborted(): void;
}

/**
 * Every error leaves as `{error, message}` JSON. A database that cannot be reached or did not
 * answer in time is 503 `unavailable` with Retry-After, reported to PostgresAvailability (which
 * logs the outage once and counts it) — never a 500 with a stack trace per request; so is a Redis
 * command that could not be sent or was not answered in time (RedisUnavailableError). A client that
 * hung up mid-request is counted and logged at debug only (anyone can cause it, as often as they
 * like). Other unexpected errors are 500 and logged without request data.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiErrorFilter');

  constructor(
    private readonly postgres?: PostgresAvailability,
    private readonly observer?: ApiErrorObserver,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (clientHungUp(exception, host.switchToHttp().getRequest<FastifyRequest>())) {
      this.observer?.clientAborted();
      this.logger.debug('client closed the connection before its request was read');
      reply.raw.destroy();
      return;
    }
    const [status, body, headers] = this.toAnswer(exception);
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  }

  private toAnswer(exception: unknown): [number, ErrorBody, Record<string, string>] {
    if (isDatabaseUnavailable(exception)) {
      this.postgres?.noteUnavailable(exception);
      exception = unavailable('the database');
    } else if (isRedisUnavailable(exception)) {
      exception = unavailable('a backing service');
    }
    const answer = errorAnswer(exception);
    if (answer) return [answer.status, answer.body, exception instanceof ApiError ? exception.headers : {}];
    if (exception instanceof HttpException) {
      // Fastify's own request errors reach here already wrapped by Nest; their texts may quote the body, so they are replaced.
      const status = exception.getStatus();
      if (status === 400) return [400, { ...INVALID_JSON }, {}];
      if (status < 500) return [status, { ...frameworkAnswer(status) }, {}];
      this.logger.error(`unexpected HTTP ${status}`);
      return [500, { error: 'internal', message: 'internal error' }, {}];
    }
    const error = exception as Error;
    this.logger.error(`unexpected ${error?.name ?? 'error'}: ${error?.message ?? String(exception)}`, error?.stack);
    return [500, { error: 'internal', message: 'internal error' }, {}];
  }
}

/**
 * The request's own connection failed while its body was being read: Node's `aborted`
 * (ECONNRESET) as Fastify's body reader passes it on, or any error once the socket is gone. Checked
 * before the database test, which would take a reset for a Postgres outage.
 */
function clientHungUp(exception: unknown, request: FastifyRequest | undefined): boolean {
  const { code, message } = (exception ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ECONNRESET' && message === 'aborted') return true;
  return request?.raw.destroyed === true && request.raw.complete === false;
}
