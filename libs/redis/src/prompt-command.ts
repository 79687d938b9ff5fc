import type Redis from 'ioredis';

/**
 * How long a request-path Redis command may take before Redis counts as unavailable for it. A
 * healthy Redis answers in well under a millisecond; this only bounds a frozen or overloaded one.
 */
export const PROMPT_COMMAND_TIMEOUT_MS = 500;

/** Redis could not be asked (not connected) or did not answer within the bound: answer 503, never 500. */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';

  constructor(reason: 'not connected' | 'timed out' | 'failed') {
    super(`Redis is unavailable (${reason})`);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Runs a command on the request path without ever waiting in ioredis's offline queue: when the
 * connection is not ready it throws RedisUnavailableError at once; when Redis does not answer
 * within `timeoutMs` (a frozen server) it throws the same, and the late answer is dropped.
 * A connection error from ioredis is reported the same way; any other error (a script bug) is rethrown.
 */
export async function promptly<T>(redis: Redis, command: () => Promise<T>, timeoutMs = PROMPT_COMMAND_TIMEOUT_MS): Promise<T> {
  if (redis.status !== 'ready') throw new RedisUnavailableError('not connected');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError('timed out')), timeoutMs);
  });
  const running = command();
  running.catch(() => undefined); // settled after the timeout: nobody waits for it any more
  try {
    return await Promise.race([running, late]);
  } catch (error) {
    if (error instanceof RedisUnavailableError) throw error;
    throw isRedisUnavailable(error) ? new RedisUnavailableError('failed') : error;
  } finally {
    clearTimeout(timer);
  }
}

/** A Redis outage as ioredis reports it to a caller (or as `promptly` does). */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof RedisUnavailableError) return true;
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  if (name === 'MaxRetriesPerRequestError') return true;
  return typeof message === 'string' && (message === 'Connection is closed.' || message.includes('enableOfflineQueue options is false'));
}
