import { LatencyHistogram } from './latency-histogram';

describe('LatencyHistogram: HDR histograms merged across processes', () => {
  it('merging encoded per-worker histograms gives the percentiles of one histogram of all samples', () => {
    const all = LatencyHistogram.empty();
    const merged = LatencyHistogram.empty();
    for (let worker = 0; worker < 4; worker++) {
      const mine = LatencyHistogram.empty();
      for (let i = 0; i < 5000; i++) {
        const ms = (worker + 1) * Math.random() * 40 + (i % 97 === 0 ? 500 : 0);
        mine.recordMs(ms);
        all.recordMs(ms);
      }
      merged.add(LatencyHistogram.decode(mine.encode()));
    }
    // The max of a decoded histogram is the top of its bucket's 3-digit range, not the exact sample.
    const { max, ...rest } = merged.summary();
    const { max: exactMax, ...exactRest } = all.summary();
    expect(rest).toEqual(exactRest);
    expect(Math.abs(max - exactMax) / exactMax).toBeLessThan(0.001);
    expect(merged.count).toBe(20_000);
  });

  it('is empty and all zero with no samples, and encodes to nothing', () => {
    const empty = LatencyHistogram.empty();
    expect(empty.encode()).toBe('');
    expect(LatencyHistogram.decode('').summary()).toEqual({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    expect(empty.buckets()).toEqual({ upperBoundsMs: [], counts: [] });
  });

  it('keeps 3 significant digits and counts every sample in the drawing buckets', () => {
    const h = LatencyHistogram.empty();
    for (const ms of [1, 2, 3, 10, 10, 250]) h.recordMs(ms);
    expect(h.summary().max).toBeCloseTo(250, 0);
    expect(h.percentileMs(50)).toBeCloseTo(3, 2);
    const buckets = h.buckets();
    expect(buckets.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect(buckets.upperBoundsMs.at(-1)).toBeGreaterThanOrEqual(250);
    expect([...buckets.upperBoundsMs].sort((a, b) => a - b)).toEqual(buckets.upperBoundsMs);
  });
});
