import type { HistogramBuckets, LatencySummary, ServiceSample, TimelineSecond } from '../load-report';

/**
 * The series behind the sample reports: a second of load, service samples, a log-normal latency's
 * percentiles and histogram, and a seeded random source (the same seed, the same report).
 */

const DEVICES_PER_SEND = 1.25;

const Z = { p50: 0, p90: 1.2816, p99: 2.3263, p999: 3.0902, max: 3.8 };

export function lognormalSummary(count: number, medianMs: number, sigma: number): LatencySummary {
  if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  const at = (z: number) => Math.round(medianMs * Math.exp(sigma * z) * 1000) / 1000;
  return { count, mean: at(sigma / 2), p50: at(Z.p50), p90: at(Z.p90), p99: at(Z.p99), p999: at(Z.p999), max: at(Z.max) };
}

export function lognormalHistogram(count: number, medianMs: number, sigma: number): HistogramBuckets {
  const upperBoundsMs = Array.from({ length: 24 }, (_, i) => Math.round(0.5 * Math.pow(2, i / 2) * 100) / 100);
  const cdf = (ms: number) => 0.5 * (1 + erf(Math.log(ms / medianMs) / (sigma * Math.SQRT2)));
  const counts = upperBoundsMs.map((bound, i) => Math.round(count * (cdf(bound) - (i === 0 ? 0 : cdf(upperBoundsMs[i - 1])))));
  return { upperBoundsMs, counts };
}

/** Abramowitz–Stegun 7.1.26, good to 1.5e-7: enough for a histogram that only has to look right. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-x * x));
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let r = Math.imul(state ^ (state >>> 15), 1 | state);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** One second of the timeline at `offered` sends per second: latency grows with load, a few 429s near the top rate. */
export function sampleSecond(t: number, stage: number, offered: number, random: () => number): TimelineSecond {
  const refused = offered > 900 && random() < 0.1 ? 1 + Math.floor(random() * 3) : 0;
  const accepted = offered - refused;
  const load = offered / 1000;
  return {
    t,
    stage,
    offeredPerSecond: offered,
    acceptedPerSecond: accepted,
    deliveredPerSecond: Math.round(accepted * DEVICES_PER_SEND),
    inFlight: Math.round(offered * 0.006 + random() * 4),
    acceptP50: offered > 0 ? 1.2 + load + random() * 0.3 : 0,
    acceptP99: offered > 0 ? 4 + 6 * load + random() * 3 : 0,
    deliverP50: offered > 0 ? 2.5 + 2 * load + random() * 0.6 : 0,
    deliverP99: offered > 0 ? 8 + 14 * load + random() * 8 : 0,
    errorsByStatus: refused > 0 ? { '429': refused } : {},
  };
}

/** directory, relay and gateway of both sample homeservers every 2 s, CPU following the load. */
export function sampleServices(seconds: number, random: () => number): ServiceSample[] {
  const samples: ServiceSample[] = [];
  const base = { directory: [0.15, 95], relay: [0.6, 140], gateway: [0.45, 120] } as const;
  for (let t = 2; t <= seconds; t += 2) {
    const load = t <= 30 ? t / 30 : t <= 90 ? 1 : (120 - t) / 30;
    for (const server of ['alpha.example', 'beta.example'])
      for (const service of ['directory', 'relay', 'gateway'] as const) {
        const [cpu, rss] = base[service];
        samples.push({
          t,
          server,
          service,
          cpuCores: Math.round((0.02 + cpu * load + random() * 0.05) * 1000) / 1000,
          rssMiB: Math.round(rss + 30 * load + t / 10),
        });
      }
  }
  return samples;
}
