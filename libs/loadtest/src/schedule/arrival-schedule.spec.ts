import { ArrivalSchedule } from './arrival-schedule';

const stage = (durationSeconds: number, rateTo: number) => ({ label: `${durationSeconds}s:${rateTo}`, durationSeconds, rateTo });

describe('ArrivalSchedule: open-model intended times from ramping stages', () => {
  it('a constant rate puts arrival g at g / rate', () => {
    const schedule = new ArrivalSchedule([stage(10, 50)], 50);
    expect(schedule.totalArrivals).toBe(500);
    for (const g of [0, 1, 49, 250, 499]) expect(schedule.intendedSeconds(g)).toBeCloseTo(g / 50, 9);
  });

  it('a ramp from 0 to R over T offers R·T/2 arrivals, arrival g at √(2gT/R)', () => {
    const schedule = new ArrivalSchedule([stage(4, 100)]);
    expect(schedule.totalArrivals).toBe(200);
    for (const g of [0, 1, 50, 199]) expect(schedule.intendedSeconds(g)).toBeCloseTo(Math.sqrt((2 * g * 4) / 100), 9);
  });

  it('inverts its own cumulative count across ramp up, hold, ramp down and an idle stage', () => {
    const schedule = new ArrivalSchedule([stage(3, 1000), stage(2, 1000), stage(1, 0), stage(2, 0), stage(1, 300)]);
    expect(schedule.totalArrivals).toBe(1500 + 2000 + 500 + 0 + 150);
    let previous = -1;
    for (let g = 0; g < schedule.totalArrivals; g++) {
      const t = schedule.intendedSeconds(g);
      expect(t).toBeGreaterThan(previous);
      expect(schedule.cumulative(t)).toBeCloseTo(g, 6);
      previous = t;
    }
    // Nothing is due while the rate is 0 (6 s..8 s): the last arrival before is in the ramp down, the next one starts the last stage.
    expect(schedule.intendedSeconds(3999)).toBeLessThan(6);
    expect(schedule.intendedSeconds(4000)).toBe(8);
  });

  it('deals every arrival to exactly one worker, interleaved, and counts what is due per worker', () => {
    const schedule = new ArrivalSchedule([stage(2, 10), stage(3, 20), stage(1, 0)]);
    expect(schedule.totalArrivals).toBe(65);
    const workers = 3;
    const perWorker = Array.from({ length: workers }, (_, w) => schedule.totalForWorker(w, workers));
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(65);
    expect(perWorker).toEqual([22, 22, 21]);
    expect(schedule.intendedForWorker(4, 1, workers)).toBe(schedule.intendedSeconds(13));
    const at = 2.5;
    const due = Array.from({ length: workers }, (_, w) => schedule.dueForWorker(at, w, workers)).reduce((a, b) => a + b, 0);
    expect(due).toBe(Math.floor(schedule.cumulative(at)) + 1);
    expect(schedule.dueForWorker(100, 0, workers)).toBe(22);
  });

  it('names the stage of a time by the stage boundaries', () => {
    const schedule = new ArrivalSchedule([stage(2, 10), stage(3, 20)]);
    expect([0, 1.999, 2, 4.9, 5, 60].map((t) => schedule.stageAt(t))).toEqual([0, 0, 1, 1, 1, 1]);
  });
});
