import { CommonConfig, readCommonConfig } from './common.config';
import { DatabaseTimeouts, readDatabaseTimeouts } from './database.config';
import { Env, EnvReader } from './env-reader';
import { requireBodyWithinBudget } from './http-limits.config';

export interface GatewayConfig extends CommonConfig {
  port: number;
  /** Base URL under which clients and peers reach this homeserver (serves /.well-known/sealpost). */
  publicUrl: string;
  directoryUrl: string;
  relayUrl: string;
  /** Static peer map `server=baseUrl,…`, used before discovery over https (tests use loopback URLs). */
  peers: Map<string, string>;
  /** Allow outbound federation requests to loopback/private addresses (SSRF guard off). */
  allowPrivatePeers: boolean;
  /** Only these origins may federate (empty = any); these never may. */
  allowOrigins: Set<string>;
  denyOrigins: Set<string>;
  /** Accepted clock skew of a request's `created`, seconds. */
  signatureMaxSkewSeconds: number;
  /** Per-origin token bucket and cap on concurrent inbound requests. */
  originRateBurst: number;
  originRatePerMinute: number;
  originMaxConcurrent: number;
  /** Outbox: first retry delay, largest delay, and how long to keep trying before telling the sender. */
  retryBaseMs: number;
  retryMaxMs: number;
  outboxMaxAgeSeconds: number;
  /** Bytes queued for one destination, at most; past it a delivery is refused 429 outbox_full. */
  outboxMaxBytesPerDestination: number;
  /** Destinations that may get a new outbox backlog per hour (peers with pinned keys excepted); past it 429 too_many_destinations. */
  outboxNewDestinationsPerHour: number;
  /** How often each replica sweeps Postgres for destinations whose retry is due (retries survive a Redis wipe). */
  outboxSweepMs: number;
  /** Most envelopes in one signed delivery request, longest wait to fill one, and requests in flight per destination. */
  deliveryBatchSize: number;
  deliveryBatchWaitMs: number;
  deliveryMaxRequestsInFlight: number;
  /** Lifetime of a server signing key before rotation is due. */
  serverKeyValiditySeconds: number;
  /** Bearer token for the JSON admin endpoint `/admin/federation/*`; unset = endpoint off. */
  adminToken?: string;
  requestTimeoutMs: number;
  dbPoolSize: number;
  /** Bounds on every wait for Postgres (DB_* / GATEWAY_DB_*). */
  dbTimeouts: DatabaseTimeouts;
  /** How often each peer's signed tree head is fetched and checked (also on federation contact). */
  ktGossipIntervalSeconds: number;
  /** Abuse limits of the inbound path and of what is read from peers (docs/OPERATIONS.md, Abuse). */
  federationLimits: FederationLimits;
}

export interface FederationLimits {
  /** Largest decoded `content` of one envelope in transit (FEDERATION_MAX_ENVELOPE_BYTES). */
  maxEnvelopeBytes: number;
  /** Most envelopes (messages) one inbound request may carry, all deliveries together. */
  maxEnvelopesPerRequest: number;
  /** Body cap of `PUT /federation/v1/messages` (derived from the two above unless set). */
  maxBatchBodyBytes: number;
  /** Body cap of `PUT /federation/v1/messages/{address}` (one delivery). */
  maxDeliveryBodyBytes: number;
  /** Largest answer body read from a peer (discovery, server keys, claims, results, KT). */
  peerAnswerMaxBytes: number;
  /** Key lookups of origins without a usable pinned key running at once, all origins together. */
  keyDiscoveryMaxConcurrent: number;
  /** How long a failed key lookup of an origin with no pinned key is remembered (no new lookup meanwhile). */
  keyDiscoveryNegativeTtlSeconds: number;
  /** Origins whose key lookups and pins are cached in memory (least recently used dropped first). */
  keyCacheMaxEntries: number;
  /**
   * Longest wait, on the send path, for a destination never heard from to show it is a server
   * that answers (discovery and a probe together); past it the send is refused 503 and the
   * destination remembered as unanswered for the negative TTL.
   */
  resolveTimeoutMs: number;
  /** Such checks of destinations never heard from running at once; beyond it 503 `resolution_busy`. */
  resolveMaxConcurrent: number;
}

/** Base64 of `bytes` plus the JSON around one message ({deviceId, registrationId, type, content}). */
const messageJsonBytes = (bytes: number) => Math.ceil(bytes / 3) * 4 + 256;
/** JSON of a delivery apart from its messages (id, address, timestamp, source, access key hash…). */
const DELIVERY_OVERHEAD_BYTES = 1024;

function readFederationLimits(env: EnvReader): FederationLimits {
  const maxEnvelopeBytes = env.int('FEDERATION_MAX_ENVELOPE_BYTES', 256 * 1024, 1, 64 * 1024 * 1024);
  const maxEnvelopesPerRequest = env.int('FEDERATION_MAX_ENVELOPES_PER_REQUEST', 128, 1, 100_000);
  const derivedBatch = maxEnvelopesPerRequest * (messageJsonBytes(maxEnvelopeBytes) + DELIVERY_OVERHEAD_BYTES);
  return {
    maxEnvelopeBytes,
    maxEnvelopesPerRequest,
    maxBatchBodyBytes: env.int('FEDERATION_MAX_BATCH_BODY_BYTES', derivedBatch, 1024, 1024 * 1024 * 1024),
    maxDeliveryBodyBytes: Math.min(derivedBatch, 128 * messageJsonBytes(maxEnvelopeBytes) + DELIVERY_OVERHEAD_BYTES),
    peerAnswerMaxBytes: env.int('FEDERATION_PEER_ANSWER_MAX_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    keyDiscoveryMaxConcurrent: env.int('FEDERATION_KEY_DISCOVERY_MAX_CONCURRENT', 8, 1, 10_000),
    keyDiscoveryNegativeTtlSeconds: env.number('FEDERATION_KEY_DISCOVERY_NEGATIVE_TTL_SECONDS', 60, 0.1, 86_400),
    keyCacheMaxEntries: env.int('FEDERATION_KEY_CACHE_MAX_ENTRIES', 10_000, 10, 10_000_000),
    resolveTimeoutMs: env.int('FEDERATION_RESOLVE_TIMEOUT_MS', 3000, 100, 60_000),
    resolveMaxConcurrent: env.int('FEDERATION_RESOLVE_MAX_CONCURRENT', 32, 1, 10_000),
  };
}

function parsePeers(env: EnvReader, raw: string | undefined): Map<string, string> {
  const peers = new Map<string, string>();
  if (!raw) return peers;
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [server, url] = entry.split('=');
    try {
      const parsed = new URL(url);
      if (!server || !['http:', 'https:'].includes(parsed.protocol)) throw new Error();
      peers.set(server.trim(), url.trim().replace(/\/$/, ''));
    } catch {
      env.report(`FEDERATION_PEERS must be server=URL pairs separated by commas (bad entry "${entry}")`);
    }
  }
  return peers;
}

const list = (raw: string | undefined) =>
  new Set(
    (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export function loadGatewayConfig(source: Env = process.env): GatewayConfig {
  const env = new EnvReader(source);
  const common = readCommonConfig(env);
  const port = env.int('GATEWAY_PORT', 8080, 0, 65535);
  const local = (p: number) => `http://${common.host === '0.0.0.0' ? '127.0.0.1' : common.host}:${p}`;
  const publicUrl = env.url('PUBLIC_URL', local(port), ['http:', 'https:']);
  const requestTimeoutMs = env.int('FEDERATION_REQUEST_TIMEOUT_MS', 10_000, 100, 120_000);
  const dbTimeouts = readDatabaseTimeouts(env, 'GATEWAY');
  // An outbox flush holds its transaction (row locks) across one federation request.
  if (dbTimeouts.idleInTransactionTimeoutMs > 0 && dbTimeouts.idleInTransactionTimeoutMs <= requestTimeoutMs) {
    env.report(
      `GATEWAY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS / DB_IDLE_IN_TRANSACTION_TIMEOUT_MS (${dbTimeouts.idleInTransactionTimeoutMs}) must be above FEDERATION_REQUEST_TIMEOUT_MS (${requestTimeoutMs}): an outbox flush holds its transaction across one federation request`,
    );
  }
  const federationLimits = readFederationLimits(env);
  requireBodyWithinBudget(
    env,
    common.http,
    Math.max(federationLimits.maxBatchBodyBytes, federationLimits.maxDeliveryBodyBytes),
    'FEDERATION_MAX_BATCH_BODY_BYTES (or the per-delivery cap derived from the envelope limits)',
  );
  return env.finish({
    ...common,
    port,
    publicUrl: publicUrl.replace(/\/$/, ''),
    directoryUrl: env.url('PUBLIC_DIRECTORY_URL', local(env.int('DIRECTORY_PORT', 8081, 0, 65535)), ['http:', 'https:']).replace(/\/$/, ''),
    relayUrl: env.url('PUBLIC_RELAY_URL', local(env.int('RELAY_PORT', 8082, 0, 65535)), ['http:', 'https:']).replace(/\/$/, ''),
    peers: parsePeers(env, env.optionalString('FEDERATION_PEERS')),
    allowPrivatePeers: env.bool('FEDERATION_ALLOW_PRIVATE_PEERS', false),
    allowOrigins: list(env.optionalString('FEDERATION_ALLOW_ORIGINS')),
    denyOrigins: list(env.optionalString('FEDERATION_DENY_ORIGINS')),
    signatureMaxSkewSeconds: env.int('FEDERATION_SIGNATURE_MAX_SKEW_SECONDS', 60, 1, 3600),
    originRateBurst: env.int('FEDERATION_ORIGIN_RATE_BURST', 20000, 1, 1e9),
    originRatePerMinute: env.number('FEDERATION_ORIGIN_RATE_PER_MINUTE', 600000, 0.01, 1e12),
    originMaxConcurrent: env.int('FEDERATION_ORIGIN_MAX_CONCURRENT', 64, 1, 100000),
    retryBaseMs: env.int('FEDERATION_RETRY_BASE_MS', 1000, 10, 3_600_000),
    retryMaxMs: env.int('FEDERATION_RETRY_MAX_MS', 60_000, 10, 86_400_000),
    outboxMaxAgeSeconds: env.int('FEDERATION_OUTBOX_MAX_AGE_SECONDS', 7 * 86400, 1, 365 * 86400),
    outboxMaxBytesPerDestination: env.int(
      'FEDERATION_OUTBOX_MAX_BYTES_PER_DESTINATION',
      256 * 1024 * 1024,
      1024,
      1024 * 1024 * 1024 * 1024,
    ),
    outboxNewDestinationsPerHour: env.int('FEDERATION_OUTBOX_NEW_DESTINATIONS_PER_HOUR', 100, 1, 1_000_000),
    outboxSweepMs: env.int('FEDERATION_OUTBOX_SWEEP_MS', 5000, 100, 600_000),
    deliveryBatchSize: env.int('FEDERATION_DELIVERY_BATCH_SIZE', 100, 1, 1000),
    deliveryBatchWaitMs: env.number('FEDERATION_DELIVERY_BATCH_WAIT_MS', 5, 0, 1000),
    deliveryMaxRequestsInFlight: env.int('FEDERATION_DELIVERY_MAX_IN_FLIGHT', 8, 1, 256),
    serverKeyValiditySeconds: env.int('SERVER_KEY_VALIDITY_SECONDS', 90 * 86400, 60, 10 * 365 * 86400),
    adminToken: env.optionalString('ADMIN_TOKEN', { secret: true }),
    requestTimeoutMs,
    dbPoolSize: env.int('GATEWAY_DB_POOL_SIZE', 8, 1, 500),
    dbTimeouts,
    ktGossipIntervalSeconds: env.number('KT_GOSSIP_INTERVAL_SECONDS', 60, 0.1, 86400),
    federationLimits,
  });
}
