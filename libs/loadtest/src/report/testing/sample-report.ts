import {
  LOAD_REPORT_VERSION,
  type DeliveryTotals,
  type HistogramBuckets,
  type LatencySummary,
  type LoadReport,
  type ServiceSample,
  type StageReport,
  type TimelineSecond,
} from '../load-report';

/**
 * Plausible LoadReports for specs and for looking at the renderers by hand (test-only: `testing/`
 * is left out of the build). Deterministic for a given seed. The counts are consistent with each
 * other the way the engine's are: totals are the sums of the stages, delivered = expected − lost.
 */
export interface SampleReportOptions {
  seed?: number;
  /** Envelopes accepted and never delivered, all in the hold stage. */
  lost?: number;
  duplicated?: number;
}

const STAGES = [
  { label: '30s:1000', durationSeconds: 30, rateTo: 1000 },
  { label: '60s:1000', durationSeconds: 60, rateTo: 1000 },
  { label: '30s:0', durationSeconds: 30, rateTo: 0 },
];
const Z = { p50: 0, p90: 1.2816, p99: 2.3263, p999: 3.0902, max: 3.8 };
const DEVICES_PER_SEND = 1.25;

export function createSampleReport(options: SampleReportOptions = {}): LoadReport {
  const random = mulberry32(options.seed ?? 11);
  const timeline: TimelineSecond[] = [];
  const stages: StageReport[] = [];
  let start = 0;
  let rateFrom = 0;
  for (const [index, plan] of STAGES.entries()) {
    const seconds: TimelineSecond[] = [];
    for (let s = 1; s <= plan.durationSeconds; s++) {
      const offered = Math.round(rateFrom + ((plan.rateTo - rateFrom) * s) / plan.durationSeconds);
      seconds.push(sampleSecond(start + s, index, offered, random));
    }
    timeline.push(...seconds);
    const lost = index === 1 ? (options.lost ?? 0) : 0;
    const duplicated = index === 1 ? (options.duplicated ?? 0) : 0;
    const totals = stageTotals(seconds, lost, duplicated);
    const median = 3 + plan.rateTo / 400;
    const latency = {
      sendToAccept: lognormalSummary(totals.accepted, median / 2, 0.5),
      sendToDeliver: lognormalSummary(totals.delivered, median, 0.6),
      ack: lognormalSummary(totals.delivered, 0.8, 0.4),
    };
    stages.push({
      index,
      label: plan.label,
      startSeconds: start,
      durationSeconds: plan.durationSeconds,
      rateFrom,
      rateTo: plan.rateTo,
      totals,
      latency,
    });
    start += plan.durationSeconds;
    rateFrom = plan.rateTo;
  }
  const totals = sumTotals(stages.map((stage) => stage.totals));
  return {
    version: LOAD_REPORT_VERSION,
    tool: 'sealpost loadtest',
    command: [
      '--server',
      'https://alpha.example',
      '--server',
      'https://beta.example',
      ...STAGES.flatMap((s) => ['--stage', s.label]),
      '--threshold',
      'p99<50ms',
      '--threshold',
      'lost==0',
    ],
    options: {
      servers: ['https://alpha.example', 'https://beta.example'],
      accounts: 400,
      devicesPerAccount: 2,
      federatedShare: 0.5,
      sealedSenderShare: 0.3,
      maxInFlight: 5000,
    },
    environment: {
      startedAt: '2026-12-02T16:00:00.000Z',
      endedAt: '2026-12-02T16:02:05.000Z',
      node: 'v20.20.2',
      platform: 'linux x64',
      cpus: 2,
      cpuModel: 'Sample CPU @ 2.00GHz',
      totalMemoryMiB: 24576,
      sealpostVersion: '0.1.0',
      gitCommit: '43f6fb6',
    },
    endedBy: 'completed',
    targets: ['alpha', 'beta'].map((name) => ({
      serverName: `${name}.example`,
      discoveryUrl: `https://${name}.example/.well-known/sealpost`,
      directoryUrl: `https://${name}.example/directory`,
      relayUrl: `https://${name}.example/relay`,
      accounts: 200,
      devices: 400,
    })),
    connect: {
      attempted: 800,
      connected: 800,
      failed: 0,
      failuresByReason: {},
      durationMs: 2400,
      ratePerSecond: 333,
      workers: 2,
      sourceAddresses: ['127.0.0.2', '127.0.0.3'],
    },
    totals,
    latency: {
      sendToAccept: lognormalSummary(totals.accepted, 2.5, 0.55),
      sendToDeliver: lognormalSummary(totals.delivered, 5, 0.65),
      ack: lognormalSummary(totals.delivered, 0.8, 0.4),
    },
    deliverHistogram: lognormalHistogram(totals.delivered, 5, 0.65),
    stages,
    timeline,
    services: sampleServices(start, random),
    thresholds: [
      { expression: 'p99<50ms', actual: 22.7, passed: true },
      { expression: 'lost==0', actual: totals.lost, passed: totals.lost === 0 },
    ],
    passed: totals.lost === 0,
  };
}

/** An interrupted run that never sent: no timeline, no service samples, empty histogram. */
export function createEmptyReport(): LoadReport {
  const report = createSampleReport();
  const zeroTotals = stageTotals([], 0, 0);
  const zeroLatency = { sendToAccept: lognormalSummary(0, 1, 1), sendToDeliver: lognormalSummary(0, 1, 1), ack: lognormalSummary(0, 1, 1) };
  return {
    ...report,
    endedBy: 'interrupted',
    connect: { ...report.connect, connected: 0, failed: 800, failuresByReason: { ECONNREFUSED: 800 } },
    totals: zeroTotals,
    latency: zeroLatency,
    deliverHistogram: { upperBoundsMs: [], counts: [] },
    stages: [{ ...report.stages[0], totals: zeroTotals, latency: zeroLatency }],
    timeline: [],
    services: [],
    thresholds: [],
    passed: true,
  };
}

function sampleSecond(t: number, stage: number, offered: number, random: () => number): TimelineSecond {
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

function stageTotals(seconds: TimelineSecond[], lost: number, duplicated: number): DeliveryTotals {
  const sent = seconds.reduce((sum, s) => sum + s.offeredPerSecond, 0);
  const accepted = seconds.reduce((sum, s) => sum + s.acceptedPerSecond, 0);
  const expectedDeliveries = seconds.reduce((sum, s) => sum + s.deliveredPerSecond, 0);
  const refused = sent - accepted;
  return {
    sent,
    accepted,
    delivered: expectedDeliveries - lost,
    duplicated,
    lost,
    expectedDeliveries,
    refusedByStatus: refused > 0 ? { '429': refused } : {},
    delayedByInFlightCap: 0,
  };
}

function sumTotals(all: DeliveryTotals[]): DeliveryTotals {
  const refusedByStatus: Record<string, number> = {};
  for (const totals of all)
    for (const [status, n] of Object.entries(totals.refusedByStatus)) refusedByStatus[status] = (refusedByStatus[status] ?? 0) + n;
  const sum = (key: 'sent' | 'accepted' | 'delivered' | 'duplicated' | 'lost' | 'expectedDeliveries' | 'delayedByInFlightCap') =>
    all.reduce((total, t) => total + t[key], 0);
  return {
    sent: sum('sent'),
    accepted: sum('accepted'),
    delivered: sum('delivered'),
    duplicated: sum('duplicated'),
    lost: sum('lost'),
    expectedDeliveries: sum('expectedDeliveries'),
    refusedByStatus,
    delayedByInFlightCap: sum('delayedByInFlightCap'),
  };
}

function lognormalSummary(count: number, medianMs: number, sigma: number): LatencySummary {
  if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  const at = (z: number) => Math.round(medianMs * Math.exp(sigma * z) * 1000) / 1000;
  return { count, mean: at(sigma / 2), p50: at(Z.p50), p90: at(Z.p90), p99: at(Z.p99), p999: at(Z.p999), max: at(Z.max) };
}

function lognormalHistogram(count: number, medianMs: number, sigma: number): HistogramBuckets {
  const upperBoundsMs = Array.from({ length: 24 }, (_, i) => Math.round(0.5 * Math.pow(2, i / 2) * 100) / 100);
  const cdf = (ms: number) => 0.5 * (1 + erf(Math.log(ms / medianMs) / (sigma * Math.SQRT2)));
  const counts = upperBoundsMs.map((bound, i) => Math.round(count * (cdf(bound) - (i === 0 ? 0 : cdf(upperBoundsMs[i - 1])))));
  return { upperBoundsMs, counts };
}

function sampleServices(seconds: number, random: () => number): ServiceSample[] {
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

/** Abramowitz–Stegun 7.1.26, good to 1.5e-7: enough for a histogram that only has to look right. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-x * x));
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let r = Math.imul(state ^ (state >>> 15), 1 | state);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}
