import type { HistogramBuckets } from '../load-report';
import { formatCount, formatMs } from '../report-format';
import { escapeHtml } from './html-escape';
import { CHART, renderGrid, renderMarker } from './svg-line-chart';
import { linearScale } from './svg-scale';

/** A percentile to mark on the histogram, e.g. { label: 'p99', ms: 22.7 }. */
export interface PercentileMark {
  label: string;
  ms: number;
}

/**
 * The send→deliver histogram as bars, one per bucket in the engine's (usually exponential)
 * bucket order, so the x axis reads like a log axis. Empty buckets at either end are left out.
 * Hovering a bar shows its range, count and the cumulative share.
 */
export function renderHistogramChart(histogram: HistogramBuckets, marks: PercentileMark[], title: string): string {
  const first = histogram.counts.findIndex((c) => c > 0);
  const last = histogram.counts.length - 1 - [...histogram.counts].reverse().findIndex((c) => c > 0);
  const [from, to] = [Math.max(first - 1, 0), Math.min(last + 1, histogram.counts.length - 1)];
  const counts = histogram.counts.slice(from, to + 1);
  const bounds = histogram.upperBoundsMs.slice(from, to + 1);
  const total = histogram.counts.reduce((sum, c) => sum + c, 0);
  const before = histogram.counts.slice(0, from).reduce((sum, c) => sum + c, 0);
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const barWidth = plotWidth / counts.length;
  const y = linearScale(
    counts.reduce((max, c) => Math.max(max, c), 0),
    [CHART.height - CHART.bottom, CHART.top],
  );
  const labelEvery = Math.ceil(counts.length / 12);
  const xAxis = {
    ticks: bounds.map((_, i) => i).filter((i) => i % labelEvery === 0),
    toPixel: (i: number) => CHART.left + (i + 1) * barWidth,
  };
  let cumulative = before;
  const bars = counts.map((count, i) => {
    cumulative += count;
    const [top, bottom] = [y.toPixel(count), y.toPixel(0)];
    const lower = i + from === 0 ? 0 : histogram.upperBoundsMs[i + from - 1];
    const tip = `${formatMs(lower)} – ${formatMs(bounds[i])}: ${formatCount(count)} deliveries (${((cumulative / total) * 100).toFixed(2)} % at most ${formatMs(bounds[i])})`;
    return (
      `<rect class="bar" x="${(CHART.left + i * barWidth + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(barWidth - 2, 1).toFixed(1)}" height="${(bottom - top).toFixed(1)}">` +
      `<title>${escapeHtml(tip)}</title></rect>`
    );
  });
  const markers = marks.map(({ label, ms }, row) => {
    const bucket = bounds.findIndex((bound) => bound >= ms);
    const index = bucket === -1 ? counts.length - 1 : bucket;
    return renderMarker(CHART.left + (index + 0.5) * barWidth, `${label} ${formatMs(ms)}`, row);
  });
  return [
    `<svg class="chart" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-label="${escapeHtml(title)}">`,
    renderGrid(
      xAxis,
      y,
      (v) => formatCount(v),
      (i) => formatMs(bounds[i]),
    ),
    ...bars,
    ...markers,
    '</svg>',
  ].join('');
}
