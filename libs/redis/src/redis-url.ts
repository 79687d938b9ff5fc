import Redis, { RedisOptions } from 'ioredis';

/** ioredis / Nest Redis-transport options from a redis:// or rediss:// URL. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db ? Number(db) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Null when Redis answers PING at `redisUrl`; else a one-line reason. */
export async function redisUnreachableReason(redisUrl: string): Promise<string | null> {
  const redis = new Redis({
    ...redisOptionsFromUrl(redisUrl),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  let lastError: { code?: string; message?: string } | undefined;
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    const cause = lastError ?? (error as { code?: string; message?: string });
    return cause.code ?? cause.message ?? 'unreachable';
  } finally {
    redis.disconnect();
  }
}

/** Connection options for BullMQ queues and workers (which need `maxRetriesPerRequest: null`). */
export function bullConnection(redisUrl: string) {
  const { host, port, username, password, db, tls } = redisOptionsFromUrl(redisUrl);
  return { host, port, username, password, db, tls, maxRetriesPerRequest: null };
}
