import { judgeRounds } from './abuse-rounds';

describe('judgeRounds', () => {
  it('judges the median ratio, so one noisy round does not decide', () => {
    const [verdict] = judgeRounds([
      { key: 'junk', beforeP99Ms: 80, duringP99Ms: 100, reasons: [] },
      { key: 'junk', beforeP99Ms: 70, duringP99Ms: 400, reasons: ['p99 400.00 ms > 2 × 70.00 ms'] },
      { key: 'junk', beforeP99Ms: 90, duringP99Ms: 120, reasons: [] },
    ]);
    expect(verdict.pass).toBe(true);
    expect(verdict.medianRatio).toBeCloseTo(1.3333, 3);
  });

  it('fails on a median ratio over 2, and on a loss in any single round', () => {
    const verdicts = judgeRounds([
      { key: 'a', beforeP99Ms: 50, duringP99Ms: 150, reasons: ['p99 150 ms > 2 × 50 ms'] },
      { key: 'a', beforeP99Ms: 50, duringP99Ms: 110, reasons: ['p99 110 ms > 2 × 50 ms'] },
      { key: 'b', beforeP99Ms: 50, duringP99Ms: 60, reasons: [] },
      { key: 'b', beforeP99Ms: 50, duringP99Ms: 60, reasons: ['3 envelopes lost'] },
    ]);
    expect(verdicts.map((v) => [v.key, v.pass])).toEqual([
      ['a', false],
      ['b', false],
    ]);
    expect(verdicts[1].reasons).toEqual(['3 envelopes lost']);
  });
});
