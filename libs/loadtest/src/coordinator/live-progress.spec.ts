import { LatencyHistogram } from '../metrics/latency-histogram';
import type { TimelineSecond } from '../report/load-report';
import { ArrivalSchedule } from '../schedule/arrival-schedule';
import type { WorkerSecond } from '../worker/ipc-messages';
import { LiveProgress } from './live-progress';
import { metricValue } from './service-sampler';

const schedule = new ArrivalSchedule([{ label: '2s:10', durationSeconds: 2, rateTo: 10 }], 10);

function second(t: number, overrides: Partial<WorkerSecond> = {}): WorkerSecond {
  const h = LatencyHistogram.empty();
  h.recordMs(10 * (t + 1));
  return {
    t,
    offered: 5,
    accepted: 5,
    delivered: 4,
    inFlight: 1,
    errorsByStatus: {},
    accept: h.encode(),
    deliver: h.encode(),
    expectedTotal: 5 * (t + 1),
    deliveredTotal: 4 * (t + 1),
    cpuMs: 100,
    ...overrides,
  };
}

describe('LiveProgress: the seconds of all workers, merged, in order', () => {
  it('emits a second once every worker reported it, summed, with its percentiles and a line', () => {
    const seen: [TimelineSecond, string][] = [];
    const progress = new LiveProgress(2, schedule, (s, line) => seen.push([s, line]));
    progress.add(0, second(0));
    expect(seen).toEqual([]);
    progress.add(1, second(0, { errorsByStatus: { '429': 2 } }));
    expect(seen).toHaveLength(1);
    const [s, line] = seen[0];
    expect(s).toMatchObject({
      t: 1,
      stage: 0,
      offeredPerSecond: 10,
      acceptedPerSecond: 10,
      deliveredPerSecond: 8,
      inFlight: 2,
      errorsByStatus: { '429': 2 },
      loadtestCpuCores: 0.2,
    });
    expect(s.deliverP99).toBeCloseTo(10, 0);
    expect(line).toMatch(/offered 10\/s accepted 10\/s delivered 8\/s in-flight 2 .* errors 429×2/);
    expect(progress.totals()).toEqual({ expected: 10, delivered: 8, inFlight: 2 });
  });

  it('does not wait for a worker that is two seconds behind, and marks seconds after the last stage as drain', () => {
    const seen: TimelineSecond[] = [];
    const progress = new LiveProgress(2, schedule, (s) => seen.push(s));
    for (const t of [0, 1, 2]) progress.add(0, second(t));
    expect(seen.map((s) => s.t)).toEqual([1]);
    progress.add(0, second(3));
    expect(seen.map((s) => s.t)).toEqual([1, 2]);
    progress.flush();
    expect(seen.map((s) => [s.t, s.drain ?? false])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, true],
    ]);
  });
});

describe('metricValue: prom-client process metrics', () => {
  it('reads the prefixed and the plain names, with or without labels', () => {
    const text = '# HELP x\nsealpost_process_cpu_seconds_total 12.5\nprocess_resident_memory_bytes{pid="1"} 1048576\n';
    expect(metricValue(text, 'process_cpu_seconds_total')).toBe(12.5);
    expect(metricValue(text, 'process_resident_memory_bytes')).toBe(1048576);
    expect(metricValue(text, 'process_heap_bytes')).toBeUndefined();
  });
});
