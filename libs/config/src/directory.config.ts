import { availableParallelism } from 'node:os';
import { CommonConfig, readCommonConfig } from './common.config';
import { DatabaseTimeouts, readDatabaseTimeouts } from './database.config';
import { Env, EnvReader } from './env-reader';
import { requireBodyWithinBudget } from './http-limits.config';

export interface DirectoryConfig extends CommonConfig {
  port: number;
  /** Anyone may register without a registration token. Off by default. */
  openRegistration: boolean;
  /** A fixed registration token with unlimited uses (demos, tests); unset by default. */
  staticRegistrationToken?: string;
  linkCodeTtlSeconds: number;
  /** Below this many unused one-time keys (EC or PQ) a device is told to upload more. */
  prekeyLowThreshold: number;
  /** Token bucket per requester → target account for bundle claims. */
  claimRateBurst: number;
  claimRatePerMinute: number;
  /** Registration attempts per client address (token bucket): a burst, then this many per hour. */
  registrationRateBurst: number;
  registrationRatePerHour: number;
  maxBodyBytes: number;
  /** Most one-time keys of one kind a single upload may carry. */
  maxPreKeysPerUpload: number;
  dbPoolSize: number;
  /** Bounds on every wait for Postgres (DB_* / DIRECTORY_DB_*). */
  dbTimeouts: DatabaseTimeouts;
  /** A signed tree head of the transparency log at least this often. */
  ktEpochSeconds: number;
  /**
   * How soon a logged record becomes provable: every replica checks this often whether the log
   * grew past the latest signed head and, if so, signs a covering one (one signer at a time).
   */
  ktPromptHeadMs: number;
}

export function loadDirectoryConfig(source: Env = process.env): DirectoryConfig {
  const env = new EnvReader(source);
  const common = readCommonConfig(env);
  const maxBodyBytes = env.int('DIRECTORY_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024);
  requireBodyWithinBudget(env, common.http, maxBodyBytes, 'DIRECTORY_MAX_BODY_BYTES');
  return env.finish({
    ...common,
    port: env.int('DIRECTORY_PORT', 8081, 0, 65535),
    openRegistration: env.bool('OPEN_REGISTRATION', false),
    staticRegistrationToken: env.optionalString('REGISTRATION_TOKEN', { secret: true }),
    linkCodeTtlSeconds: env.int('LINK_CODE_TTL_SECONDS', 600, 10, 86400),
    prekeyLowThreshold: env.int('PREKEY_LOW_THRESHOLD', 10, 0, 10000),
    claimRateBurst: env.int('CLAIM_RATE_BURST', 60, 1, 10_000_000),
    claimRatePerMinute: env.number('CLAIM_RATE_PER_MINUTE', 60, 0.01, 100_000_000),
    registrationRateBurst: env.int('REGISTRATION_RATE_BURST', 20, 1, 1_000_000_000),
    registrationRatePerHour: env.number('REGISTRATION_RATE_PER_HOUR', 20, 0.01, 1_000_000_000),
    maxBodyBytes,
    maxPreKeysPerUpload: env.int('MAX_PREKEYS_PER_UPLOAD', 100, 1, 1000),
    // Postgres usually shares the cores: 4 connections per core measured best (bench:directory, 2 cores: 8 → 3,231 claims/s, 20 → 2,870).
    ktEpochSeconds: env.number('KT_EPOCH_SECONDS', 60, 0.1, 86400),
    // bench:kt at 10^6 leaves: signing a covering head costs a few ms; once a second keeps kt_heads to ≤ 86,400 rows a day.
    ktPromptHeadMs: env.int('KT_PROMPT_HEAD_MS', 1000, 20, 60_000),
    dbPoolSize: env.int('DIRECTORY_DB_POOL_SIZE', 4 * availableParallelism(), 1, 500),
    dbTimeouts: readDatabaseTimeouts(env, 'DIRECTORY'),
  });
}
