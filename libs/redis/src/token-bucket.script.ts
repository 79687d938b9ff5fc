import type Redis from 'ioredis';
import { BoundedCache } from './bounded-cache';
import { RedisUnavailableError, promptly } from './prompt-command';

/**
 * A token bucket in one atomic Lua call, using the Redis server clock so every replica agrees.
 * Returns {allowed, retryAfterMs}. The key carries a {hash tag} chosen by the caller.
 */
const TOKEN_BUCKET_LUA = `
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'v')
local tokens = tonumber(state[2]) or capacity
local last = tonumber(state[1]) or now
if now > last then tokens = math.min(capacity, tokens + (now - last) * per_ms) end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 't', now, 'v', tostring(tokens))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return {allowed, wait}
`;

type WithTokenBucket = Redis & { sealpostTokenBucket(key: string, capacity: number, perMs: number): Promise<[number, number]> };

export interface BucketVerdict {
  allowed: boolean;
  retryAfterMs: number;
  /** Redis could not be asked: the bucket fails closed (refused, answer 503) rather than 429. */
  unavailable?: boolean;
}

/**
 * What a bucket answers while Redis cannot be reached (docs/OPERATIONS.md, "Abuse"):
 * `fail-closed` refuses (503) — for what a stranger could abuse unseen (registration, claims);
 * `fail-open` admits — only where the limit is protection, not the last line (authenticated
 * sends, which must not stop during an outage; federation, whose replay check fails closed first).
 */
export type WhenRedisDown = 'fail-open' | 'fail-closed';

/** How long a refused caller is told to wait (Retry-After) while Redis is down. */
const REDIS_DOWN_RETRY_AFTER_MS = 2000;

/** Buckets whose refusal this process remembers at most (an LRU: a flood of new subjects evicts the oldest). */
const REFUSAL_MEMO_MAX_ENTRIES = 100_000;

export class TokenBucketScript {
  private readonly redis: WithTokenBucket;
  /**
   * Buckets Redis refused, until the refusal's Retry-After (when the next token is due). Until
   * then Redis would refuse too — takes by other replicas can only empty the bucket further — so
   * a caller who keeps knocking is answered from memory, without a Redis round trip: a flood of
   * refused requests costs the answer alone.
   */
  private readonly refusedUntil = new BoundedCache<string, number>(REFUSAL_MEMO_MAX_ENTRIES);

  constructor(
    redis: Redis,
    private readonly whenRedisDown: WhenRedisDown = 'fail-open',
  ) {
    redis.defineCommand('sealpostTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.redis = redis as WithTokenBucket;
  }

  /**
   * Takes one token from `key`; `perMinute` tokens flow back each minute up to `capacity`.
   * Never waits for Redis to come back: when the connection is not ready or Redis does not answer
   * within PROMPT_COMMAND_TIMEOUT_MS, the verdict is given at once by `whenRedisDown`.
   */
  async take(key: string, capacity: number, perMinute: number): Promise<BucketVerdict> {
    const until = this.refusedUntil.get(key);
    if (until !== undefined) return { allowed: false, retryAfterMs: Math.max(1, until - Date.now()) };
    try {
      const [allowed, wait] = await promptly(this.redis, () => this.redis.sealpostTokenBucket(key, capacity, perMinute / 60_000));
      if (allowed !== 1) this.refusedUntil.set(key, Date.now() + wait, wait);
      return { allowed: allowed === 1, retryAfterMs: wait };
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      if (this.whenRedisDown === 'fail-open') return { allowed: true, retryAfterMs: 0 };
      return { allowed: false, retryAfterMs: REDIS_DOWN_RETRY_AFTER_MS, unavailable: true };
    }
  }
}
