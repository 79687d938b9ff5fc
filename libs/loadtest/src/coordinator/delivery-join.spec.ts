import { ArrivalSchedule } from '../schedule/arrival-schedule';
import type { WorkerLedger } from '../worker/ipc-messages';
import { joinDeliveries } from './delivery-join';

/** Two workers, 10 arrivals/s for 1 s then 1 s at 10/s: worker w owns arrivals g ≡ w (mod 2), 10 each. */
const schedule = new ArrivalSchedule(
  [
    { label: '1s:10', durationSeconds: 1, rateTo: 10 },
    { label: '1s:10', durationSeconds: 1, rateTo: 10 },
  ],
  10,
);

function ledger(worker: number): WorkerLedger {
  const n = schedule.totalForWorker(worker, 2);
  return {
    stages: [],
    statuses: new Uint16Array(n).fill(200),
    recipientDevices: new Uint8Array(n).fill(2),
    deliveredMasks: [new Uint32Array(schedule.totalForWorker(0, 2)), new Uint32Array(schedule.totalForWorker(1, 2))],
    foreign: 0,
  };
}

describe('joinDeliveries: every send against the devices that received it', () => {
  it('counts an accepted send reached on all its devices across receiving workers as delivered, not lost', () => {
    const [a, b] = [ledger(0), ledger(1)];
    for (let seq = 0; seq < 10; seq++) {
      a.deliveredMasks[0][seq] = 0b01; // device 0 of the recipient is held by worker 0
      b.deliveredMasks[0][seq] = 0b10; // device 1 by worker 1
      a.deliveredMasks[1][seq] = 0b11;
    }
    const joined = joinDeliveries([a, b], schedule);
    expect(joined).toEqual([
      { delivered: 20, lost: 0, deliveredUnaccepted: 0 },
      { delivered: 20, lost: 0, deliveredUnaccepted: 0 },
    ]);
  });

  it('counts each device an accepted send never reached as lost, in the stage of its intended time', () => {
    const [a, b] = [ledger(0), ledger(1)];
    a.deliveredMasks[0].fill(0b11);
    a.deliveredMasks[1].fill(0b11);
    a.deliveredMasks[1][9] = 0b01; // worker 1's last send (g = 19, t = 1.9 s): one device missing
    a.deliveredMasks[0][0] = 0; // worker 0's first send (g = 0): nothing arrived
    const joined = joinDeliveries([a, b], schedule);
    expect(joined[0]).toEqual({ delivered: 18, lost: 2, deliveredUnaccepted: 0 });
    expect(joined[1]).toEqual({ delivered: 19, lost: 1, deliveredUnaccepted: 0 });
  });

  it('does not count a refused send as lost, and reports its deliveries apart', () => {
    const [a, b] = [ledger(0), ledger(1)];
    a.statuses[3] = 429;
    a.statuses[4] = 0;
    a.deliveredMasks[0].fill(0b11);
    a.deliveredMasks[0][3] = 0;
    a.deliveredMasks[1].fill(0b11);
    const joined = joinDeliveries([a, b], schedule);
    expect(joined[0]).toEqual({ delivered: 18, lost: 0, deliveredUnaccepted: 2 });
  });
});
