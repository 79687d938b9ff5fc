import { LatencyHistogram } from '../metrics/latency-histogram';
import { ArrivalSchedule } from '../schedule/arrival-schedule';
import { WorkerBook } from './worker-ledger';

const schedule = new ArrivalSchedule(
  [
    { label: '1s:10', durationSeconds: 1, rateTo: 10 },
    { label: '1s:10', durationSeconds: 1, rateTo: 10 },
  ],
  10,
);

describe('WorkerBook: one worker’s sends and arrivals', () => {
  it('counts a second arrival of the same send on the same device as a duplicate, on another device as a delivery', () => {
    const book = new WorkerBook(schedule, 0, 2);
    expect(book.arrived(1, 2, 0, 5)).toBe(0);
    expect(book.arrived(1, 2, 1, 6)).toBe(0);
    expect(book.arrived(1, 2, 0, 7)).toBe(-1);
    expect(book.deliveredMasks[1][2]).toBe(0b11);
    const stage0 = book.ledger().stages[0];
    expect(stage0.duplicated).toBe(1);
    expect(LatencyHistogram.decode(stage0.deliver).count).toBe(2);
  });

  it('books sends by the stage of their intended time and answers by status', () => {
    const book = new WorkerBook(schedule, 1, 2);
    // Worker 1 of 2 owns arrivals 1, 3, 5, ...: its seq 5 is arrival 11, due at 1.1 s (stage 2).
    for (const seq of [0, 5]) {
      book.due(seq, false);
      book.issued(seq);
    }
    book.answered(0, 200, 3, 12);
    book.answered(5, 429, 1, 3);
    const [first, second] = book.ledger().stages;
    expect(first).toMatchObject({ sent: 1, accepted: 1, expectedDeliveries: 3, refusedByStatus: {} });
    expect(second).toMatchObject({ sent: 1, accepted: 0, expectedDeliveries: 0, refusedByStatus: { '429': 1 } });
    expect(book.statuses[0]).toBe(200);
    expect(book.recipientDevices[0]).toBe(3);
  });

  it('closes seconds in order with the running totals the drain waits on', () => {
    const book = new WorkerBook(schedule, 0, 1);
    book.due(0, true);
    book.answered(0, 0, 1, 40);
    const first = book.closeSecond(1, 12);
    expect(first).toMatchObject({
      t: 0,
      offered: 1,
      accepted: 0,
      errorsByStatus: { transport: 1 },
      inFlight: 1,
      cpuMs: 12,
      expectedTotal: 0,
    });
    book.answered(1, 200, 2, 10);
    expect(book.closeSecond(0, 3)).toMatchObject({ t: 1, accepted: 1, expectedTotal: 2 });
  });

  it('counts an arrival outside the plan as foreign', () => {
    const book = new WorkerBook(schedule, 0, 1);
    expect(book.arrived(0, 10_000, 0, 1)).toBe(-1);
    expect(book.foreign).toBe(1);
  });
});
