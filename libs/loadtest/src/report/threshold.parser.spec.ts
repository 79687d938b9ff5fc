import { parseThreshold, ThresholdSyntaxError } from './threshold.parser';

describe('parseThreshold', () => {
  it.each([
    ['p99<50ms', '<'],
    ['p99<=50ms', '<='],
    ['p99>50ms', '>'],
    ['p99>=50ms', '>='],
    ['p99==50ms', '=='],
  ])('reads the operator of %s', (expression, operator) => {
    expect(parseThreshold(expression).operator).toBe(operator);
  });

  it('reads a send→deliver latency by default, in ms or s', () => {
    expect(parseThreshold('p99<50ms')).toEqual({
      expression: 'p99<50ms',
      metric: { kind: 'latency', latency: 'sendToDeliver', statistic: 'p99' },
      operator: '<',
      limit: 50,
      unit: 'ms',
    });
    expect(parseThreshold('max < 1.5 s')).toMatchObject({ metric: { statistic: 'max' }, limit: 1.5, unit: 's' });
  });

  it.each([
    ['p50<1ms', 'sendToDeliver', 'p50'],
    ['p90<1ms', 'sendToDeliver', 'p90'],
    ['p99.9<1ms', 'sendToDeliver', 'p999'],
    ['mean<1ms', 'sendToDeliver', 'mean'],
    ['deliver.p99<1ms', 'sendToDeliver', 'p99'],
    ['accept.p99.9<1ms', 'sendToAccept', 'p999'],
    ['ack.max<1ms', 'ack', 'max'],
  ])('reads %s as %s %s', (expression, latency, statistic) => {
    expect(parseThreshold(expression).metric).toEqual({ kind: 'latency', latency, statistic });
  });

  it('reads counts, and shares with %', () => {
    expect(parseThreshold('lost==0')).toMatchObject({ metric: { kind: 'count', count: 'lost' }, limit: 0, unit: 'count' });
    expect(parseThreshold('duplicated<=0.01%')).toMatchObject({ metric: { count: 'duplicated' }, limit: 0.01, unit: '%' });
    expect(parseThreshold('refused<10')).toMatchObject({ metric: { count: 'refused' }, unit: 'count' });
    expect(parseThreshold('errors<1%')).toMatchObject({ metric: { count: 'errors' }, unit: '%' });
    expect(parseThreshold('delivered>=99.9%')).toMatchObject({ metric: { count: 'delivered' }, limit: 99.9, unit: '%' });
    expect(parseThreshold('accepted>=99%')).toMatchObject({ metric: { count: 'accepted' }, limit: 99, unit: '%' });
  });

  it('reads a rate with or without /s', () => {
    expect(parseThreshold('rate>=1000')).toMatchObject({ metric: { kind: 'rate' }, limit: 1000, unit: '/s' });
    expect(parseThreshold('rate>=1000/s')).toMatchObject({ metric: { kind: 'rate' }, limit: 1000, unit: '/s' });
  });

  it('reads a stage prefix as the 1-based stage it judges', () => {
    expect(parseThreshold('stage2.p99<50ms')).toMatchObject({ stage: 2, metric: { kind: 'latency', latency: 'sendToDeliver' } });
    expect(parseThreshold('stage1.accept.p50<5ms')).toMatchObject({ stage: 1, metric: { latency: 'sendToAccept', statistic: 'p50' } });
    expect(parseThreshold('stage3.lost==0')).toMatchObject({ stage: 3, metric: { count: 'lost' } });
    expect(parseThreshold('p99<50ms').stage).toBeUndefined();
  });

  it('keeps the expression as given, trimmed', () => {
    expect(parseThreshold('  lost == 0 ').expression).toBe('lost == 0');
  });

  it.each([
    ['', 'expected METRIC OP NUMBER'],
    ['p99', 'expected METRIC OP NUMBER'],
    ['p99=50ms', 'expected METRIC OP NUMBER'],
    ['p99!=50ms', 'expected METRIC OP NUMBER'],
    ['p99<fast', 'expected METRIC OP NUMBER'],
    ['p99<50', 'a latency needs its unit'],
    ['p99<50%', 'a latency needs its unit'],
    ['p95<50ms', "unknown metric 'p95'"],
    ['accept.lost==0', "unknown metric 'accept.lost'"],
    ['lost==0ms', "lost is a count or a share (%), not 'ms'"],
    ['rate>=50%', 'rate is delivered envelopes per second'],
    ['stage0.p99<50ms', 'stages count from 1'],
  ])('rejects %j: %s', (expression, reason) => {
    const parse = () => parseThreshold(expression);
    expect(parse).toThrow(ThresholdSyntaxError);
    expect(parse).toThrow(reason);
    expect(parse).toThrow(/Accepted: .*p50\|p90\|p99\|p99\.9\|max\|mean.*lost\|duplicated\|refused\|errors.*< <= > >= ==/);
  });
});
