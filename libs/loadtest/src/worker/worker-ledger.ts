import { LatencyHistogram } from '../metrics/latency-histogram';
import type { ArrivalSchedule } from '../schedule/arrival-schedule';
import type { WorkerLedger, WorkerSecond, WorkerStageFigures } from './ipc-messages';

interface SecondTally {
  offered: number;
  accepted: number;
  delivered: number;
  errorsByStatus: Record<string, number>;
  accept: LatencyHistogram;
  deliver: LatencyHistogram;
}

interface StageTally {
  sent: number;
  accepted: number;
  refusedByStatus: Record<string, number>;
  delayedByInFlightCap: number;
  expectedDeliveries: number;
  duplicated: number;
  verified: number;
  verifyFailures: number;
  accept: LatencyHistogram;
  deliver: LatencyHistogram;
  ack: LatencyHistogram;
}

const newSecond = (): SecondTally => ({
  offered: 0,
  accepted: 0,
  delivered: 0,
  errorsByStatus: {},
  accept: LatencyHistogram.empty(),
  deliver: LatencyHistogram.empty(),
});

const bump = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);

/**
 * One worker's book of the run. Sender side: each own send's answer (by seq) and its recipient's
 * device count; receiver side: per sending worker and seq, the bits of the devices this worker
 * saw it arrive on (a bit seen twice is a duplicate). Latencies run from the send's INTENDED
 * time; per stage by that intended time, per second by when the answer or arrival came.
 */
export class WorkerBook {
  readonly statuses: Uint16Array;
  readonly recipientDevices: Uint8Array;
  readonly deliveredMasks: Uint32Array[];
  private readonly stages: StageTally[];
  private current = newSecond();
  private currentSecond = 0;
  expectedTotal = 0;
  deliveredTotal = 0;
  foreign = 0;

  constructor(
    private readonly schedule: ArrivalSchedule,
    private readonly worker: number,
    private readonly workers: number,
  ) {
    this.statuses = new Uint16Array(schedule.totalForWorker(worker, workers));
    this.recipientDevices = new Uint8Array(this.statuses.length);
    this.deliveredMasks = Array.from({ length: workers }, (_, w) => new Uint32Array(schedule.totalForWorker(w, workers)));
    this.stages = schedule.stages.map(() => ({
      sent: 0,
      accepted: 0,
      refusedByStatus: {},
      delayedByInFlightCap: 0,
      expectedDeliveries: 0,
      duplicated: 0,
      verified: 0,
      verifyFailures: 0,
      accept: LatencyHistogram.empty(),
      deliver: LatencyHistogram.empty(),
      ack: LatencyHistogram.empty(),
    }));
  }

  /** Intended time of a send, in seconds after t0. */
  intendedSeconds(worker: number, seq: number): number {
    return this.schedule.intendedForWorker(seq, worker, this.workers);
  }

  stageOf(worker: number, seq: number): number {
    return this.schedule.stageAt(this.intendedSeconds(worker, seq));
  }

  /** An own send came due (offered); `delayed` when it has to wait for an in-flight slot. */
  due(seq: number, delayed: boolean): void {
    if (delayed) this.stages[this.stageOf(this.worker, seq)].delayedByInFlightCap++;
    this.current.offered++;
  }

  /** An own send's request went out. */
  issued(seq: number): void {
    this.stages[this.stageOf(this.worker, seq)].sent++;
  }

  /** The answer to own send `seq` (status 0: no answer), `latencyMs` from its intended time. */
  answered(seq: number, status: number, recipientDevices: number, latencyMs: number): void {
    this.statuses[seq] = status;
    this.recipientDevices[seq] = recipientDevices;
    const stage = this.stages[this.stageOf(this.worker, seq)];
    if (status >= 200 && status < 300) {
      stage.accepted++;
      stage.expectedDeliveries += recipientDevices;
      stage.accept.recordMs(latencyMs);
      this.expectedTotal += recipientDevices;
      this.current.accepted++;
      this.current.accept.recordMs(latencyMs);
    } else {
      const key = status === 0 ? 'transport' : String(status);
      bump(stage.refusedByStatus, key);
      bump(this.current.errorsByStatus, key);
    }
  }

  /** A send of this run arrived on an own device (`position` in its account); returns its stage, or -1 for a duplicate. */
  arrived(worker: number, seq: number, position: number, latencyMs: number): number {
    const masks = this.deliveredMasks[worker];
    if (!masks || seq >= masks.length) {
      this.foreign++;
      return -1;
    }
    const stage = this.stageOf(worker, seq);
    const bit = 1 << position;
    if (masks[seq] & bit) {
      this.stages[stage].duplicated++;
      return -1;
    }
    masks[seq] |= bit;
    this.deliveredTotal++;
    this.current.delivered++;
    this.current.deliver.recordMs(latencyMs);
    this.stages[stage].deliver.recordMs(latencyMs);
    return stage;
  }

  ackRoundTrip(stage: number, ms: number): void {
    this.stages[stage].ack.recordMs(ms);
  }

  verified(stage: number, ok: boolean): void {
    if (ok) this.stages[stage].verified++;
    else this.stages[stage].verifyFailures++;
  }

  /** Closes second `t` and returns its figures (the next second starts counting). */
  closeSecond(inFlight: number, cpuMs: number): WorkerSecond {
    const s = this.current;
    const second: WorkerSecond = {
      t: this.currentSecond,
      offered: s.offered,
      accepted: s.accepted,
      delivered: s.delivered,
      inFlight,
      errorsByStatus: s.errorsByStatus,
      accept: s.accept.encode(),
      deliver: s.deliver.encode(),
      expectedTotal: this.expectedTotal,
      deliveredTotal: this.deliveredTotal,
      cpuMs,
    };
    this.current = newSecond();
    this.currentSecond++;
    return second;
  }

  ledger(): WorkerLedger {
    const stages: WorkerStageFigures[] = this.stages.map((s) => ({
      sent: s.sent,
      accepted: s.accepted,
      refusedByStatus: s.refusedByStatus,
      delayedByInFlightCap: s.delayedByInFlightCap,
      expectedDeliveries: s.expectedDeliveries,
      duplicated: s.duplicated,
      verified: s.verified,
      verifyFailures: s.verifyFailures,
      accept: s.accept.encode(),
      deliver: s.deliver.encode(),
      ack: s.ack.encode(),
    }));
    return {
      stages,
      statuses: this.statuses,
      recipientDevices: this.recipientDevices,
      deliveredMasks: this.deliveredMasks,
      foreign: this.foreign,
    };
  }
}
