import type { LoadPopulation, StoreSnapshot } from '../accounts/load-accounts.types';
import type { LoadOptions } from '../options/load-options';
import type { RefusedByStatus } from '../report/load-report';

/** What a worker needs to know of a target. */
export interface WorkerTarget {
  serverName: string;
  discoveryUrl: string;
  relayUrl: string;
}

/** Coordinator → worker. */
export type CoordinatorMessage =
  | {
      type: 'init';
      worker: number;
      workers: number;
      runTag: number;
      options: LoadOptions;
      targets: WorkerTarget[];
      population: LoadPopulation;
      /** Client state of this worker's own devices, by global device index. */
      stores: [number, StoreSnapshot][];
      /** Loopback source addresses this worker binds (empty: let the system choose). */
      sourceAddresses: string[];
    }
  | { type: 'connect' }
  | { type: 'seal' }
  /** Unmeasured closed-loop sends before the clock (JIT, pools, caches, connections), then counts of what arrived. */
  | { type: 'warm-up'; sends: number }
  | { type: 'warm-count' }
  /** t0 as epoch milliseconds (performance.timeOrigin + performance.now() in every process). */
  | { type: 'start'; t0EpochMs: number }
  | { type: 'stop-sending' }
  | { type: 'finish' };

/** One second of one worker (second `t` = [t, t+1) s after t0). Histograms are compressed HDR (µs), '' when empty. */
export interface WorkerSecond {
  t: number;
  offered: number;
  accepted: number;
  delivered: number;
  inFlight: number;
  errorsByStatus: RefusedByStatus;
  accept: string;
  deliver: string;
  /** Since t0: accepted sends × their recipient's devices (sender side), and first deliveries (receiver side), for the drain. */
  expectedTotal: number;
  deliveredTotal: number;
  /** CPU this worker process used in the second (user + system), ms. */
  cpuMs: number;
}

/** Per stage of the run (by the INTENDED time of the send), one worker's share. */
export interface WorkerStageFigures {
  sent: number;
  accepted: number;
  refusedByStatus: RefusedByStatus;
  delayedByInFlightCap: number;
  /** Accepted sends × their recipient's devices. */
  expectedDeliveries: number;
  duplicated: number;
  verified: number;
  verifyFailures: number;
  accept: string;
  deliver: string;
  ack: string;
}

/** The end of a worker's run: its stage figures and the ledger the coordinator joins. */
export interface WorkerLedger {
  stages: WorkerStageFigures[];
  /** Per own send seq: HTTP status (0 = no answer), and the recipient's device count. */
  statuses: Uint16Array;
  recipientDevices: Uint8Array;
  /** Per SENDING worker, per its seq: bits of the recipient devices this worker's sockets received it on. */
  deliveredMasks: Uint32Array[];
  /** Envelopes on this worker's sockets that are not this run's sends (an earlier run's leftovers). */
  foreign: number;
}

export interface ConnectFigures {
  attempted: number;
  connected: number;
  failed: number;
  failuresByReason: Record<string, number>;
  durationMs: number;
  sourceAddresses: string[];
}

/** Worker → coordinator. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'connected'; figures: ConnectFigures }
  | { type: 'sealed'; envelopes: number; bodyBytes: number; ms: number }
  | { type: 'warmed'; accepted: number; expected: number; refused: number }
  | { type: 'warm-count'; delivered: number }
  | { type: 'second'; second: WorkerSecond }
  | { type: 'ledger'; ledger: WorkerLedger; drops: Record<string, number>; verifyFailures: Record<string, number> }
  | { type: 'failed'; message: string };
