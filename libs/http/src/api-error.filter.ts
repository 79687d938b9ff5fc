import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { PostgresAvailability, isDatabaseUnavailable } from '@sealpost/db';
import type { FastifyReply } from 'fastify';
import { ApiError, unavailable } from './api-error';
import { errorAnswer } from './error-answer';

interface ErrorBody {
  error: string;
  message: string;
  [k: string]: unknown;
}

const FRAMEWORK_ANSWERS: Record<number, ErrorBody> = {
  400: { error: 'invalid_json', message: 'body is not valid JSON' },
  404: { error: 'not_found', message: 'no such route' },
  405: { error: 'method_not_allowed', message: 'method not allowed on this route' },
  413: { error: 'payload_too_large', message: 'request body is too large' },
  415: { error: 'unsupported_media_type', message: 'request bodies must be application/json' },
};

/**
 * Every error leaves as `{error, message}` JSON. A database that cannot be reached or did not
 * answer in time is 503 `unavailable` with Retry-After, reported to PostgresAvailability (which
 * logs the outage once and counts it) — never a 500 with a stack trace per request. Other
 * unexpected errors are 500 and logged without request data.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiErrorFilter');

  constructor(private readonly postgres?: PostgresAvailability) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const [status, body, headers] = this.toAnswer(exception);
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  }

  private toAnswer(exception: unknown): [number, ErrorBody, Record<string, string>] {
    if (isDatabaseUnavailable(exception)) {
      this.postgres?.noteUnavailable(exception);
      exception = unavailable('the database');
    }
    const answer = errorAnswer(exception);
    if (answer) return [answer.status, answer.body, exception instanceof ApiError ? exception.headers : {}];
    if (exception instanceof HttpException) {
      // Fastify's own request errors reach here already wrapped by Nest; their texts may quote the body, so they are replaced.
      const status = exception.getStatus();
      const known = FRAMEWORK_ANSWERS[status];
      if (known) return [status, known, {}];
      if (status < 500) return [status, { error: 'bad_request', message: 'the request could not be read' }, {}];
      this.logger.error(`unexpected HTTP ${status}`);
      return [500, { error: 'internal', message: 'internal error' }, {}];
    }
    const error = exception as Error;
    this.logger.error(`unexpected ${error?.name ?? 'error'}: ${error?.message ?? String(exception)}`, error?.stack);
    return [500, { error: 'internal', message: 'internal error' }, {}];
  }
}
