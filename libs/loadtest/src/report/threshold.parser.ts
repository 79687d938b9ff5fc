import type { LatencySet, LatencySummary } from './load-report';

/**
 * `--threshold` expressions: what they may say, parsed once before the run so a typo fails at
 * start-up, not after a ten-minute load. The grammar, in full:
 *
 *   [stageN.] [accept.|deliver.|ack.] p50|p90|p99|p99.9|max|mean  OP  NUMBER ms|s
 *   [stageN.] lost|duplicated|refused|errors                      OP  NUMBER [%]
 *   [stageN.] delivered|accepted                                  OP  NUMBER [%]
 *   [stageN.] rate                                                OP  NUMBER [/s]
 *   OP is one of  <  <=  >  >=  ==
 *
 * A latency without prefix is send→deliver. `stageN` is the N-th `--stage` (1-based).
 * Shares (%) are of expected deliveries for lost, duplicated and delivered, of sends otherwise.
 */

export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==';
export type LatencyStatistic = Exclude<keyof LatencySummary, 'count'>;
export type ThresholdCount = 'lost' | 'duplicated' | 'refused' | 'errors' | 'delivered' | 'accepted';
export type ThresholdMetric =
  { kind: 'latency'; latency: keyof LatencySet; statistic: LatencyStatistic } | { kind: 'count'; count: ThresholdCount } | { kind: 'rate' };
/** The unit the limit is written in, and the unit a result's `actual` is reported in. */
export type ThresholdUnit = 'ms' | 's' | '%' | 'count' | '/s';

export interface Threshold {
  /** As given (trimmed): what the report lists. */
  expression: string;
  /** 1-based position of the stage it judges; absent for the whole run. */
  stage?: number;
  metric: ThresholdMetric;
  operator: ThresholdOperator;
  limit: number;
  unit: ThresholdUnit;
}

export const THRESHOLD_GRAMMAR =
  '[stageN.][accept.|deliver.|ack.]p50|p90|p99|p99.9|max|mean OP N ms|s; ' +
  '[stageN.]lost|duplicated|refused|errors OP N[%]; [stageN.]delivered|accepted OP N[%]; [stageN.]rate OP N[/s]; ' +
  'OP is one of < <= > >= == (e.g. p99<50ms, lost==0, delivered>=99.9%, stage2.accept.p99<20ms)';

export class ThresholdSyntaxError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`bad threshold '${expression}': ${reason}. Accepted: ${THRESHOLD_GRAMMAR}`);
    this.name = 'ThresholdSyntaxError';
  }
}

const LATENCY_PREFIXES: Record<string, keyof LatencySet> = {
  '': 'sendToDeliver',
  'deliver.': 'sendToDeliver',
  'accept.': 'sendToAccept',
  'ack.': 'ack',
};
const STATISTICS: Record<string, LatencyStatistic> = {
  p50: 'p50',
  p90: 'p90',
  p99: 'p99',
  'p99.9': 'p999',
  p999: 'p999',
  max: 'max',
  mean: 'mean',
};
const COUNTS: ThresholdCount[] = ['lost', 'duplicated', 'refused', 'errors', 'delivered', 'accepted'];

const EXPRESSION = /^(?<metric>[a-z0-9.]+?)\s*(?<operator><=|>=|==|<|>)\s*(?<limit>\d+(?:\.\d+)?)\s*(?<unit>ms|s|%|\/s)?$/i;
const STAGE_PREFIX = /^stage(?<stage>\d+)\.(?<rest>.+)$/;

export function parseThreshold(expression: string): Threshold {
  const trimmed = expression.trim();
  const match = EXPRESSION.exec(trimmed);
  if (!match?.groups) throw new ThresholdSyntaxError(expression, 'expected METRIC OP NUMBER[UNIT]');
  const { operator, limit, unit } = match.groups;
  let metricName = match.groups.metric.toLowerCase();
  let stage: number | undefined;
  const stageMatch = STAGE_PREFIX.exec(metricName);
  if (stageMatch?.groups) {
    stage = Number(stageMatch.groups.stage);
    if (stage < 1) throw new ThresholdSyntaxError(expression, 'stages count from 1 (stage1 is the first --stage)');
    metricName = stageMatch.groups.rest;
  }
  const metric = parseMetric(expression, metricName);
  return {
    expression: trimmed,
    ...(stage !== undefined ? { stage } : {}),
    metric,
    operator: operator as ThresholdOperator,
    limit: Number(limit),
    unit: parseUnit(expression, metric, unit?.toLowerCase()),
  };
}

function parseMetric(expression: string, name: string): ThresholdMetric {
  if (name === 'rate') return { kind: 'rate' };
  if ((COUNTS as string[]).includes(name)) return { kind: 'count', count: name as ThresholdCount };
  for (const [prefix, latency] of Object.entries(LATENCY_PREFIXES)) {
    if (prefix !== '' && !name.startsWith(prefix)) continue;
    const statistic = STATISTICS[name.slice(prefix.length)];
    if (statistic) return { kind: 'latency', latency, statistic };
  }
  throw new ThresholdSyntaxError(expression, `unknown metric '${name}'`);
}

function parseUnit(expression: string, metric: ThresholdMetric, unit: string | undefined): ThresholdUnit {
  switch (metric.kind) {
    case 'latency':
      if (unit === 'ms' || unit === 's') return unit;
      throw new ThresholdSyntaxError(expression, 'a latency needs its unit, ms or s');
    case 'count':
      if (unit === undefined) return 'count';
      if (unit === '%') return '%';
      throw new ThresholdSyntaxError(expression, `${metric.count} is a count or a share (%), not '${unit}'`);
    case 'rate':
      if (unit === undefined || unit === '/s') return '/s';
      throw new ThresholdSyntaxError(expression, `rate is delivered envelopes per second, not '${unit}'`);
  }
}
