export { RedisModule, REDIS, REDIS_PREFIX } from './redis.module';
export { redisOptionsFromUrl, redisUnreachableReason, bullConnection } from './redis-url';
export { TokenBucketScript } from './token-bucket.script';
export type { BucketVerdict } from './token-bucket.script';
export { RedisOutageLog } from './redis-outage.log';
