import type { StagePlan } from '../schedule/arrival-schedule';

export type ServiceKind = 'directory' | 'relay' | 'gateway';
export const SERVICE_KINDS: readonly ServiceKind[] = ['directory', 'relay', 'gateway'];

/** Where one service of a target serves its Prometheus `/metrics` (not in discovery: the public ingress does not route it). */
export interface MetricsEndpoint {
  /** Server name of the target; may be left out when there is one target. */
  server?: string;
  service: ServiceKind;
  url: string;
}

/** Everything a run is made of, resolved and validated (by `parseLoadArgs` or the caller of `runLoadTest`). */
export interface LoadOptions {
  /** Discovery URLs of the target homeservers (`--server`); empty with `spawn`. */
  servers: string[];
  /** Start this many federated homeservers on loopback instead of `servers`. */
  spawn: number;
  /** One registration token for every target, or one per target in `servers` order; empty: open registration. */
  registrationTokens: string[];
  metrics: MetricsEndpoint[];
  accounts: number;
  devicesPerAccount: number;
  /** Test credentials of the run's accounts: written the first time, reused after. */
  accountsFile?: string;
  /** Devices that send (spread over the workers); every device receives. */
  senders: number;
  workers: number;
  stages: StagePlan[];
  /** Rate the first stage ramps from. */
  startRate: number;
  federatedShare: number;
  multiDeviceShare: number;
  sealedShare: number;
  /** Plaintext bytes of each message, uniform in [min, max]. */
  size: { min: number; max: number };
  /** Requests in flight per worker; due sends beyond wait (counted, latency still from the intended time). */
  maxInFlight: number;
  /** Unmeasured sends (all workers) before the clock starts, closed loop, drained before t0 (not with `verify`). */
  warmupSends: number;
  /** Pre-sealed envelopes per worker, reused in turn (ignored with `verify`: every send is sealed for itself). */
  poolSize: number;
  verify: boolean;
  /**
   * Each sender and every device of its contacts exchange a message before the load, so the pool
   * holds conversation messages (Double Ratchet, ~1 KiB sealed) instead of first-contact PreKey
   * messages (with the PQXDH ciphertext, a few KiB). Costs set-up time per sender → device pair.
   */
  conversations: boolean;
  drainSeconds: number;
  /** Hard cap on the load part (clock start → report), seconds. */
  maxDurationSeconds: number;
  /** WebSocket upgrades in flight per worker while connecting. */
  connectConcurrency: number;
  thresholds: string[];
  /** No live progress lines on stderr. */
  quiet: boolean;
}

/** Size limits a message's plaintext must respect: room for the ledger header, at most 64 KiB. */
export const MIN_MESSAGE_BYTES = 16;
export const MAX_MESSAGE_BYTES = 65_536;
export const MAX_DEVICES_PER_ACCOUNT = 32;
/** Sends sealed before the clock starts when `verify` makes every send unique. */
export const MAX_VERIFY_SENDS = 30_000;

export function stagesDurationSeconds(stages: StagePlan[]): number {
  return stages.reduce((sum, s) => sum + s.durationSeconds, 0);
}

/** The options a run takes when only the essentials are given (a library caller's starting point). */
export function defaultLoadOptions(overrides: Partial<LoadOptions> = {}): LoadOptions {
  const stages = overrides.stages ?? [{ label: '30s:100', durationSeconds: 30, rateTo: 100 }];
  const options: LoadOptions = {
    servers: [],
    spawn: 0,
    registrationTokens: [],
    metrics: [],
    accounts: 100,
    devicesPerAccount: 1,
    senders: 0,
    workers: 1,
    stages,
    startRate: overrides.stages ? 0 : stages[0].rateTo,
    federatedShare: 0,
    multiDeviceShare: 0,
    sealedShare: 1,
    size: { min: 64, max: 512 },
    maxInFlight: 10_000,
    poolSize: 2048,
    warmupSends: 0,
    verify: false,
    conversations: false,
    drainSeconds: 10,
    maxDurationSeconds: 0,
    connectConcurrency: 200,
    thresholds: [],
    quiet: false,
    ...overrides,
  };
  if (options.senders <= 0) options.senders = Math.min(options.accounts * options.devicesPerAccount, 256);
  if (options.maxDurationSeconds <= 0) options.maxDurationSeconds = stagesDurationSeconds(options.stages) + options.drainSeconds + 60;
  return options;
}
