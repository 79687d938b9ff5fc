import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ValidationError } from '@sealpost/contracts';
import { ApiError } from './api-error';

interface ErrorBody { error: string; message: string; [k: string]: unknown }

/** Fastify's own request errors (body parsing, size, media type), mapped to the API's error body. */
function fromFastifyError(error: { code?: string; statusCode?: number; message?: string }): [number, ErrorBody] | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, { error: 'payload_too_large', message: 'request body is too large' }];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, { error: 'unsupported_media_type', message: 'send application/json' }];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, { error: 'invalid_request', message: 'body: must be a JSON object' }];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, { error: 'invalid_json', message: 'body is not valid JSON' }];
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return [400, { error: 'invalid_json', message: 'body is not valid JSON' }];
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return [error.statusCode, { error: 'bad_request', message: 'the request could not be read' }];
  }
  return null;
}

/** Every error leaves as `{error, message}` JSON; unexpected ones are 500 and logged without request data. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const [status, body, headers] = this.toAnswer(exception);
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  }

  private toAnswer(exception: unknown): [number, ErrorBody, Record<string, string>] {
    if (exception instanceof ApiError) {
      return [exception.getStatus(), exception.getResponse() as ErrorBody, exception.headers];
    }
    if (exception instanceof ValidationError) {
      return [exception.status, { error: exception.code, message: exception.message }, {}];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) return [404, { error: 'not_found', message: 'no such route' }, {}];
      return [status, { error: status < 500 ? 'bad_request' : 'internal', message: exception.message }, {}];
    }
    const fastify = fromFastifyError(exception as { code?: string });
    if (fastify) return [fastify[0], fastify[1], {}];
    const error = exception as Error;
    this.logger.error(`unexpected ${error?.name ?? 'error'}: ${error?.message ?? String(exception)}`, error?.stack);
    return [500, { error: 'internal', message: 'internal error' }, {}];
  }
}
