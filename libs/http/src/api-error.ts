import { HttpException } from '@nestjs/common';

/**
 * An answer the API gives on purpose: a status, a stable snake_case `error` code, a human `message`
 * and, for some answers, extra fields (e.g. 409 {missingDevices, extraDevices}).
 * Messages never carry secrets or envelope content.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super({ error: code, message, ...extra }, status);
  }
}

export const unauthorized = () => new ApiError(401, 'unauthorized', 'a valid device token is required');
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const tooManyRequests = (retryAfterSeconds: number) =>
  new ApiError(
    429,
    'rate_limited',
    `too many requests; retry after ${retryAfterSeconds} s`,
    { retryAfter: retryAfterSeconds },
    {
      'retry-after': String(retryAfterSeconds),
    },
  );

/** Seconds a client is told to wait (Retry-After) when a dependency is unreachable or too slow. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** 503 for a dependency that cannot be reached or did not answer in time (an outage, not a bug). */
export const unavailable = (what: string) =>
  new ApiError(503, 'unavailable', `${what} is unavailable; retry later`, {}, { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) });

/**
 * A token bucket's refusal as a 429 with `Retry-After` in whole seconds (at least 1), or — when
 * the bucket could not be asked and fails closed — a 503 `unavailable` with Retry-After.
 */
export function assertWithinRate(verdict: { allowed: boolean; retryAfterMs: number; unavailable?: boolean }): void {
  if (verdict.allowed) return;
  if (verdict.unavailable) throw unavailable('the rate limiter');
  throw tooManyRequests(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
}
