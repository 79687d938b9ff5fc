import { build, Histogram } from 'hdr-histogram-js';

/** Latency recorder: an HDR histogram of microseconds, reported in milliseconds. */
export class LatencyHistogram {
  private readonly histogram: Histogram = build({
    useWebAssembly: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one sample given as a `process.hrtime.bigint()` start. */
  recordSince(startNs: bigint): void {
    const micros = Number((process.hrtime.bigint() - startNs) / 1000n);
    this.histogram.recordValue(Math.max(1, micros));
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Latency at a percentile (0..100), in ms. */
  percentileMs(p: number): number {
    return this.histogram.getValueAtPercentile(p) / 1000;
  }

  get maxMs(): number {
    return this.histogram.maxValue / 1000;
  }

  get meanMs(): number {
    return this.histogram.mean / 1000;
  }
}
