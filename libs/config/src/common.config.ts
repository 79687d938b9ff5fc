import { readHealthCheckTimeoutMs } from './database.config';
import { EnvReader } from './env-reader';
import { HttpLimits, readHttpLimits } from './http-limits.config';

/** What every Sealpost service needs: who it is, where Redis and Postgres are. */
export interface CommonConfig {
  serverName: string;
  redisUrl: string;
  databaseUrl: string;
  /** Prefix for every Redis key and BullMQ queue of this homeserver (several can share one Redis). */
  redisPrefix: string;
  host: string;
  logLevel: 'error' | 'warn' | 'log' | 'debug';
  /** `json`: one JSON object per line (for log collectors); `text`: Nest's readable lines. */
  logFormat: 'text' | 'json';
  /** Folder of this homeserver's private server keys (files, 0600): never in Postgres or Redis. */
  keysDir: string;
  /**
   * Which X-Forwarded-For hops to believe for the client address (Fastify `trustProxy`): false
   * (none: the TCP peer is the client), a hop count, or a list of proxy addresses / CIDRs.
   */
  trustProxy: boolean | number | string[];
  /** /healthz waits at most this long for each dependency, then answers 503 (`HEALTH_CHECK_TIMEOUT_MS`). */
  healthCheckTimeoutMs: number;
  /** Timeouts and the per-client cap on requests in flight (HTTP_*), the same for every service. */
  http: HttpLimits;
}

export const SERVER_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sealpost';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function readCommonConfig(env: EnvReader): CommonConfig {
  const serverName = env.string('SERVER_NAME', 'localhost', {
    pattern: SERVER_NAME_PATTERN,
    hint: 'a lower-case DNS-style name such as alpha.example',
  });
  const logLevel = env.string('LOG_LEVEL', 'log', { pattern: /^(error|warn|log|debug)$/, hint: 'error|warn|log|debug' });
  return {
    serverName,
    redisUrl: env.url('REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:'], { secret: true }),
    databaseUrl: env.url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:'], { secret: true }),
    // The default is derived from SERVER_NAME; when that is already reported bad, don't blame the prefix too.
    redisPrefix: env.string('REDIS_PREFIX', `sp:${SERVER_NAME_PATTERN.test(serverName) ? serverName : 'invalid'}:`, {
      pattern: /^[A-Za-z0-9:._-]{1,300}$/,
    }),
    host: env.string('BIND_HOST', '127.0.0.1'),
    logLevel: logLevel as CommonConfig['logLevel'],
    logFormat: env.string('LOG_FORMAT', 'text', { pattern: /^(text|json)$/, hint: 'text|json' }) as CommonConfig['logFormat'],
    keysDir: env.string('KEYS_DIR', `var/keys/${SERVER_NAME_PATTERN.test(serverName) ? serverName : 'invalid'}`),
    trustProxy: parseTrustProxy(
      env.string('TRUST_PROXY', 'false', {
        pattern: /^(false|[0-9]{1,2}|[0-9a-fA-F:.\/]+(,[0-9a-fA-F:.\/]+)*)$/,
        hint: 'false, a hop count, or a comma list of proxy addresses/CIDRs',
      }),
    ),
    healthCheckTimeoutMs: readHealthCheckTimeoutMs(env),
    http: readHttpLimits(env),
  };
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'false') return false;
  if (/^[0-9]{1,2}$/.test(value)) return Number(value);
  return value.split(',');
}
