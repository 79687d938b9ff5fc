import type { LatencySet, LoadReport, StageReport } from '../load-report';
import { formatCount, formatDuration, formatMs, formatPercent, formatRate, percentOf } from '../report-format';
import { deliveredPerSecond, loadSeconds, refusedTotal, stageDeliveredPerSecond } from '../report-figures';
import { formatThresholdActual } from '../threshold.evaluator';
import { escapeHtml } from './html-escape';
import { htmlTable, type TableRow } from './html-table';

/** The report's tables: per-stage counts and latencies, totals, thresholds. */

const LATENCIES: [keyof LatencySet, string][] = [
  ['sendToAccept', 'send → accept'],
  ['sendToDeliver', 'send → deliver'],
  ['ack', 'ack round trip'],
];

export function renderStageCountTable(report: LoadReport): string {
  const row = (name: string, stage: Pick<StageReport, 'totals'>, when: string, rate: string, perSecond: number): TableRow => {
    const t = stage.totals;
    return {
      className: t.lost > 0 ? 'row-lost' : undefined,
      cells: [
        name,
        when,
        rate,
        ...[t.sent, t.accepted, t.delivered, t.lost, t.duplicated, refusedTotal(t)].map((n) => formatCount(n)),
        formatRate(perSecond),
      ],
    };
  };
  const rows = report.stages.map((stage, i) =>
    row(
      `${i + 1} · ${stage.label}`,
      stage,
      `${formatDuration(stage.startSeconds)} + ${formatDuration(stage.durationSeconds)}`,
      stage.rateFrom === stage.rateTo
        ? `${formatCount(stage.rateTo)}/s`
        : `${formatCount(stage.rateFrom)} → ${formatCount(stage.rateTo)}/s`,
      stageDeliveredPerSecond(stage),
    ),
  );
  rows.push({ ...row('whole run', report, formatDuration(loadSeconds(report)), '', deliveredPerSecond(report)), className: 'row-total' });
  const numeric = (label: string) => ({ label, numeric: true });
  return htmlTable(
    [
      { label: 'Stage' },
      { label: 'Start + length' },
      numeric('Target rate'),
      numeric('Sent'),
      numeric('Accepted'),
      numeric('Delivered'),
      numeric('Lost'),
      numeric('Duplicated'),
      numeric('Refused'),
      numeric('Delivered/s'),
    ],
    rows,
  );
}

export function renderStageLatencyTable(report: LoadReport): string {
  const rowsOf = (name: string, latency: LatencySet, className?: string): TableRow[] =>
    LATENCIES.map(([key, label], i) => {
      const s = latency[key];
      const figures = s.count === 0 ? ['–', '–', '–', '–', '–', '–'] : [s.mean, s.p50, s.p90, s.p99, s.p999, s.max].map(formatMs);
      const cells = [label, formatCount(s.count), ...figures];
      return {
        className,
        cells: i === 0 ? [{ html: escapeHtml(name), rowSpan: LATENCIES.length, className: 'stage-cell' }, ...cells] : cells,
      };
    });
  const rows = [
    ...report.stages.flatMap((stage, i) => rowsOf(`${i + 1} · ${stage.label}`, stage.latency)),
    ...rowsOf('whole run', report.latency, 'row-total'),
  ];
  const numeric = (label: string) => ({ label, numeric: true });
  return htmlTable(
    [
      { label: 'Stage' },
      { label: 'Latency' },
      numeric('Count'),
      numeric('Mean'),
      numeric('p50'),
      numeric('p90'),
      numeric('p99'),
      numeric('p99.9'),
      numeric('Max'),
    ],
    rows,
  );
}

export function renderTotalsTable(report: LoadReport): string {
  const t = report.totals;
  const rows: TableRow[] = [
    { cells: ['Sent', formatCount(t.sent), ''] },
    { cells: ['Accepted (2xx)', formatCount(t.accepted), `${formatPercent(percentOf(t.accepted, t.sent))} of sent`] },
    ...Object.entries(t.refusedByStatus).map(([status, n]) => ({
      cells: [`Refused: ${status}`, formatCount(n), `${formatPercent(percentOf(n, t.sent))} of sent`],
    })),
    { cells: ['Expected deliveries', formatCount(t.expectedDeliveries), 'accepted × recipient devices'] },
    { cells: ['Delivered', formatCount(t.delivered), `${formatPercent(percentOf(t.delivered, t.expectedDeliveries))} of expected`] },
    {
      className: t.lost > 0 ? 'row-lost' : 'row-ok',
      cells: [
        'Lost',
        formatCount(t.lost),
        t.lost > 0 ? `${formatPercent(percentOf(t.lost, t.expectedDeliveries))} of expected: accepted, never delivered` : 'none',
      ],
    },
    { className: t.duplicated > 0 ? 'row-warn' : undefined, cells: ['Duplicated', formatCount(t.duplicated), ''] },
    { cells: ['Delayed by the in-flight cap', formatCount(t.delayedByInFlightCap), 'latency still counted from the intended time'] },
  ];
  if (t.verified !== undefined)
    rows.push({ cells: ['Verified (--verify)', formatCount(t.verified), `${formatCount(t.verifyFailures ?? 0)} failed`] });
  return htmlTable([{ label: 'Figure' }, { label: 'Count', numeric: true }, { label: 'Share' }], rows, 'data narrow');
}

export function renderThresholdTable(report: LoadReport): string {
  if (report.thresholds.length === 0) return '<p class="no-data">No thresholds were set (<code>--threshold</code>).</p>';
  const rows = report.thresholds.map((result) => ({
    className: result.passed ? undefined : 'row-lost',
    cells: [
      { html: `<code>${escapeHtml(result.expression)}</code>` },
      formatThresholdActual(result),
      { html: result.passed ? '<span class="pill pill-pass">PASS</span>' : '<span class="pill pill-fail">FAIL</span>' },
    ],
  }));
  return htmlTable([{ label: 'Threshold' }, { label: 'Actual', numeric: true }, { label: 'Result' }], rows, 'data narrow');
}
