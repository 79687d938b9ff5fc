import type { DeliveryTotals, LatencySet, LoadReport, ThresholdResult } from './load-report';
import { loadSeconds, refusedTotal, sendErrorsTotal } from './report-figures';
import { formatCount, formatMs, formatPercent, formatRate, percentOf } from './report-format';
import { parseThreshold, type Threshold, type ThresholdCount, type ThresholdOperator, type ThresholdUnit } from './threshold.parser';

/** What one threshold judges: the whole run or one stage. */
interface ThresholdScope {
  totals: DeliveryTotals;
  latency: LatencySet;
  seconds: number;
}

/**
 * Judges each threshold against the report, in the order given. `actual` is in the threshold's
 * own unit (seconds for `p99<0.05s`, percent for `delivered>=99.9%`). A threshold cannot pass
 * on nothing: a latency with no samples, or a stage the run does not have, fails with actual 0.
 */
export function evaluateThresholds(thresholds: Threshold[], report: LoadReport): ThresholdResult[] {
  return thresholds.map((threshold) => evaluateThreshold(threshold, report));
}

function evaluateThreshold(threshold: Threshold, report: LoadReport): ThresholdResult {
  const scope = scopeOf(threshold, report);
  if (!scope) return { expression: threshold.expression, actual: 0, passed: false };
  const measured = measure(threshold, scope);
  if (measured === undefined) return { expression: threshold.expression, actual: 0, passed: false };
  return {
    expression: threshold.expression,
    actual: roundForDisplay(measured),
    passed: compare(measured, threshold.operator, threshold.limit),
  };
}

function scopeOf(threshold: Threshold, report: LoadReport): ThresholdScope | undefined {
  if (threshold.stage === undefined) return { totals: report.totals, latency: report.latency, seconds: loadSeconds(report) };
  const stage = report.stages[threshold.stage - 1];
  return stage && { totals: stage.totals, latency: stage.latency, seconds: stage.durationSeconds };
}

/** The measured value in the threshold's unit; undefined when there is nothing to measure. */
function measure(threshold: Threshold, scope: ThresholdScope): number | undefined {
  const { metric, unit } = threshold;
  switch (metric.kind) {
    case 'latency': {
      const summary = scope.latency[metric.latency];
      if (summary.count === 0) return undefined;
      return unit === 's' ? summary[metric.statistic] / 1000 : summary[metric.statistic];
    }
    case 'count': {
      const [count, of] = countAndBase(metric.count, scope.totals);
      return unit === '%' ? percentOf(count, of) : count;
    }
    case 'rate':
      return scope.seconds > 0 ? scope.totals.delivered / scope.seconds : 0;
  }
}

/** A count and what its share is taken of: deliveries for what happens to envelopes, sends for what happens to sends. */
function countAndBase(count: ThresholdCount, totals: DeliveryTotals): [number, number] {
  switch (count) {
    case 'lost':
      return [totals.lost, totals.expectedDeliveries];
    case 'duplicated':
      return [totals.duplicated, totals.expectedDeliveries];
    case 'delivered':
      return [totals.delivered, totals.expectedDeliveries];
    case 'accepted':
      return [totals.accepted, totals.sent];
    case 'refused':
      return [refusedTotal(totals), totals.sent];
    case 'errors':
      return [sendErrorsTotal(totals), totals.sent];
  }
}

function compare(actual: number, operator: ThresholdOperator, limit: number): boolean {
  switch (operator) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '==':
      return actual === limit;
  }
}

/** 99.90000000001 → 99.9: the judgement uses the exact value, the report a readable one. */
function roundForDisplay(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** A result's actual value written as the report writes that figure elsewhere: "22.7 ms", "0.023 s", "99.95 %", "3", "937/s". */
export function formatThresholdActual(result: ThresholdResult): string {
  let unit: ThresholdUnit | undefined;
  try {
    unit = parseThreshold(result.expression).unit;
  } catch {
    unit = undefined; // written by a newer or older tool: show the bare figure
  }
  switch (unit) {
    case 'ms':
      return formatMs(result.actual);
    case 's':
      return `${Number(result.actual.toPrecision(3))} s`;
    case '%':
      return formatPercent(result.actual);
    case '/s':
      return formatRate(result.actual);
    default:
      return formatCount(result.actual, 3).replace(/\.?0+$/, '');
  }
}
