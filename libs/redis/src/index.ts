export { RedisModule, REDIS, REDIS_PREFIX } from './redis.module';
export { redisOptionsFromUrl, redisUnreachableReason, bullConnection } from './redis-url';
export { TokenBucketScript } from './token-bucket.script';
export { BoundedCache } from './bounded-cache';
export type { BucketVerdict, WhenRedisDown } from './token-bucket.script';
export { promptly, isRedisUnavailable, RedisUnavailableError, PROMPT_COMMAND_TIMEOUT_MS } from './prompt-command';
export { rateLimitKey } from './rate-limit-key';
export { RedisOutageLog } from './redis-outage.log';
