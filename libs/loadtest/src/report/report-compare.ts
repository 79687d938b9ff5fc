import type { DeliveryTotals, LatencySet, LoadReport, StageReport } from './load-report';
import { formatCommandLine, formatCores, formatCount, formatMiB, formatMs, formatPercent, formatRate, percentOf } from './report-format';
import {
  acceptedPerSecond,
  deliveredPerSecond,
  loadSeconds,
  refusedTotal,
  runPassed,
  serviceStats,
  stageDeliveredPerSecond,
} from './report-figures';
import { renderTextTable } from './text-table';

/** Which way a figure should move: latency, loss and errors down; delivery up; load itself is neither. */
type Better = 'lower' | 'higher' | 'neither';
type Unit = 'count' | 'ms' | 'rate' | 'percent' | 'cores' | 'mib' | 'seconds';

interface Figure {
  name: string;
  a: number | undefined;
  b: number | undefined;
  better: Better;
  unit: Unit;
  /** A count of failures: any change is news, however small next to the total. */
  exact?: boolean;
}

/** A relative change under this share of A is marked '≈' (run-to-run noise), not better or worse. */
const NOISE_SHARE = 0.01;

const FORMAT: Record<Unit, (value: number) => string> = {
  count: (v) => formatCount(v),
  ms: formatMs,
  rate: formatRate,
  percent: formatPercent,
  cores: formatCores,
  mib: formatMiB,
  seconds: (v) => `${formatCount(v, 1)} s`,
};
const LATENCIES: [keyof LatencySet, string][] = [
  ['sendToAccept', 'send→accept'],
  ['sendToDeliver', 'send→deliver'],
  ['ack', 'ack'],
];
const STATISTICS = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['max', 'max'],
  ['mean', 'mean'],
] as const;

/**
 * Run A against run B, figure by figure: totals, rates, every latency percentile overall and per
 * stage (stages paired by position), each service's CPU and RSS. Every row gives both values, the
 * change B − A, the relative change, and whether B is better or worse than A: changes under 1 % of A
 * are marked ≈, except counts of failures (lost, duplicated, refused, ...), where any change counts.
 */
export function compareReports(a: LoadReport, b: LoadReport): string {
  const sections: [string, Figure[]][] = [
    ['Totals', totalFigures(a.totals, b.totals)],
    ['Connect and rates', rateFigures(a, b)],
    ['Latency, whole run', latencyFigures(a.latency, b.latency)],
  ];
  for (let i = 0; i < Math.max(a.stages.length, b.stages.length); i++) {
    const [sa, sb] = [a.stages[i], b.stages[i]];
    const labels = sa?.label === sb?.label ? sa.label : `${sa?.label ?? 'none'} vs ${sb?.label ?? 'none'}`;
    sections.push([`Stage ${i + 1} (${labels})`, stageFigures(sa, sb)]);
  }
  sections.push(['Services', serviceFigures(a, b)]);
  const lines = [
    `A: ${a.environment.startedAt}  ${formatCommandLine(a.command)}`,
    `B: ${b.environment.startedAt}  ${formatCommandLine(b.command)}`,
    `A ${runPassed(a) ? 'passed' : 'FAILED'}, B ${runPassed(b) ? 'passed' : 'FAILED'}`,
  ];
  for (const [title, figures] of sections) {
    if (figures.length === 0) continue;
    lines.push('', title, ...renderTextTable(COLUMNS, figures.map(figureRow)));
  }
  return lines.join('\n') + '\n';
}

const COLUMNS = [
  { header: 'figure', align: 'left' as const },
  { header: 'A' },
  { header: 'B' },
  { header: 'change' },
  { header: 'relative' },
  { header: 'B is', align: 'left' as const },
];

function figureRow({ name, a, b, better, unit, exact }: Figure): string[] {
  const format = FORMAT[unit];
  if (a === undefined || b === undefined) return [name, a === undefined ? '-' : format(a), b === undefined ? '-' : format(b), '', '', ''];
  const change = b - a;
  const sign = change > 0 ? '+' : change < 0 ? '-' : '';
  const share = Math.abs((change / a) * 100);
  const relative =
    a === 0 ? (b === 0 ? '0.0 %' : 'new') : `${sign}${share >= 0.1 || share === 0 ? share.toFixed(1) : share.toPrecision(1)} %`;
  return [name, format(a), format(b), `${sign}${format(Math.abs(change))}`, relative, verdict(a, change, better, exact ?? false)];
}

function verdict(a: number, change: number, better: Better, exact: boolean): string {
  if (change === 0) return 'same';
  if (better === 'neither') return '';
  if (!exact && a !== 0 && Math.abs(change / a) < NOISE_SHARE) return '≈';
  return change < 0 === (better === 'lower') ? 'better' : 'WORSE';
}

function totalFigures(a: DeliveryTotals | undefined, b: DeliveryTotals | undefined): Figure[] {
  const figure = (name: string, better: Better, read: (t: DeliveryTotals) => number, unit: Unit = 'count'): Figure => ({
    name,
    a: a && read(a),
    b: b && read(b),
    better,
    unit,
    exact: better === 'lower',
  });
  return [
    figure('sent', 'neither', (t) => t.sent),
    figure('accepted', 'neither', (t) => t.accepted),
    figure('accepted / sent', 'higher', (t) => percentOf(t.accepted, t.sent), 'percent'),
    figure('delivered', 'higher', (t) => t.delivered),
    figure('delivered / expected', 'higher', (t) => percentOf(t.delivered, t.expectedDeliveries), 'percent'),
    figure('lost', 'lower', (t) => t.lost),
    figure('duplicated', 'lower', (t) => t.duplicated),
    figure('refused', 'lower', refusedTotal),
    figure('delayed by in-flight cap', 'lower', (t) => t.delayedByInFlightCap),
    figure('verify failures', 'lower', (t) => t.verifyFailures ?? 0),
  ];
}

function rateFigures(a: LoadReport, b: LoadReport): Figure[] {
  return [
    { name: 'load duration', a: loadSeconds(a), b: loadSeconds(b), better: 'neither', unit: 'seconds' },
    { name: 'accepted per second', a: acceptedPerSecond(a), b: acceptedPerSecond(b), better: 'higher', unit: 'rate' },
    { name: 'delivered per second', a: deliveredPerSecond(a), b: deliveredPerSecond(b), better: 'higher', unit: 'rate' },
    { name: 'connect rate', a: a.connect.ratePerSecond, b: b.connect.ratePerSecond, better: 'higher', unit: 'rate' },
    { name: 'connect failures', a: a.connect.failed, b: b.connect.failed, better: 'lower', unit: 'count', exact: true },
  ];
}

function latencyFigures(a: LatencySet | undefined, b: LatencySet | undefined): Figure[] {
  return LATENCIES.flatMap(([key, label]) =>
    STATISTICS.map(([statistic, name]) => ({
      name: `${label} ${name}`,
      a: a && a[key].count > 0 ? a[key][statistic] : undefined,
      b: b && b[key].count > 0 ? b[key][statistic] : undefined,
      better: 'lower' as const,
      unit: 'ms' as const,
    })),
  );
}

function stageFigures(a: StageReport | undefined, b: StageReport | undefined): Figure[] {
  const totals = totalFigures(a?.totals, b?.totals).filter((f) => ['sent', 'delivered', 'lost', 'duplicated', 'refused'].includes(f.name));
  const rate: Figure = {
    name: 'delivered per second',
    a: a && stageDeliveredPerSecond(a),
    b: b && stageDeliveredPerSecond(b),
    better: 'higher',
    unit: 'rate',
  };
  return [...totals, rate, ...latencyFigures(a?.latency, b?.latency)];
}

function serviceFigures(a: LoadReport, b: LoadReport): Figure[] {
  const [statsA, statsB] = [serviceStats(a.services), serviceStats(b.services)];
  const names = [...new Set([...statsA, ...statsB].map((s) => s.name))];
  return names.flatMap((name) => {
    const [sa, sb] = [statsA.find((s) => s.name === name), statsB.find((s) => s.name === name)];
    return [
      { name: `${name} CPU mean`, a: sa?.cpuMean, b: sb?.cpuMean, better: 'lower' as const, unit: 'cores' as const },
      { name: `${name} CPU max`, a: sa?.cpuMax, b: sb?.cpuMax, better: 'lower' as const, unit: 'cores' as const },
      { name: `${name} RSS mean`, a: sa?.rssMean, b: sb?.rssMean, better: 'lower' as const, unit: 'mib' as const },
      { name: `${name} RSS max`, a: sa?.rssMax, b: sb?.rssMax, better: 'lower' as const, unit: 'mib' as const },
    ];
  });
}
