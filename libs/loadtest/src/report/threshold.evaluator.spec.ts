import { createEmptyReport, createSampleReport } from './testing/sample-report';
import { evaluateThresholds, formatThresholdActual } from './threshold.evaluator';
import { parseThreshold } from './threshold.parser';

const judge = (expression: string, report = createSampleReport()) => evaluateThresholds([parseThreshold(expression)], report)[0];

describe('evaluateThresholds', () => {
  const report = createSampleReport();
  const deliverP99 = report.latency.sendToDeliver.p99;

  it('judges each operator at, below and above the limit', () => {
    expect([judge(`p99<${deliverP99}ms`).passed, judge(`p99<=${deliverP99}ms`).passed, judge(`p99==${deliverP99}ms`).passed]).toEqual([
      false,
      true,
      true,
    ]);
    expect([judge(`p99>${deliverP99}ms`).passed, judge(`p99>=${deliverP99}ms`).passed]).toEqual([false, true]);
    expect([judge(`p99<${deliverP99 + 1}ms`).passed, judge(`p99>${deliverP99 - 1}ms`).passed]).toEqual([true, true]);
  });

  it('reports actual in the unit of the expression', () => {
    expect(judge('p99<50ms')).toEqual({ expression: 'p99<50ms', actual: deliverP99, passed: true });
    expect(judge('p99<0.01s')).toEqual({ expression: 'p99<0.01s', actual: deliverP99 / 1000, passed: false });
    expect(judge('accept.p50<1s').actual).toBe(report.latency.sendToAccept.p50 / 1000);
    expect(judge('ack.max<1s').actual).toBe(report.latency.ack.max / 1000);
  });

  it('takes lost and duplicated shares of expected deliveries, refused and errors shares of sends', () => {
    const lossy = createSampleReport({ lost: 30, duplicated: 12 });
    const { totals } = lossy;
    const refused = Object.values(totals.refusedByStatus).reduce((a, b) => a + b, 0);
    expect(judge('lost==0', lossy)).toEqual({ expression: 'lost==0', actual: 30, passed: false });
    expect(judge('lost<0.1%', lossy).actual).toBeCloseTo((30 / totals.expectedDeliveries) * 100, 5);
    expect(judge('duplicated<=12', lossy).passed).toBe(true);
    expect(judge('duplicated<1%', lossy).actual).toBeCloseTo((12 / totals.expectedDeliveries) * 100, 5);
    expect(judge('refused<1000', lossy).actual).toBe(refused);
    expect(judge('refused<1%', lossy).actual).toBeCloseTo((refused / totals.sent) * 100, 5);
    expect(judge('delivered>=99.9%', lossy).actual).toBeCloseTo((totals.delivered / totals.expectedDeliveries) * 100, 5);
    expect(judge('accepted>=99%', lossy).actual).toBeCloseTo((totals.accepted / totals.sent) * 100, 5);
  });

  it('counts failed --verify decryptions among errors', () => {
    const verified = createSampleReport();
    verified.totals = { ...verified.totals, verified: 100, verifyFailures: 4 };
    const refused = Object.values(verified.totals.refusedByStatus).reduce((a, b) => a + b, 0);
    expect(judge('errors==0', verified).actual).toBe(refused + 4);
  });

  it('takes rate as delivered envelopes per second of load', () => {
    const result = judge('rate>=900');
    expect(result.actual).toBeCloseTo(report.totals.delivered / 120, 5);
    expect(result.passed).toBe(true);
  });

  it('judges one stage with a stage prefix (1-based)', () => {
    const hold = report.stages[1];
    expect(judge('stage2.p99<1s').actual).toBe(hold.latency.sendToDeliver.p99 / 1000);
    expect(judge('stage3.accept.p99<1ms').actual).toBe(report.stages[2].latency.sendToAccept.p99);
    expect(judge('stage2.rate>=1').actual).toBeCloseTo(hold.totals.delivered / hold.durationSeconds, 5);
  });

  it('fails what it cannot measure: a stage the run lacks, a latency with no samples', () => {
    expect(judge('stage4.p99<50ms')).toEqual({ expression: 'stage4.p99<50ms', actual: 0, passed: false });
    expect(judge('p99<50ms', createEmptyReport())).toEqual({ expression: 'p99<50ms', actual: 0, passed: false });
  });

  it('treats shares of nothing as 0 %: an empty run delivered nothing and lost nothing', () => {
    const empty = createEmptyReport();
    expect(judge('delivered>=99.9%', empty)).toMatchObject({ actual: 0, passed: false });
    expect(judge('lost<=0%', empty)).toMatchObject({ actual: 0, passed: true });
    expect(judge('rate>=1', empty)).toMatchObject({ actual: 0, passed: false });
  });

  it('keeps the order of the thresholds given', () => {
    const results = evaluateThresholds(['lost==0', 'p99<50ms', 'rate>=1'].map(parseThreshold), report);
    expect(results.map((r) => r.expression)).toEqual(['lost==0', 'p99<50ms', 'rate>=1']);
  });

  it('writes an actual value in the unit of its expression', () => {
    const written = (expression: string, actual: number) => formatThresholdActual({ expression, actual, passed: true });
    expect(written('p99<50ms', 22.681)).toBe('22.7 ms');
    expect(written('p99<0.05s', 0.022681)).toBe('0.0227 s');
    expect(written('delivered>=99.9%', 99.997)).toBe('99.997 %');
    expect(written('rate>=900', 937.4)).toBe('937/s');
    expect(written('lost==0', 1000)).toBe('1,000');
    expect(written('some future metric', 1.5)).toBe('1.5');
  });
});
