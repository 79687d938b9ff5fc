/**
 * The JSON report of one `sealpost loadtest` run: what the load engine writes (`--json FILE`),
 * what the HTML report embeds and draws, what `--threshold` judges and `--compare` diffs.
 * Every latency is in milliseconds and runs from the send's INTENDED time (open model: no
 * coordinated omission); every rate is per second; every count is an integer.
 * Bump LOAD_REPORT_VERSION on any change a reader of an older file would misread.
 */
export const LOAD_REPORT_VERSION = 1;

/** Percentiles of one latency distribution (ms); all zero when `count` is 0. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** The three latencies the engine measures for every send. */
export interface LatencySet {
  /** Intended send time → the server's 2xx answer (the envelope is durably stored). */
  sendToAccept: LatencySummary;
  /** Intended send time → the envelope reached the recipient device's socket (first device, for multi-device recipients: each device counts). */
  sendToDeliver: LatencySummary;
  /** Receipt of an envelope → the relay's answer to its ack (ack round trip). */
  ack: LatencySummary;
}

/** Counts of sends refused, keyed by HTTP status ("429", "503") or "transport" for no answer. */
export type RefusedByStatus = Record<string, number>;

export interface DeliveryTotals {
  /** Sends issued (each one a `PUT /v1/messages/{address}` or socket send frame). */
  sent: number;
  /** Sends answered 2xx. */
  accepted: number;
  /** Envelopes delivered to a recipient device (a send to a 3-device recipient delivers 3). */
  delivered: number;
  /** Envelopes a device received more than once (after the run's dedupe by envelope id). */
  duplicated: number;
  /** Envelopes of accepted sends never delivered by the end of the drain: a loud failure. */
  lost: number;
  /** Envelopes that were expected (accepted × recipient devices). */
  expectedDeliveries: number;
  refusedByStatus: RefusedByStatus;
  /** Due sends the generator could not issue because `--max-in-flight` was reached (their latency still counts from the intended time). */
  delayedByInFlightCap: number;
  /** With `--verify`: envelopes decrypted with libsignal and matched to what was sealed, and failures. */
  verified?: number;
  verifyFailures?: number;
  /** With `--verify`, the failures by reason ("undecryptable: …", "another send", "content", …). */
  verifyFailuresByReason?: Record<string, number>;
  /** Run totals only: envelopes on the run's sockets that were none of its sends (an earlier run's leftovers, the federation priming). */
  foreign?: number;
  /** Envelopes of sends NOT answered 2xx that were delivered all the same (e.g. the answer timed out after the commit). */
  deliveredUnaccepted?: number;
}

/** Opening the devices' WebSockets before the load. */
export interface ConnectReport {
  attempted: number;
  connected: number;
  failed: number;
  /** Failures by reason ("ECONNREFUSED", "401", "timeout", ...). */
  failuresByReason: Record<string, number>;
  durationMs: number;
  ratePerSecond: number;
  /** Worker processes and the loopback source addresses they bound (empty when not bound). */
  workers: number;
  sourceAddresses: string[];
  /** Sockets that closed during the run (and were reopened), by close code. */
  dropsByCloseCode?: Record<string, number>;
}

/** One `--stage DURATION:RATE` (the rate ramps linearly from the previous stage's end rate to RATE). */
export interface StageReport {
  index: number;
  /** As given on the command line, e.g. "30s:1000"; a constant-rate run has one stage "60s:500". */
  label: string;
  startSeconds: number;
  durationSeconds: number;
  rateFrom: number;
  rateTo: number;
  totals: DeliveryTotals;
  latency: LatencySet;
}

/** One second of the run, as the live progress line showed it. */
export interface TimelineSecond {
  /** Seconds since the load started (end of this second). */
  t: number;
  stage: number;
  /** A second of the drain after the last stage (`stage` is then the last stage). */
  drain?: boolean;
  offeredPerSecond: number;
  acceptedPerSecond: number;
  deliveredPerSecond: number;
  inFlight: number;
  acceptP50: number;
  acceptP99: number;
  deliverP50: number;
  deliverP99: number;
  errorsByStatus: RefusedByStatus;
  /** CPU the load tester's workers used in this second, in cores (1.0 = one core busy): a busy generator skews what it measures. */
  loadtestCpuCores?: number;
}

/** A histogram for drawing: `counts[i]` deliveries took at most `upperBoundsMs[i]` (and more than the bound before). */
export interface HistogramBuckets {
  upperBoundsMs: number[];
  counts: number[];
}

/** One target service's process figures, read from its `/metrics` (prom-client process metrics). */
export interface ServiceSample {
  t: number;
  /** Server name of the homeserver. */
  server: string;
  service: 'directory' | 'relay' | 'gateway';
  /** CPU used since the previous sample, as a share of one core (1.0 = one core busy). */
  cpuCores: number;
  rssMiB: number;
}

export interface TargetHomeserver {
  serverName: string;
  discoveryUrl: string;
  directoryUrl: string;
  relayUrl: string;
  /** Accounts and devices of the run on this homeserver. */
  accounts: number;
  devices: number;
}

/** A `--threshold` and how the run met it. */
export interface ThresholdResult {
  /** As given, e.g. "p99<50ms", "lost==0", "delivered>=99.9%". */
  expression: string;
  /** The measured value, in the expression's unit. */
  actual: number;
  passed: boolean;
}

export interface LoadReport {
  version: typeof LOAD_REPORT_VERSION;
  tool: 'sealpost loadtest';
  /** The argv the run was started with (after the program name), and the options they resolved to. */
  command: string[];
  options: Record<string, unknown>;
  environment: {
    startedAt: string;
    endedAt: string;
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    totalMemoryMiB: number;
    /** The sealpost version and git commit of the load tester, when known. */
    sealpostVersion: string;
    gitCommit?: string;
  };
  /** How the run ended: all stages ran, the duration cap stopped it, Ctrl-C / SIGTERM, or an error. */
  endedBy: 'completed' | 'duration-cap' | 'interrupted' | 'error';
  error?: string;
  targets: TargetHomeserver[];
  connect: ConnectReport;
  totals: DeliveryTotals;
  latency: LatencySet;
  deliverHistogram: HistogramBuckets;
  stages: StageReport[];
  timeline: TimelineSecond[];
  services: ServiceSample[];
  thresholds: ThresholdResult[];
  /** False when a threshold failed or anything accepted was lost. Sets the exit code. */
  passed: boolean;
}
