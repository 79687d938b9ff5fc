import { availableParallelism } from 'node:os';
import { CommonConfig, readCommonConfig } from './common.config';
import { DatabaseTimeouts, readDatabaseTimeouts } from './database.config';
import { Env, EnvReader } from './env-reader';
import { requireBodyWithinBudget } from './http-limits.config';

export interface RelayConfig extends CommonConfig {
  port: number;
  maxBodyBytes: number;
  /** Cap on one envelope's `content` (decoded bytes). */
  maxContentBytes: number;
  /** Unacked envelopes older than this are deleted by the expiry job. */
  envelopeTtlSeconds: number;
  expiryIntervalSeconds: number;
  /** Envelopes sent on one socket and not yet acked, at most (backpressure). */
  maxInFlightPerSocket: number;
  pingIntervalSeconds: number;
  /** Per socket: frames the client may send at once, and the rate they refill at; past it the socket is closed with 4429. */
  wsFrameBurst: number;
  wsFrameRatePerSecond: number;
  /** Per socket: send frames in flight (received, not yet answered) at most; past it a send-result 429, the socket stays open. */
  wsMaxSendsInFlight: number;
  /** Sealed sends over `/v1/websocket/unidentified`: see UnidentifiedSocketsConfig. */
  unidentifiedSockets: UnidentifiedSocketsConfig;
  /** Token buckets: sends per sender device, and per recipient account. */
  senderRateBurst: number;
  senderRatePerMinute: number;
  recipientRateBurst: number;
  recipientRatePerMinute: number;
  /** Token bucket per sender → recipient (sender device, or a sealed send's client address), taken before the recipient's. */
  pairRateBurst: number;
  pairRatePerMinute: number;
  /** Sealed sends to users of other homeservers: token bucket per client address, then per destination server. */
  sealedRemoteRateBurst: number;
  sealedRemoteRatePerMinute: number;
  remoteDestinationRateBurst: number;
  remoteDestinationRatePerMinute: number;
  /** Most unacked envelopes queued for one device; beyond it sends get 429 recipient_queue_full. */
  queueCapPerDevice: number;
  /** Group commit: most envelopes per transaction, and the longest wait to fill one. */
  groupCommitMaxBatch: number;
  groupCommitMaxWaitMs: number;
  /** Group-commit transactions running at once; more only queue on each other's per-device locks. */
  groupCommitMaxConcurrent: number;
  /** How long device lists and token lookups from the directory are cached (invalidated by bus events first). */
  directoryCacheTtlSeconds: number;
  /**
   * How long a send to another homeserver waits for the federation gateway to take it (its own
   * first attempt at the peer included). Past it the outcome is unknown: 504 outcome_unknown.
   */
  federationHandoffTimeoutMs: number;
  /** Linking a device (`/v1/provisioning`): see ProvisioningConfig. */
  provisioning: ProvisioningConfig;
  dbPoolSize: number;
  /** Bounds on every wait for Postgres (DB_* / RELAY_DB_*). */
  dbTimeouts: DatabaseTimeouts;
}

/** Unauthenticated sockets that carry sealed sends (`GET /v1/websocket/unidentified`). */
export interface UnidentifiedSocketsConfig {
  /** Unidentified sockets one replica holds at once at most (503 beyond). */
  maxSockets: number;
  /** Token bucket per client address on the unauthenticated upgrade. */
  rateBurst: number;
  ratePerMinute: number;
}

/** Provisioning sockets of new devices and the sealed messages primary devices put to them. */
export interface ProvisioningConfig {
  /** A provisioning socket (and its address) lives this long at most, then is closed with 4408. */
  ttlSeconds: number;
  /** Cap on a provisioning message's decoded `body`. */
  maxMessageBytes: number;
  /** Provisioning sockets one replica holds at once at most (503 beyond). */
  maxSockets: number;
  /** Token bucket per client address on the unauthenticated upgrade. */
  socketRateBurst: number;
  socketRatePerMinute: number;
  /** Token bucket per device on `PUT /v1/provisioning/{address}`. */
  putRateBurst: number;
  putRatePerMinute: number;
}

export function loadRelayConfig(source: Env = process.env): RelayConfig {
  const env = new EnvReader(source);
  const common = readCommonConfig(env);
  const maxBodyBytes = env.int('RELAY_MAX_BODY_BYTES', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024);
  requireBodyWithinBudget(env, common.http, maxBodyBytes, 'RELAY_MAX_BODY_BYTES');
  return env.finish({
    ...common,
    port: env.int('RELAY_PORT', 8082, 0, 65535),
    maxBodyBytes,
    maxContentBytes: env.int('MAX_ENVELOPE_BYTES', 256 * 1024, 1, 64 * 1024 * 1024),
    envelopeTtlSeconds: env.int('ENVELOPE_TTL_SECONDS', 30 * 86400, 1, 365 * 86400),
    expiryIntervalSeconds: env.int('EXPIRY_INTERVAL_SECONDS', 3600, 1, 86400),
    maxInFlightPerSocket: env.int('MAX_IN_FLIGHT_PER_SOCKET', 100, 1, 10000),
    pingIntervalSeconds: env.int('WS_PING_INTERVAL_SECONDS', 30, 1, 3600),
    // A client acking each envelope as it arrives sends one frame per envelope: 200 at once covers
    // a full window (MAX_IN_FLIGHT_PER_SOCKET 100) twice over.
    wsFrameBurst: env.int('WS_FRAME_BURST', 200, 1, 1_000_000),
    wsFrameRatePerSecond: env.number('WS_FRAME_RATE_PER_SECOND', 100, 0.01, 1_000_000),
    // A client waiting for each answer has one send in flight; 64 lets one pipeline a burst without holding unbounded parsed frames.
    wsMaxSendsInFlight: env.int('WS_MAX_SENDS_IN_FLIGHT', 64, 1, 10_000),
    unidentifiedSockets: {
      maxSockets: env.int('UNIDENTIFIED_MAX_SOCKETS', 20_000, 1, 1_000_000),
      // Every client keeps one open and reopens it after a drop (with backoff): 60 at once, then one every 2 s per address.
      rateBurst: env.int('UNIDENTIFIED_SOCKET_RATE_BURST', 60, 1, 100_000_000),
      ratePerMinute: env.number('UNIDENTIFIED_SOCKET_RATE_PER_MINUTE', 30, 0.01, 1e9),
    },
    senderRateBurst: env.int('SEND_RATE_BURST', 600, 1, 100_000_000),
    senderRatePerMinute: env.number('SEND_RATE_PER_MINUTE', 600, 0.01, 1e9),
    recipientRateBurst: env.int('RECEIVE_RATE_BURST', 1200, 1, 100_000_000),
    recipientRatePerMinute: env.number('RECEIVE_RATE_PER_MINUTE', 1200, 0.01, 1e9),
    // A pair budget well under the recipient's: it takes 5 flooding devices (or addresses) to exhaust RECEIVE_RATE_BURST,
    // 10 to hold RECEIVE_RATE_PER_MINUTE down; a person sending one contact a few hundred messages at once stays within it.
    pairRateBurst: env.int('SEND_PAIR_RATE_BURST', 300, 1, 100_000_000),
    pairRatePerMinute: env.number('SEND_PAIR_RATE_PER_MINUTE', 120, 0.01, 1e9),
    sealedRemoteRateBurst: env.int('SEALED_REMOTE_RATE_BURST', 300, 1, 100_000_000),
    sealedRemoteRatePerMinute: env.number('SEALED_REMOTE_RATE_PER_MINUTE', 120, 0.01, 1e9),
    remoteDestinationRateBurst: env.int('REMOTE_DESTINATION_RATE_BURST', 3000, 1, 100_000_000),
    remoteDestinationRatePerMinute: env.number('REMOTE_DESTINATION_RATE_PER_MINUTE', 3000, 0.01, 1e9),
    queueCapPerDevice: env.int('QUEUE_CAP_PER_DEVICE', 50_000, 1, 100_000_000),
    groupCommitMaxBatch: env.int('GROUP_COMMIT_MAX_BATCH', 256, 1, 10_000),
    groupCommitMaxWaitMs: env.number('GROUP_COMMIT_MAX_WAIT_MS', 2, 0, 1000),
    // bench:relay on 2 cores: 2 concurrent commits gave p99 30 ms where 6 gave 53–56 ms.
    groupCommitMaxConcurrent: env.int('GROUP_COMMIT_MAX_CONCURRENT', 2, 1, 64),
    directoryCacheTtlSeconds: env.int('DIRECTORY_CACHE_TTL_SECONDS', 30, 0, 3600),
    federationHandoffTimeoutMs: env.int('FEDERATION_HANDOFF_TIMEOUT_MS', 30_000, 100, 600_000),
    provisioning: {
      ttlSeconds: env.int('PROVISIONING_TTL_SECONDS', 600, 1, 86400),
      maxMessageBytes: env.int('PROVISIONING_MAX_MESSAGE_BYTES', 64 * 1024, 1, 1024 * 1024),
      maxSockets: env.int('PROVISIONING_MAX_SOCKETS', 10_000, 1, 1_000_000),
      // Linking is rare: 20 sockets at once, then one every 30 s per address (a new device asks again every TTL).
      socketRateBurst: env.int('PROVISIONING_SOCKET_RATE_BURST', 20, 1, 100_000_000),
      socketRatePerMinute: env.number('PROVISIONING_SOCKET_RATE_PER_MINUTE', 2, 0.01, 1e9),
      putRateBurst: env.int('PROVISIONING_PUT_RATE_BURST', 10, 1, 100_000_000),
      putRatePerMinute: env.number('PROVISIONING_PUT_RATE_PER_MINUTE', 1, 0.01, 1e9),
    },
    dbPoolSize: env.int('RELAY_DB_POOL_SIZE', 4 * availableParallelism(), 1, 500),
    dbTimeouts: readDatabaseTimeouts(env, 'RELAY'),
  });
}
