import { linearScale, logScale, timeScale } from './svg-scale';

describe('svg scales', () => {
  it('linear: starts at 0, ends on a round tick at or above the maximum, maps the ends to the pixel range', () => {
    const scale = linearScale(1234, [250, 30]);
    expect(scale.ticks).toEqual([0, 250, 500, 750, 1000, 1250]);
    expect(scale.toPixel(0)).toBe(250);
    expect(scale.toPixel(1250)).toBe(30);
    expect(linearScale(0, [100, 0]).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearScale(0.3, [100, 0]).ticks).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it('log: spans whole decades in 1-2-5 steps', () => {
    const scale = logScale(1.3, 42, [200, 0]);
    expect(scale.ticks).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(scale.toPixel(1)).toBe(200);
    expect(scale.toPixel(100)).toBe(0);
    expect(scale.toPixel(10)).toBeCloseTo(100, 6);
  });

  it('time: ticks on a step a reader counts in', () => {
    expect(timeScale(0, 120, [0, 100]).ticks).toEqual([0, 15, 30, 45, 60, 75, 90, 105, 120]);
    expect(timeScale(0, 3600, [0, 100]).ticks).toEqual([0, 600, 1200, 1800, 2400, 3000, 3600]);
  });
});
