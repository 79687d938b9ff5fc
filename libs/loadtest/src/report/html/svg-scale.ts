/**
 * Axes for the report's SVG charts: a scale maps a value to a pixel, and knows the ticks worth
 * labelling. Linear scales start at zero and end on a round tick; log scales span whole 1-2-5 steps.
 */
export interface Scale {
  toPixel(value: number): number;
  ticks: number[];
}

export type ScaleKind = 'linear' | 'log';

/** `max` is the largest value to show; the domain grows to the next round tick. */
export function linearScale(max: number, [pixelFrom, pixelTo]: [number, number], tickCount = 5): Scale {
  const step = niceStep((max > 0 ? max : 1) / tickCount);
  const top = Math.max(step, Math.ceil((max > 0 ? max : 1) / step - 1e-9) * step);
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => roundTo(i * step, step));
  return { ticks, toPixel: (value) => pixelFrom + ((pixelTo - pixelFrom) * value) / top };
}

/** Positive values only; `min` and `max` are the smallest and largest positive values to show. */
export function logScale(min: number, max: number, [pixelFrom, pixelTo]: [number, number]): Scale {
  const low = Math.pow(10, Math.floor(Math.log10(min > 0 ? min : 1)));
  const high = Math.pow(10, Math.ceil(Math.log10(max > low ? max : low * 10)));
  const ticks: number[] = [];
  for (let decade = low; decade < high * 1.001; decade *= 10) {
    for (const m of [1, 2, 5]) if (decade * m <= high * 1.001) ticks.push(roundTo(decade * m, decade));
  }
  const [logLow, logHigh] = [Math.log10(low), Math.log10(high)];
  return {
    ticks,
    toPixel: (value) => pixelFrom + ((pixelTo - pixelFrom) * (Math.log10(Math.max(value, low)) - logLow)) / (logHigh - logLow),
  };
}

/** Seconds on a time axis: ticks on a step a reader counts in (5 s, 15 s, 1 min, 5 min, ...). */
export function timeScale(from: number, to: number, [pixelFrom, pixelTo]: [number, number], maxTicks = 10): Scale {
  const span = Math.max(to - from, 1);
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];
  const step = steps.find((s) => span / s <= maxTicks) ?? Math.ceil(span / maxTicks / 3600) * 3600;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to + 1e-9; t += step) ticks.push(t);
  return { ticks, toPixel: (value) => pixelFrom + ((pixelTo - pixelFrom) * (value - from)) / span };
}

/** 1, 2, 2.5 or 5 times a power of ten, the first at least `rough`. */
function niceStep(rough: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const factor = [1, 2, 2.5, 5, 10].find((f) => f * power >= rough - 1e-12) ?? 10;
  return factor * power;
}

/** Removes float noise (0.30000000000000004) at the precision of `unit`. */
function roundTo(value: number, unit: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(unit)) + 2);
  return Number(value.toFixed(decimals));
}
