import type { FastifyReply } from 'fastify';
import { ApiError } from './api-error';

/**
 * Answers an ApiError from a Fastify hook (`onRequest`, `preParsing`) as the exception filter
 * would — the same status, headers and `{error, message}` body — without the detour through
 * Fastify's error handler and Nest's filter chain: a refusal given before routing, to requests
 * anyone can send in bulk, costs its answer and little more. Return the reply from the hook.
 */
export function answerEarly(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .code(error.getStatus())
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(error.getResponse()));
}
