import { LOAD_REPORT_VERSION, type DeliveryTotals, type LoadReport, type StageReport, type TimelineSecond } from '../load-report';
import { lognormalHistogram, lognormalSummary, mulberry32, sampleSecond, sampleServices } from './sample-series';

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
