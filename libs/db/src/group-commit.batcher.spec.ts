import { GroupCommitBatcher } from './group-commit.batcher';

describe('GroupCommitBatcher', () => {
  it('commits items submitted together in one batch and answers each with its own result', async () => {
    const batches: number[][] = [];
    const batcher = new GroupCommitBatcher<number, number>({
      maxBatch: 100,
      maxWaitMs: 5,
      maxConcurrentCommits: 1,
      commit: async (items) => {
        batches.push(items);
        return items.map((i) => i * 10);
      },
    });
    const results = await Promise.all([1, 2, 3].map((i) => batcher.submit(i)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('splits at maxBatch and never runs more than maxConcurrentCommits at once', async () => {
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const batcher = new GroupCommitBatcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 1,
      maxConcurrentCommits: 2,
      commit: async (items) => {
        running += 1;
        peak = Math.max(peak, running);
        sizes.push(items.length);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        return items;
      },
    });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.submit(i)));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(20);
    expect(peak).toBeLessThanOrEqual(2);
  });

  it('rejects every item of a failed batch, and later batches still commit', async () => {
    let fail = true;
    const batcher = new GroupCommitBatcher<number, number>({
      maxBatch: 10,
      maxWaitMs: 1,
      maxConcurrentCommits: 1,
      commit: async (items) => {
        if (fail) throw new Error('boom');
        return items;
      },
    });
    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow('boom');
    fail = false;
    await expect(batcher.submit(3)).resolves.toBe(3);
  });
});
