import { EnvReader } from './env-reader';

/**
 * Bounds on every wait for Postgres, so that a frozen, restarting or overloaded database gives
 * a prompt 503 instead of a request that hangs. Each is read from `DB_<NAME>` (all services)
 * and may be overridden per service with `<SERVICE>_DB_<NAME>` (e.g. `RELAY_DB_QUERY_TIMEOUT_MS`),
 * like the pool sizes. 0 turns a timeout off (not allowed for connecting).
 */
export interface DatabaseTimeouts {
  /** Postgres cancels a statement running longer (`statement_timeout`, answered 57014). */
  statementTimeoutMs: number;
  /**
   * The client stops waiting for a query's answer (pg `query_timeout`): covers a frozen or
   * cut-off server, where statement_timeout cannot fire. Kept above statementTimeoutMs so a
   * merely slow statement is cancelled by the server first.
   */
  queryTimeoutMs: number;
  /** Longest wait for a connection: opening one, or waiting for a free one in the pool. */
  connectTimeoutMs: number;
  /** Postgres ends a session idle inside a transaction for longer. */
  idleInTransactionTimeoutMs: number;
  /** TCP keep-alive probes start after this much idle time (finds dead peers and NAT drops). */
  keepAliveInitialDelayMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  statementTimeoutMs: 5000,
  queryTimeoutMs: 6000,
  connectTimeoutMs: 5000,
  idleInTransactionTimeoutMs: 15_000,
  keepAliveInitialDelayMs: 10_000,
};

const HOUR_MS = 3_600_000;

export function readDatabaseTimeouts(env: EnvReader, service: 'DIRECTORY' | 'RELAY' | 'GATEWAY'): DatabaseTimeouts {
  const read = (name: string, fallback: number, min: number) =>
    env.int(`${service}_DB_${name}`, env.int(`DB_${name}`, fallback, min, HOUR_MS), min, HOUR_MS);
  const timeouts: DatabaseTimeouts = {
    statementTimeoutMs: read('STATEMENT_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs, 0),
    queryTimeoutMs: read('QUERY_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.queryTimeoutMs, 0),
    connectTimeoutMs: read('CONNECT_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.connectTimeoutMs, 1),
    idleInTransactionTimeoutMs: read('IDLE_IN_TRANSACTION_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.idleInTransactionTimeoutMs, 0),
    keepAliveInitialDelayMs: read('KEEPALIVE_INITIAL_DELAY_MS', DEFAULT_DATABASE_TIMEOUTS.keepAliveInitialDelayMs, 0),
  };
  if (timeouts.queryTimeoutMs > 0 && timeouts.statementTimeoutMs > 0 && timeouts.queryTimeoutMs <= timeouts.statementTimeoutMs) {
    env.report(
      `DB_QUERY_TIMEOUT_MS (${timeouts.queryTimeoutMs}) must be above DB_STATEMENT_TIMEOUT_MS (${timeouts.statementTimeoutMs}), so the server cancels a slow statement first`,
    );
  }
  return timeouts;
}

/** How long /healthz waits for each dependency before answering 503 (`HEALTH_CHECK_TIMEOUT_MS`). */
export function readHealthCheckTimeoutMs(env: EnvReader): number {
  return env.int('HEALTH_CHECK_TIMEOUT_MS', 800, 50, 10_000);
}
