import type { ArrivalSchedule } from '../schedule/arrival-schedule';
import type { WorkerLedger } from '../worker/ipc-messages';

export interface JoinedStage {
  /** First deliveries (send, device) of this run's sends. */
  delivered: number;
  /** Devices of accepted sends that never saw them. */
  lost: number;
  deliveredUnaccepted: number;
}

function popcount(n: number): number {
  let x = n >>> 0;
  let count = 0;
  while (x) {
    x &= x - 1;
    count++;
  }
  return count;
}

/**
 * The end of the ledger: every send of every worker (its answer and its recipient's device count,
 * from the sending worker) against the devices that received it (the delivery bits from every
 * receiving worker, OR-ed). An accepted send is lost on each device it never reached by the end
 * of the drain. Per stage by the send's intended time. A worker whose book is missing (it died)
 * contributes nothing: its sends are neither delivered nor lost here (the report's error says why).
 */
export function joinDeliveries(ledgers: (WorkerLedger | undefined)[], schedule: ArrivalSchedule): JoinedStage[] {
  const workers = ledgers.length;
  const stages: JoinedStage[] = schedule.stages.map(() => ({ delivered: 0, lost: 0, deliveredUnaccepted: 0 }));
  for (let w = 0; w < workers; w++) {
    const own = ledgers[w];
    if (!own) continue;
    const masks = ledgers.flatMap((l) => (l ? [l.deliveredMasks[w]] : []));
    for (let seq = 0; seq < own.statuses.length; seq++) {
      let mask = 0;
      for (const m of masks) mask |= m[seq];
      const status = own.statuses[seq];
      const devices = own.recipientDevices[seq];
      const reached = popcount(mask);
      if (reached === 0 && !(status >= 200 && status < 300)) continue;
      const stage = stages[schedule.stageAt(schedule.intendedForWorker(seq, w, workers))];
      stage.delivered += reached;
      if (status >= 200 && status < 300) {
        const all = devices >= 32 ? 0xffffffff : (1 << devices) - 1;
        stage.lost += devices - popcount(mask & all);
      } else {
        stage.deliveredUnaccepted += reached;
      }
    }
  }
  return stages;
}
