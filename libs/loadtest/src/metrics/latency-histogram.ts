import { Histogram, JsHistogram, build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { HistogramBuckets, LatencySummary } from '../report/load-report';

/** Longest latency kept exactly: 1 hour (a longer one is recorded as 1 hour; `max` says so). */
const HIGHEST_US = 3_600_000_000;

/**
 * A latency distribution as an HDR histogram of microseconds (3 significant digits), reported in
 * milliseconds. Mergeable across processes: `encode()` in a worker, `decode()` and `add()` in the
 * coordinator give the same percentiles as one histogram of all samples.
 */
export class LatencyHistogram {
  private constructor(private readonly histogram: Histogram) {}

  static empty(): LatencyHistogram {
    return new LatencyHistogram(
      build({ useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 }),
    );
  }

  static decode(encoded: string): LatencyHistogram {
    const histogram = LatencyHistogram.empty();
    if (encoded.length > 0) histogram.histogram.add(decodeFromCompressedBase64(encoded, 32, false));
    return histogram;
  }

  /** Records one latency in ms (negative clock skew between processes counts as 1 µs). */
  recordMs(ms: number): void {
    const us = Math.round(ms * 1000);
    this.histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, us)));
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  /** Compressed base64 of the counts ('' when empty: nothing to send). */
  encode(): string {
    return this.histogram.totalCount === 0 ? '' : encodeIntoCompressedBase64(this.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(p: number): number {
    return this.count === 0 ? 0 : this.histogram.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: this.count,
      mean: ms(this.histogram.mean),
      p50: ms(this.histogram.getValueAtPercentile(50)),
      p90: ms(this.histogram.getValueAtPercentile(90)),
      p99: ms(this.histogram.getValueAtPercentile(99)),
      p999: ms(this.histogram.getValueAtPercentile(99.9)),
      max: ms(this.histogram.maxValue),
    };
  }

  /**
   * Counts in log-spaced buckets for drawing: bounds 0.1 ms × 10^(k/10) (ten per decade) from the
   * first bucket holding a sample to the one holding the max.
   */
  buckets(): HistogramBuckets {
    if (this.count === 0) return { upperBoundsMs: [], counts: [] };
    const boundOf = (k: number) => Number((0.1 * 10 ** (k / 10)).toPrecision(3));
    const indexOf = (ms: number) => Math.max(0, Math.ceil(10 * Math.log10(ms / 0.1) - 1e-9));
    const counts = new Map<number, number>();
    const iterator = (this.histogram as unknown as JsHistogram).recordedValuesIterator;
    iterator.reset();
    while (iterator.hasNext()) {
      const step = iterator.next();
      const k = indexOf(step.valueIteratedTo / 1000);
      counts.set(k, (counts.get(k) ?? 0) + step.countAtValueIteratedTo);
    }
    const first = Math.min(...counts.keys());
    const last = Math.max(...counts.keys());
    const out: HistogramBuckets = { upperBoundsMs: [], counts: [] };
    for (let k = first; k <= last; k++) {
      out.upperBoundsMs.push(boundOf(k));
      out.counts.push(counts.get(k) ?? 0);
    }
    return out;
  }
}
