import type Redis from 'ioredis';

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
}

export class TokenBucketScript {
  private readonly redis: WithTokenBucket;

  constructor(redis: Redis) {
    redis.defineCommand('sealpostTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.redis = redis as WithTokenBucket;
  }

  /**
   * Takes one token from `key`; `perMinute` tokens flow back each minute up to `capacity`.
   * Fails open: while Redis cannot be reached the request is allowed (limits are protection,
   * not correctness, and a Redis outage must not stop durable sends).
   */
  async take(key: string, capacity: number, perMinute: number): Promise<BucketVerdict> {
    try {
      const [allowed, wait] = await this.redis.sealpostTokenBucket(key, capacity, perMinute / 60_000);
      return { allowed: allowed === 1, retryAfterMs: wait };
    } catch {
      return { allowed: true, retryAfterMs: 0 };
    }
  }
}
