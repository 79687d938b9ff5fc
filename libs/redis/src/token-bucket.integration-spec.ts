import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { TokenBucketScript } from './token-bucket.script';

/** Two relays' buckets on one real Redis: refusals are remembered until their Retry-After, never longer. */
describe('TokenBucketScript refusal memory', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(process.env.TEST_REDIS_URL as string);
    await redis.ping();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('answers a refused bucket from memory until its next token is due, then asks Redis again', async () => {
    const key = `test:rl:memo:{${randomUUID()}}`;
    const replica = new TokenBucketScript(redis);
    const script = jest.spyOn(redis as unknown as { sealpostTokenBucket: () => unknown }, 'sealpostTokenBucket');

    expect((await replica.take(key, 2, 60)).allowed).toBe(true);
    expect((await replica.take(key, 2, 60)).allowed).toBe(true);
    const refused = await replica.take(key, 2, 60);
    expect(refused).toMatchObject({ allowed: false });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(script).toHaveBeenCalledTimes(3);

    for (let i = 0; i < 50; i++) {
      const again = await replica.take(key, 2, 60);
      expect(again.allowed).toBe(false);
      expect(again.retryAfterMs).toBeLessThanOrEqual(refused.retryAfterMs);
    }
    expect(script).toHaveBeenCalledTimes(3);

    await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs + 50));
    expect((await replica.take(key, 2, 60)).allowed).toBe(true);
    expect(script).toHaveBeenCalledTimes(4);
    script.mockRestore();
  });

  it('never refuses from memory what Redis would admit: another replica and another bucket are unaffected', async () => {
    const key = `test:rl:memo:{${randomUUID()}}`;
    const other = `test:rl:memo:{${randomUUID()}}`;
    const first = new TokenBucketScript(redis);
    const second = new TokenBucketScript(redis);

    expect((await first.take(key, 1, 60)).allowed).toBe(true);
    expect((await first.take(key, 1, 60)).allowed).toBe(false);
    expect((await first.take(other, 1, 60)).allowed).toBe(true);
    // The second replica has no memory of the refusal; Redis itself refuses it (the bucket is shared).
    expect((await second.take(key, 1, 60)).allowed).toBe(false);
  });
});
