import type { Migration } from '@sealpost/db';

/**
 * Durable per-device queues of sealed envelopes. `device_queues.next_seq` is taken under the
 * row lock of the enqueuing transaction, so per device the commit order is the seq order and a
 * reader can follow `seq > last seen` without missing a late commit.
 */
export const envelopeQueues: Migration = {
  name: '20261129160000-envelope-queues',
  async up(tx) {
    await tx.query(`
      CREATE TABLE relay.device_queues (
        account_id uuid NOT NULL,
        device_id smallint NOT NULL,
        next_seq bigint NOT NULL,
        PRIMARY KEY (account_id, device_id)
      );
      CREATE TABLE relay.envelopes (
        account_id uuid NOT NULL,
        device_id smallint NOT NULL,
        seq bigint NOT NULL,
        id uuid NOT NULL,
        type smallint NOT NULL,
        source text,
        source_device smallint,
        client_timestamp bigint NOT NULL,
        server_timestamp bigint NOT NULL,
        content bytea NOT NULL,
        PRIMARY KEY (account_id, device_id, seq)
      );
      CREATE UNIQUE INDEX envelopes_id ON relay.envelopes (account_id, device_id, id);
      CREATE INDEX envelopes_expiry ON relay.envelopes (server_timestamp);
      CREATE TABLE relay.idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      );
      CREATE INDEX idempotency_keys_age ON relay.idempotency_keys (created_at);
    `);
  },
  async down(tx) {
    await tx.query(`DROP TABLE relay.idempotency_keys; DROP TABLE relay.envelopes; DROP TABLE relay.device_queues;`);
  },
};
