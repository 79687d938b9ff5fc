import type { LoadReport, TimelineSecond } from '../load-report';
import { formatCores, formatCount, formatMiB, formatMs } from '../report-format';
import { serviceSeriesName } from '../report-figures';
import { escapeHtml } from './html-escape';
import { renderHistogramChart } from './svg-histogram-chart';
import { renderLineChart, type LineSeries, type TimeMarker } from './svg-line-chart';

/** The report's charts as HTML figures; a chart with nothing to draw says why instead of drawing an empty frame. */

const SERVICE_COLORS = { directory: '#7b4fc9', relay: '#2f6fde', gateway: '#d9822b' } as const;
const SERVER_DASHES = ['', '6 3', '2 3', '10 3 2 3'];
const NO_TIMELINE = 'the run recorded no second of load.';
type LatencyField = 'acceptP50' | 'acceptP99' | 'deliverP50' | 'deliverP99';
const LATENCY_SERIES: [string, string, LatencyField, string?][] = [
  ['send→accept p50', '#2f6fde', 'acceptP50', '4 3'],
  ['send→accept p99', '#2f6fde', 'acceptP99'],
  ['send→deliver p50', '#15945a', 'deliverP50', '4 3'],
  ['send→deliver p99', '#15945a', 'deliverP99'],
];

export function renderThroughputChart(report: LoadReport): string {
  const series = [
    timelineSeries(report.timeline, 'offered', '#8a96a3', (s) => s.offeredPerSecond, '4 3'),
    timelineSeries(report.timeline, 'accepted', '#2f6fde', (s) => s.acceptedPerSecond),
    timelineSeries(report.timeline, 'delivered', '#15945a', (s) => s.deliveredPerSecond),
  ];
  const chart =
    report.timeline.length > 0
      ? renderLineChart({
          title: 'Throughput per second',
          series,
          yScale: 'linear',
          formatY: (v) => formatCount(v),
          markers: stageMarkers(report),
          timeRange: timeRange(report),
        })
      : undefined;
  return figure(
    'Throughput per second',
    'Sends offered and accepted, envelopes delivered, each second of the load.',
    series,
    chart,
    NO_TIMELINE,
  );
}

/** Latency percentiles per second, with a log/linear switch that needs no script (a checkbox and CSS). */
export function renderLatencyChart(report: LoadReport): string {
  const series = LATENCY_SERIES.map(([name, color, field, dash]) =>
    // A second with no sample has percentile 0: a gap in the line, not a dive to zero.
    timelineSeries(report.timeline, name, color, (s) => (s[field] > 0 ? s[field] : null), dash),
  );
  const anyValue = report.timeline.some((s) => s.acceptP99 > 0 || s.deliverP99 > 0);
  const spec = {
    title: 'Latency percentiles per second',
    series,
    formatY: formatMs,
    markers: stageMarkers(report),
    timeRange: timeRange(report),
  };
  const chart = anyValue
    ? `<input type="checkbox" class="scale-toggle" id="latency-log"><label class="scale-label" for="latency-log">log scale</label>` +
      `<div class="scale-linear">${renderLineChart({ ...spec, yScale: 'linear' })}</div>` +
      `<div class="scale-log">${renderLineChart({ ...spec, yScale: 'log' })}</div>`
    : undefined;
  return figure('Latency percentiles per second', 'From the intended send time; p50 dashed, p99 solid.', series, chart, NO_TIMELINE);
}

export function renderHistogram(report: LoadReport): string {
  const { sendToDeliver } = report.latency;
  const hasData = report.deliverHistogram.counts.some((c) => c > 0);
  const marks = [
    { label: 'p50', ms: sendToDeliver.p50 },
    { label: 'p99', ms: sendToDeliver.p99 },
    { label: 'p99.9', ms: sendToDeliver.p999 },
  ];
  const chart = hasData ? renderHistogramChart(report.deliverHistogram, marks, 'Send→deliver latency histogram') : undefined;
  return figure(
    'Send→deliver latency histogram',
    'Deliveries per latency bucket over the whole run; hover a bar for its share.',
    [],
    chart,
    'no envelope was delivered.',
  );
}

export function renderServiceCharts(report: LoadReport): string {
  const names = [...new Set(report.services.map(serviceSeriesName))];
  const servers = [...new Set(report.services.map((s) => s.server))];
  const seriesOf = (read: (s: LoadReport['services'][number]) => number): LineSeries[] =>
    names.map((name) => {
      const samples = report.services.filter((s) => serviceSeriesName(s) === name);
      const { service, server } = samples[0];
      return {
        name,
        color: SERVICE_COLORS[service] ?? '#555',
        dash: SERVER_DASHES[servers.indexOf(server) % SERVER_DASHES.length],
        points: samples.map((s) => [s.t, read(s)]),
      };
    });
  const chart = (title: string, note: string, series: LineSeries[], formatY: (v: number) => string) =>
    figure(
      title,
      note,
      series,
      report.services.length > 0
        ? renderLineChart({ title, series, yScale: 'linear', formatY, markers: stageMarkers(report), timeRange: timeRange(report) })
        : undefined,
      'no service samples were read from the targets’ /metrics.',
    );
  return (
    chart(
      'Service CPU',
      'Per service of each target, from its /metrics; 1.0 is one core busy.',
      seriesOf((s) => s.cpuCores),
      formatCores,
    ) +
    chart(
      'Service memory (RSS)',
      'Resident set size per service of each target.',
      seriesOf((s) => s.rssMiB),
      formatMiB,
    )
  );
}

function timelineSeries(
  timeline: TimelineSecond[],
  name: string,
  color: string,
  read: (s: TimelineSecond) => number | null,
  dash?: string,
): LineSeries {
  return { name, color, dash, points: timeline.map((s) => [s.t, read(s)]) };
}

function stageMarkers(report: LoadReport): TimeMarker[] {
  return report.stages.map((stage, i) => ({ t: stage.startSeconds, label: `${i + 1} · ${stage.label}` }));
}

function timeRange(report: LoadReport): [number, number] {
  const last = report.stages[report.stages.length - 1];
  return [0, last ? last.startSeconds + last.durationSeconds : 0];
}

/** A chart with its title, note and legend; `chart` undefined shows `noData`, the reason there is nothing to draw. */
function figure(title: string, note: string, series: LineSeries[], chart: string | undefined, noData: string): string {
  const legend = series
    .map(
      (s) =>
        `<span class="legend-item"><svg width="26" height="10" aria-hidden="true"><line x1="0" x2="26" y1="5" y2="5" stroke="${s.color}" stroke-width="2.5"` +
        `${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/></svg>${escapeHtml(s.name)}</span>`,
    )
    .join('');
  const body = chart ?? `<p class="no-data">Nothing to draw: ${escapeHtml(noData)}</p>`;
  return `<figure class="chart-box"><figcaption><h3>${escapeHtml(title)}</h3><p class="note">${escapeHtml(note)}</p></figcaption>${chart && legend ? `<div class="legend">${legend}</div>` : ''}${body}</figure>`;
}
