/**
 * Recognises the errors that mean "Postgres cannot be reached or did not answer in time" —
 * as opposed to a bug or a constraint violation. They are answered 503 (retry later), not 500,
 * and logged once per outage (PostgresAvailability), not once per request.
 */

/** Node socket errors on the way to Postgres. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Postgres SQLSTATEs: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
 * 57014 query_canceled (statement_timeout), 53300 too_many_connections, 25P03
 * idle_in_transaction_session_timeout; class 08 is connection_exception.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300', '25P03']);

/** Texts pg and pg-pool give errors that carry no code. */
const MESSAGES = [
  'Connection terminated', // the server closed the socket (restart), or connectionTimeoutMillis while connecting
  'timeout exceeded when trying to connect', // pg-pool: no connection within connectionTimeoutMillis
  'Query read timeout', // pg: query_timeout
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return typeof message === 'string' && MESSAGES.some((m) => message.includes(m));
}

/**
 * A short, data-free name for the failure, for the one log line of an outage: the code when
 * there is one, else which of the known texts matched. Never the query or its parameters.
 */
export function unavailabilityReason(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && code) return code;
  const known = typeof message === 'string' ? MESSAGES.find((m) => message.includes(m)) : undefined;
  return known ?? 'unknown';
}
