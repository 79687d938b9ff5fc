import type { Migration } from '@sealpost/db';

/**
 * Public halves of this server's signing keys (the private halves are files in KEYS_DIR),
 * pinned keys of peers, and the durable outbox with per-destination backoff.
 */
export const federationSchema: Migration = {
  name: '20261129170000-federation',
  async up(tx) {
    await tx.query(`
      CREATE TABLE federation.server_keys (
        key_id text PRIMARY KEY,
        public_key bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        valid_until timestamptz NOT NULL,
        retired_at timestamptz
      );
      CREATE TABLE federation.peer_keys (
        server text NOT NULL,
        key_id text NOT NULL,
        public_key bytea NOT NULL,
        valid_until timestamptz NOT NULL,
        first_seen timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (server, key_id)
      );
      CREATE TABLE federation.outbox (
        id uuid PRIMARY KEY,
        destination text NOT NULL,
        delivery jsonb NOT NULL,
        sender_account_id uuid,
        sender_device_id smallint,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_destination ON federation.outbox (destination, created_at);
      CREATE TABLE federation.destinations (
        destination text PRIMARY KEY,
        failures integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_attempt_at timestamptz,
        last_error text
      );
    `);
  },
  async down(tx) {
    await tx.query(
      `DROP TABLE federation.destinations; DROP TABLE federation.outbox; DROP TABLE federation.peer_keys; DROP TABLE federation.server_keys;`,
    );
  },
};
