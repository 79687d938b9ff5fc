import { BusError, ValidationError } from '@sealpost/contracts';
import { ApiError } from './api-error';

/** An intended answer: a status and the `{error, message, …}` body. */
export interface ErrorAnswer { status: number; body: { error: string; message: string; [k: string]: unknown } }

/**
 * The answer an ApiError or a ValidationError stands for, wherever it is given (HTTP, or a
 * value crossing the bus); null for any other error, which is unexpected.
 */
export function errorAnswer(error: unknown): ErrorAnswer | null {
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
