import { formatDuration } from '../report-format';
import { escapeHtml } from './html-escape';
import { linearScale, logScale, timeScale, type Scale, type ScaleKind } from './svg-scale';

/**
 * A line chart over time as inline SVG, drawn here rather than in the browser, so the file needs
 * no script to show its figures. Hovering a second shows every series' value there (SVG <title>).
 */
export interface LineSeries {
  name: string;
  color: string;
  dash?: string;
  /** [seconds, value]; a null value is a gap (nothing measured that second). */
  points: [number, number | null][];
}

export interface TimeMarker {
  t: number;
  label: string;
}

export interface LineChartSpec {
  title: string;
  series: LineSeries[];
  yScale: ScaleKind;
  formatY: (value: number) => string;
  /** Vertical lines with a label, e.g. the stage boundaries. */
  markers: TimeMarker[];
  /** The time axis spans at least this range (the stages), even where no series has points. */
  timeRange: [number, number];
}

export const CHART = { width: 960, height: 280, left: 72, right: 28, top: 26, bottom: 34 };
const PLOT = {
  x: [CHART.left, CHART.width - CHART.right] as [number, number],
  y: [CHART.height - CHART.bottom, CHART.top] as [number, number],
};

export function renderLineChart(spec: LineChartSpec): string {
  const points = spec.series.flatMap((s) => s.points);
  const times = [...new Set(points.map(([t]) => t))].sort((a, b) => a - b);
  const values = points.map(([, v]) => v).filter((v): v is number => v !== null && (spec.yScale === 'linear' || v > 0));
  const x = timeScale(Math.min(spec.timeRange[0], times[0] ?? 0), Math.max(spec.timeRange[1], times[times.length - 1] ?? 0), PLOT.x);
  const maxValue = values.reduce((max, v) => Math.max(max, v), 0);
  const y =
    spec.yScale === 'log'
      ? logScale(
          values.reduce((min, v) => Math.min(min, v), maxValue || 1),
          maxValue,
          PLOT.y,
        )
      : linearScale(maxValue, PLOT.y);
  return [
    `<svg class="chart" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-label="${escapeHtml(spec.title)}">`,
    renderGrid(x, y, spec.formatY, formatDuration),
    ...spec.markers.map((marker) => renderMarker(x.toPixel(marker.t), marker.label)),
    // Drawn last to first, so the legend's first series lies on top.
    ...[...spec.series].reverse().map((series) => renderSeries(series, x, y, spec.yScale)),
    renderHoverColumns(times, spec, x),
    '</svg>',
  ].join('');
}

/** Horizontal grid lines with y labels, x ticks with time labels, and the plot's frame. */
export function renderGrid(x: Scale, y: Scale, formatY: (v: number) => string, formatX: (v: number) => string): string {
  const parts: string[] = [];
  for (const tick of y.ticks) {
    const py = y.toPixel(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${PLOT.x[0]}" x2="${PLOT.x[1]}" y1="${py}" y2="${py}"/>`);
    parts.push(
      `<text class="tick" x="${PLOT.x[0] - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeHtml(trimZeros(formatY(tick)))}</text>`,
    );
  }
  for (const tick of x.ticks) {
    const px = x.toPixel(tick).toFixed(1);
    parts.push(`<line class="axis" x1="${px}" x2="${px}" y1="${PLOT.y[0]}" y2="${PLOT.y[0] + 4}"/>`);
    parts.push(`<text class="tick" x="${px}" y="${PLOT.y[0] + 18}" text-anchor="middle">${escapeHtml(trimZeros(formatX(tick)))}</text>`);
  }
  parts.push(`<line class="axis" x1="${PLOT.x[0]}" x2="${PLOT.x[1]}" y1="${PLOT.y[0]}" y2="${PLOT.y[0]}"/>`);
  return parts.join('');
}

/** A dashed vertical line at `px` with its label at the top; `row` moves the label down to keep close labels apart. */
export function renderMarker(px: number, label: string, row = 0): string {
  return (
    `<line class="marker" x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${PLOT.y[1] - 8}" y2="${PLOT.y[0]}"/>` +
    `<text class="marker-label" x="${(px + 4).toFixed(1)}" y="${PLOT.y[1] - 12 + row * 14}">${escapeHtml(label)}</text>`
  );
}

function renderSeries(series: LineSeries, x: Scale, y: Scale, kind: ScaleKind): string {
  const runs: string[][] = [[]];
  for (const [t, v] of series.points) {
    if (v === null || (kind === 'log' && v <= 0)) {
      if (runs[runs.length - 1].length > 0) runs.push([]);
      continue;
    }
    runs[runs.length - 1].push(`${x.toPixel(t).toFixed(1)},${y.toPixel(v).toFixed(1)}`);
  }
  const dash = series.dash ? ` stroke-dasharray="${series.dash}"` : '';
  return runs
    .filter((run) => run.length > 0)
    .map((run) =>
      run.length === 1
        ? `<circle cx="${run[0].split(',')[0]}" cy="${run[0].split(',')[1]}" r="2" fill="${series.color}"/>`
        : `<polyline class="series" points="${run.join(' ')}" stroke="${series.color}"${dash}/>`,
    )
    .join('');
}

/** At most this many hover columns per chart: a long run groups its seconds, so the file stays small. */
const MAX_HOVER_COLUMNS = 480;

/**
 * Invisible columns over the plot; hovering one highlights it and shows its values as a tooltip:
 * one column per second, or per group of seconds on a long run (then each series' lowest–highest).
 */
function renderHoverColumns(times: number[], spec: LineChartSpec, x: Scale): string {
  const byTime = spec.series.map((s) => new Map(s.points));
  const size = Math.ceil(times.length / MAX_HOVER_COLUMNS);
  const groups = Array.from({ length: Math.ceil(times.length / size) }, (_, i) => times.slice(i * size, (i + 1) * size));
  return groups
    .map((group, i) => {
      const [first, last] = [group[0], group[group.length - 1]];
      const left = i === 0 ? PLOT.x[0] : (x.toPixel(groups[i - 1][groups[i - 1].length - 1]) + x.toPixel(first)) / 2;
      const right = i === groups.length - 1 ? PLOT.x[1] : (x.toPixel(last) + x.toPixel(groups[i + 1][0])) / 2;
      const lines = spec.series.map((s, j) => {
        const values = group.map((t) => byTime[j].get(t)).filter((v): v is number => typeof v === 'number');
        if (values.length === 0) return group.some((t) => byTime[j].has(t)) ? `\n${s.name}: no data` : '';
        const [low, high] = [Math.min(...values), Math.max(...values)];
        return `\n${s.name}: ${low === high ? spec.formatY(low) : `${spec.formatY(low)} – ${spec.formatY(high)}`}`;
      });
      const when = first === last ? formatDuration(first) : `${formatDuration(first)} – ${formatDuration(last)}`;
      const width = Math.max(right - left, 0.5).toFixed(1);
      return `<rect class="hover" x="${left.toFixed(1)}" y="${PLOT.y[1]}" width="${width}" height="${PLOT.y[0] - PLOT.y[1]}"><title>${escapeHtml(when + lines.join(''))}</title></rect>`;
    })
    .join('');
}

/** Axis labels read best short: "10.0 ms" → "10 ms", "0.80 cores" → "0.8 cores". */
function trimZeros(label: string): string {
  return label.replace(/(\.\d*?)0+(?=\s|$)/, '$1').replace(/\.(?=\s|$)/, '');
}
