import { BusError, ValidationError } from '@sealpost/contracts';
import { isDatabaseUnavailable } from '@sealpost/db';
import { isRedisUnavailable } from '@sealpost/redis';
import { ApiError, unavailable } from './api-error';

/** An intended answer: a status and the `{error, message, …}` body. */
export interface ErrorAnswer {
  status: number;
  body: { error: string; message: string; [k: string]: unknown };
}

/**
 * The answer an ApiError or a ValidationError stands for, wherever it is given (HTTP, or a
 * value crossing the bus); a database or Redis that cannot be reached or timed out is 503
 * `unavailable` (recognised here, once for every controller and bus handler); null for any other error,
 * which is unexpected.
 */
export function errorAnswer(error: unknown): ErrorAnswer | null {
  if (isDatabaseUnavailable(error)) return errorAnswer(unavailable('the database'));
  if (isRedisUnavailable(error)) return errorAnswer(unavailable('a backing service'));
  if (error instanceof ApiError) return { status: error.getStatus(), body: error.getResponse() as ErrorAnswer['body'] };
  if (error instanceof ValidationError) return { status: error.status, body: { error: error.code, message: error.message } };
  return null;
}

/** The same as a bus reply value; rethrows unexpected errors. */
export function busErrorFrom(error: unknown): BusError {
  const answer = errorAnswer(error);
  if (!answer) throw error;
  return { status: answer.status, error: answer.body.error, message: answer.body.message };
}
