/**
 * Relay rate limits raised out of reach, for loads, benches and fault suites that measure
 * delivery, not token buckets: every send, receive, per-pair and sealed-remote budget of the
 * relay, and the cap on requests in flight per client address (a load generator is a few
 * loopback addresses).
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

/**
 * Limits of a spawned homeserver raised out of the load's way: it measures delivery, and every
 * account and socket of the run comes from a few loopback addresses.
 */
export const LOAD_ENV: Record<string, string> = {
  ...UNLIMITED_RELAY_RATES,
  OPEN_REGISTRATION: 'true',
  REGISTRATION_RATE_BURST: '1000000000',
  REGISTRATION_RATE_PER_HOUR: '1000000000',
  CLAIM_RATE_BURST: '10000000',
  CLAIM_RATE_PER_MINUTE: '100000000',
  PROVISIONING_SOCKET_RATE_BURST: '100000000',
  PROVISIONING_SOCKET_RATE_PER_MINUTE: '1000000000',
  PROVISIONING_PUT_RATE_BURST: '100000000',
  PROVISIONING_PUT_RATE_PER_MINUTE: '1000000000',
  KT_EPOCH_SECONDS: '1',
  LOG_LEVEL: 'warn',
};
