/**
 * TEMPORARY stand-ins for the report renderers another helper builds in libs/loadtest/src/report/
 * (index.ts exports `renderHtmlReport`, `renderSummaryTable`, `parseThreshold`,
 * `evaluateThresholds`, `compareReports`). Same signatures; minimal behaviour, so the engine and
 * its CLI can be built and tested. To be replaced by the real ones when merged (the CLI imports
 * them through cli/report-renderers.ts only).
 */
import type { LoadReport, ThresholdResult } from './load-report';

export type Threshold = { expression: string; metric: string; op: string; value: number; unit: string };

export class ThresholdSyntaxError extends Error {
  constructor(expression: string) {
    super(`--threshold "${expression}": expected METRIC OP VALUE, e.g. p99<50ms, lost==0, delivered>=99.9%`);
    this.name = 'ThresholdSyntaxError';
  }
}

export function parseThreshold(expression: string): Threshold {
  const match = /^\s*([a-z0-9]+)\s*(<=|>=|==|<|>)\s*([0-9.]+)\s*(ms|s|%)?\s*$/i.exec(expression);
  if (!match || Number.isNaN(Number(match[3]))) throw new ThresholdSyntaxError(expression);
  return { expression, metric: match[1].toLowerCase(), op: match[2], value: Number(match[3]), unit: match[4] ?? '' };
}

function actualOf(t: Threshold, report: LoadReport): number {
  const d = report.latency.sendToDeliver as unknown as Record<string, number>;
  if (t.metric in d) return t.unit === 's' ? d[t.metric] / 1000 : d[t.metric];
  const totals = report.totals as unknown as Record<string, number>;
  if (t.unit === '%' && t.metric === 'delivered')
    return report.totals.expectedDeliveries === 0 ? 100 : (100 * report.totals.delivered) / report.totals.expectedDeliveries;
  return totals[t.metric] ?? Number.NaN;
}

export function evaluateThresholds(thresholds: Threshold[], report: LoadReport): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = actualOf(t, report);
    const passed =
      t.op === '<'
        ? actual < t.value
        : t.op === '<='
          ? actual <= t.value
          : t.op === '>'
            ? actual > t.value
            : t.op === '>='
              ? actual >= t.value
              : actual === t.value;
    return { expression: t.expression, actual, passed };
  });
}

export function renderSummaryTable(report: LoadReport): string {
  const d = report.latency.sendToDeliver;
  const t = report.totals;
  return [
    `sealpost loadtest: ${report.endedBy}; sent ${t.sent}, accepted ${t.accepted}, delivered ${t.delivered} of ${t.expectedDeliveries}, lost ${t.lost}, duplicated ${t.duplicated}`,
    `send → deliver p50 ${d.p50} p99 ${d.p99} p99.9 ${d.p999} max ${d.max} ms`,
    ...report.thresholds.map((r) => `threshold ${r.expression}: ${r.passed ? 'passed' : 'FAILED'} (${r.actual})`),
    '',
  ].join('\n');
}

export function renderHtmlReport(report: LoadReport): string {
  const data = JSON.stringify(report).replace(/</g, '\\u003c');
  return `<!doctype html><meta charset="utf-8"><title>sealpost loadtest</title><pre>${renderSummaryTable(report)}</pre><script type="application/json" id="report">${data}</script>\n`;
}

export function compareReports(a: LoadReport, b: LoadReport): string {
  const line = (name: string, x: number, y: number) => `${name.padEnd(24)} ${String(x).padStart(12)} ${String(y).padStart(12)}`;
  return [
    line('sent', a.totals.sent, b.totals.sent),
    line('delivered', a.totals.delivered, b.totals.delivered),
    line('lost', a.totals.lost, b.totals.lost),
    line('deliver p99 ms', a.latency.sendToDeliver.p99, b.latency.sendToDeliver.p99),
    '',
  ].join('\n');
}
