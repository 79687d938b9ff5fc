/**
 * Relay rate limits raised out of reach, for benches and fault suites that measure delivery, not
 * token buckets: every send, receive, per-pair and sealed-remote budget of the relay, and the cap
 * on requests in flight per client address (every load generator here is one loopback address).
 */
export const UNLIMITED_RELAY_RATES: Readonly<Record<string, string>> = {
  SEND_RATE_BURST: '100000000',
  SEND_RATE_PER_MINUTE: '1000000000',
  RECEIVE_RATE_BURST: '100000000',
  RECEIVE_RATE_PER_MINUTE: '1000000000',
  SEND_PAIR_RATE_BURST: '100000000',
  SEND_PAIR_RATE_PER_MINUTE: '1000000000',
  SEALED_REMOTE_RATE_BURST: '100000000',
  SEALED_REMOTE_RATE_PER_MINUTE: '1000000000',
  REMOTE_DESTINATION_RATE_BURST: '100000000',
  REMOTE_DESTINATION_RATE_PER_MINUTE: '1000000000',
  HTTP_MAX_REQUESTS_PER_CLIENT: '1000000',
};
