import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { LatencyHistogram } from '../metrics/latency-histogram';
import type { LoadOptions } from '../options/load-options';
import {
  ConnectReport,
  DeliveryTotals,
  LOAD_REPORT_VERSION,
  LatencySet,
  LoadReport,
  ServiceSample,
  StageReport,
  TargetHomeserver,
  TimelineSecond,
} from '../report/load-report';
import type { ArrivalSchedule } from '../schedule/arrival-schedule';
import { repositoryRoot } from '../targets/spawn-resources';
import type { WorkerLedger } from '../worker/ipc-messages';
import type { JoinedStage } from './delivery-join';

export interface ReportParts {
  command: string[];
  options: LoadOptions;
  startedAt: Date;
  endedBy: LoadReport['endedBy'];
  error?: string;
  targets: TargetHomeserver[];
  connect: ConnectReport;
  schedule: ArrivalSchedule;
  ledgers: (WorkerLedger | undefined)[];
  joined: JoinedStage[];
  verifyFailures: Record<string, number>;
  timeline: TimelineSecond[];
  services: ServiceSample[];
}

const addCounts = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
};

/**
 * The LoadReport of a run: per stage the workers' figures summed and their histograms merged,
 * the join's delivered / lost, then the run's totals as the sum of its stages (so they always
 * agree) and its latencies from the merged stage histograms. Thresholds are left empty and
 * `passed` reflects only loss: the caller evaluates `--threshold`s on this report.
 */
export function buildReport(parts: ReportParts): LoadReport {
  const { schedule, options } = parts;
  const live = parts.ledgers.filter((l): l is WorkerLedger => l !== undefined);
  const overall = { accept: LatencyHistogram.empty(), deliver: LatencyHistogram.empty(), ack: LatencyHistogram.empty() };
  const totals = emptyTotals(options.verify);
  const stages: StageReport[] = schedule.spans.map((span, i) => {
    const hist = { accept: LatencyHistogram.empty(), deliver: LatencyHistogram.empty(), ack: LatencyHistogram.empty() };
    const t = emptyTotals(options.verify);
    for (const ledger of live) {
      const s = ledger.stages[i];
      t.sent += s.sent;
      t.accepted += s.accepted;
      t.expectedDeliveries += s.expectedDeliveries;
      t.duplicated += s.duplicated;
      t.delayedByInFlightCap += s.delayedByInFlightCap;
      addCounts(t.refusedByStatus, s.refusedByStatus);
      if (options.verify) {
        t.verified! += s.verified;
        t.verifyFailures! += s.verifyFailures;
      }
      for (const kind of ['accept', 'deliver', 'ack'] as const) if (s[kind]) hist[kind].add(LatencyHistogram.decode(s[kind]));
    }
    t.delivered = parts.joined[i].delivered;
    t.lost = parts.joined[i].lost;
    t.deliveredUnaccepted = parts.joined[i].deliveredUnaccepted;
    for (const kind of ['accept', 'deliver', 'ack'] as const) overall[kind].add(hist[kind]);
    addTotals(totals, t);
    return {
      index: i,
      label: schedule.stages[i].label,
      startSeconds: span.startSeconds,
      durationSeconds: span.durationSeconds,
      rateFrom: span.rateFrom,
      rateTo: span.rateTo,
      totals: t,
      latency: latencySet(hist),
    };
  });
  totals.foreign = live.reduce((n, l) => n + l.foreign, 0);
  if (options.verify && Object.keys(parts.verifyFailures).length > 0) totals.verifyFailuresByReason = parts.verifyFailures;
  return {
    version: LOAD_REPORT_VERSION,
    tool: 'sealpost loadtest',
    command: redactedCommand(parts.command),
    options: { ...options, registrationTokens: options.registrationTokens.map(() => '<redacted>') } as unknown as Record<string, unknown>,
    environment: environment(parts.startedAt),
    endedBy: parts.endedBy,
    ...(parts.error ? { error: parts.error } : {}),
    targets: parts.targets,
    connect: parts.connect,
    totals,
    latency: latencySet(overall),
    deliverHistogram: overall.deliver.buckets(),
    stages,
    timeline: parts.timeline,
    services: parts.services,
    thresholds: [],
    passed: totals.lost === 0 && (parts.endedBy === 'completed' || parts.endedBy === 'interrupted'),
  };
}

/** The command line with the value of every `--registration-token` replaced: a report is shared, a token is a secret. */
export function redactedCommand(argv: string[]): string[] {
  return argv.map((arg, i) =>
    argv[i - 1] === '--registration-token'
      ? '<redacted>'
      : arg.startsWith('--registration-token=')
        ? '--registration-token=<redacted>'
        : arg,
  );
}

function latencySet(h: { accept: LatencyHistogram; deliver: LatencyHistogram; ack: LatencyHistogram }): LatencySet {
  return { sendToAccept: h.accept.summary(), sendToDeliver: h.deliver.summary(), ack: h.ack.summary() };
}

function emptyTotals(verify: boolean): DeliveryTotals {
  return {
    sent: 0,
    accepted: 0,
    delivered: 0,
    duplicated: 0,
    lost: 0,
    expectedDeliveries: 0,
    refusedByStatus: {},
    delayedByInFlightCap: 0,
    deliveredUnaccepted: 0,
    ...(verify ? { verified: 0, verifyFailures: 0 } : {}),
  };
}

function addTotals(into: DeliveryTotals, t: DeliveryTotals): void {
  for (const key of [
    'sent',
    'accepted',
    'delivered',
    'duplicated',
    'lost',
    'expectedDeliveries',
    'delayedByInFlightCap',
    'deliveredUnaccepted',
    'verified',
    'verifyFailures',
  ] as const) {
    if (t[key] !== undefined) into[key] = (into[key] ?? 0) + t[key];
  }
  addCounts(into.refusedByStatus, t.refusedByStatus);
}

function environment(startedAt: Date): LoadReport['environment'] {
  const root = (() => {
    try {
      return repositoryRoot();
    } catch {
      return undefined;
    }
  })();
  let version = 'unknown';
  let gitCommit: string | undefined;
  if (root) {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
    try {
      gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      gitCommit = undefined;
    }
  }
  return {
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(totalmem() / 1048576),
    sealpostVersion: version,
    ...(gitCommit ? { gitCommit } : {}),
  };
}
