export { RedisModule, REDIS, REDIS_PREFIX } from './redis.module';
export { redisOptionsFromUrl, redisUnreachableReason, bullConnection } from './redis-url';
export { TokenBucketScript } from './token-bucket.script';
export type { BucketVerdict } from './token-bucket.script';
export { rateLimitKey } from './rate-limit-key';
export { RedisOutageLog } from './redis-outage.log';
