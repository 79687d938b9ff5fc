import type { LatencySet, LoadReport, StageReport } from './load-report';
import { formatCommandLine, formatCount, formatDuration, formatMs, formatPercent, formatRate, percentOf } from './report-format';
import { deliveredPerSecond, loadSeconds, refusedTotal, runPassed, stageDeliveredPerSecond } from './report-figures';
import { formatThresholdActual } from './threshold.evaluator';
import { paint, renderTextTable } from './text-table';

export interface SummaryTableOptions {
  /** ANSI colours (PASS green, FAIL and LOST red); off unless asked for. */
  color?: boolean;
}

const LATENCY_ROWS: [keyof LatencySet, string][] = [
  ['sendToAccept', 'send→accept'],
  ['sendToDeliver', 'send→deliver'],
  ['ack', 'ack'],
];

/**
 * The summary printed when a run ends: verdict, per-stage counts and latencies, totals, thresholds.
 * Anything accepted and not delivered is shouted, never a quiet number in a column.
 */
export function renderSummaryTable(report: LoadReport, options: SummaryTableOptions = {}): string {
  const color = options.color ?? false;
  const { totals } = report;
  const verdict = runPassed(report) ? paint('PASSED', 'green', color) : paint('FAILED', 'red', color);
  const lines = [
    paint(`sealpost loadtest: ${verdict}`, 'bold', color) + `  (${report.endedBy}, ${formatDuration(loadSeconds(report))} of load)`,
    `  ${formatCommandLine(report.command)}`,
  ];
  if (report.endedBy !== 'completed')
    lines.push(paint(`  ENDED EARLY (${report.endedBy}): the figures cover only what ran`, 'yellow', color));
  if (report.error) lines.push(paint(`  ERROR: ${report.error}`, 'red', color));
  lines.push(
    `  targets: ${report.targets.map((t) => `${t.serverName} (${formatCount(t.accounts)} accounts, ${formatCount(t.devices)} devices)`).join(', ') || 'none'}`,
    `  connect: ${formatCount(report.connect.connected)}/${formatCount(report.connect.attempted)} connected in ${formatMs(report.connect.durationMs)} ` +
      `(${formatRate(report.connect.ratePerSecond)}), ${formatCount(report.connect.failed)} failed` +
      formatBreakdown(report.connect.failuresByReason),
    '',
    'Stages',
    ...renderTextTable(
      [
        { header: 'stage', align: 'left' },
        { header: 'rate/s' },
        { header: 'sent' },
        { header: 'accepted' },
        { header: 'delivered' },
        { header: 'lost' },
        { header: 'dup' },
        { header: 'refused' },
        { header: 'delivered/s' },
      ],
      [...report.stages.map(stageCountRow), ['all', '', ...countCells(report.totals), formatRate(deliveredPerSecond(report))]],
    ),
    '',
    'Latency from the intended send time',
    ...renderTextTable(
      [
        { header: 'stage', align: 'left' },
        { header: 'latency', align: 'left' },
        { header: 'p50' },
        { header: 'p90' },
        { header: 'p99' },
        { header: 'p99.9' },
        { header: 'max' },
        { header: 'count' },
      ],
      [
        ...report.stages.flatMap((stage, i) => latencyRows(`${i + 1} ${stage.label}`, stage.latency)),
        ...latencyRows('all', report.latency),
      ],
    ),
    '',
    'Totals',
    `  sent ${formatCount(totals.sent)}, accepted ${formatCount(totals.accepted)} (${formatPercent(percentOf(totals.accepted, totals.sent))}), ` +
      `delivered ${formatCount(totals.delivered)} of ${formatCount(totals.expectedDeliveries)} expected (${formatPercent(percentOf(totals.delivered, totals.expectedDeliveries))})`,
    `  duplicated ${formatCount(totals.duplicated)}, lost ${formatCount(totals.lost)}, refused ${formatCount(refusedTotal(totals))}${formatBreakdown(totals.refusedByStatus)}, ` +
      `delayed by the in-flight cap ${formatCount(totals.delayedByInFlightCap)}` +
      (totals.verified !== undefined
        ? `, verified ${formatCount(totals.verified)} (${formatCount(totals.verifyFailures ?? 0)} failed)`
        : ''),
  );
  if (totals.lost > 0)
    lines.push('', paint(`!!! LOST: ${formatCount(totals.lost)} accepted envelopes were never delivered !!!`, 'red', color));
  if (report.thresholds.length > 0) {
    lines.push('', 'Thresholds');
    for (const result of report.thresholds) {
      const mark = result.passed ? paint('PASS', 'green', color) : paint('FAIL', 'red', color);
      lines.push(
        `  ${mark}  ${result.expression.padEnd(Math.max(...report.thresholds.map((r) => r.expression.length)))}  actual ${formatThresholdActual(result)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

function stageCountRow(stage: StageReport, position: number): string[] {
  const rate = stage.rateFrom === stage.rateTo ? formatCount(stage.rateTo) : `${formatCount(stage.rateFrom)}→${formatCount(stage.rateTo)}`;
  return [`${position + 1} ${stage.label}`, rate, ...countCells(stage.totals), formatRate(stageDeliveredPerSecond(stage))];
}

function countCells(totals: StageReport['totals']): string[] {
  return [totals.sent, totals.accepted, totals.delivered, totals.lost, totals.duplicated, refusedTotal(totals)].map((n) => formatCount(n));
}

function latencyRows(stage: string, latency: LatencySet): string[][] {
  return LATENCY_ROWS.map(([key, name], i) => {
    const s = latency[key];
    const cells = s.count === 0 ? ['-', '-', '-', '-', '-'] : [s.p50, s.p90, s.p99, s.p999, s.max].map(formatMs);
    return [i === 0 ? stage : '', name, ...cells, formatCount(s.count)];
  });
}

function formatBreakdown(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length === 0 ? '' : ` (${entries.map(([key, n]) => `${key}: ${formatCount(n)}`).join(', ')})`;
}
