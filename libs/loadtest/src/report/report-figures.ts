import type { DeliveryTotals, LoadReport, ServiceSample, StageReport } from './load-report';

/**
 * Figures derived from a LoadReport the same way for every reader: the thresholds judge them,
 * the summary and the HTML show them, the comparison diffs them.
 */

/** The verdict to show: the run's own, and never a pass for a run that lost anything (loss is a failure by definition). */
export function runPassed(report: LoadReport): boolean {
  return report.passed && report.totals.lost === 0;
}

/** Sends refused, all statuses together (HTTP statuses and "transport"). */
export function refusedTotal(totals: DeliveryTotals): number {
  return Object.values(totals.refusedByStatus).reduce((sum, count) => sum + count, 0);
}

/** Everything that went wrong short of loss: refused sends and failed `--verify` decryptions. */
export function sendErrorsTotal(totals: DeliveryTotals): number {
  return refusedTotal(totals) + (totals.verifyFailures ?? 0);
}

/** Seconds the load ran: the timeline's length; without a timeline, the stages' length if they all ran, else 0. */
export function loadSeconds(report: LoadReport): number {
  const lastSecond = report.timeline.length > 0 ? report.timeline[report.timeline.length - 1].t : 0;
  if (lastSecond > 0 || report.endedBy !== 'completed') return lastSecond;
  return report.stages.reduce((sum, stage) => sum + stage.durationSeconds, 0);
}

/** Delivered envelopes per second over the run (0 for a run that never ran). */
export function deliveredPerSecond(report: LoadReport): number {
  const seconds = loadSeconds(report);
  return seconds > 0 ? report.totals.delivered / seconds : 0;
}

export function acceptedPerSecond(report: LoadReport): number {
  const seconds = loadSeconds(report);
  return seconds > 0 ? report.totals.accepted / seconds : 0;
}

export function stageDeliveredPerSecond(stage: StageReport): number {
  return stage.durationSeconds > 0 ? stage.totals.delivered / stage.durationSeconds : 0;
}

/** "2 ramp 30s:1000→4000/s": a stage's 1-based position (what `stage2.p99` names) and its label. */
export function stageName(stage: StageReport, position: number): string {
  return `stage ${position + 1} (${stage.label})`;
}

export interface ServiceStats {
  /** "alpha.example relay" */
  name: string;
  server: string;
  service: ServiceSample['service'];
  samples: number;
  cpuMean: number;
  cpuMax: number;
  rssMean: number;
  rssMax: number;
}

/** Mean and max CPU and RSS of every (server, service) sampled, in first-seen order. */
export function serviceStats(samples: ServiceSample[]): ServiceStats[] {
  const byName = new Map<string, ServiceSample[]>();
  for (const sample of samples) {
    const name = serviceSeriesName(sample);
    const series = byName.get(name);
    if (series) series.push(sample);
    else byName.set(name, [sample]);
  }
  return [...byName.entries()].map(([name, series]) => ({
    name,
    server: series[0].server,
    service: series[0].service,
    samples: series.length,
    cpuMean: series.reduce((sum, s) => sum + s.cpuCores, 0) / series.length,
    cpuMax: series.reduce((max, s) => Math.max(max, s.cpuCores), 0),
    rssMean: series.reduce((sum, s) => sum + s.rssMiB, 0) / series.length,
    rssMax: series.reduce((max, s) => Math.max(max, s.rssMiB), 0),
  }));
}

export function serviceSeriesName(sample: Pick<ServiceSample, 'server' | 'service'>): string {
  return `${sample.server} ${sample.service}`;
}
