import type { Migration } from '@sealpost/db';

/**
 * Bounds on the outbox (issue 9): each row's size, and per destination a backlog row holding the
 * bytes queued for it and when it was created. Statement triggers keep the byte count in step
 * with every insert and delete of outbox rows, in the same transaction, whatever path deletes
 * them (delivered, refused, expired, dropped by an operator).
 */
export const outboxBacklog: Migration = {
  name: '20261201120000-outbox-backlog',
  async up(tx) {
    await tx.query(`
      ALTER TABLE federation.outbox ADD COLUMN bytes integer NOT NULL DEFAULT 0;
      UPDATE federation.outbox SET bytes = octet_length(delivery::text);
      CREATE TABLE federation.outbox_backlog (
        destination text PRIMARY KEY,
        bytes bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_backlog_created ON federation.outbox_backlog (created_at);
      INSERT INTO federation.outbox_backlog (destination, bytes)
        SELECT destination, sum(bytes) FROM federation.outbox GROUP BY destination;
      CREATE FUNCTION federation.outbox_backlog_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO federation.outbox_backlog AS b (destination, bytes)
          SELECT destination, sum(bytes) FROM inserted GROUP BY destination
          ON CONFLICT (destination) DO UPDATE SET bytes = b.bytes + excluded.bytes;
        RETURN NULL;
      END $$;
      CREATE FUNCTION federation.outbox_backlog_removed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE federation.outbox_backlog b SET bytes = greatest(0, b.bytes - d.bytes)
          FROM (SELECT destination, sum(bytes) AS bytes FROM removed GROUP BY destination) d
          WHERE b.destination = d.destination;
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_backlog_added AFTER INSERT ON federation.outbox
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION federation.outbox_backlog_added();
      CREATE TRIGGER outbox_backlog_removed AFTER DELETE ON federation.outbox
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION federation.outbox_backlog_removed();
    `);
  },
  async down(tx) {
    await tx.query(`
      DROP TRIGGER outbox_backlog_added ON federation.outbox;
      DROP TRIGGER outbox_backlog_removed ON federation.outbox;
      DROP FUNCTION federation.outbox_backlog_added();
      DROP FUNCTION federation.outbox_backlog_removed();
      DROP TABLE federation.outbox_backlog;
      ALTER TABLE federation.outbox DROP COLUMN bytes;
    `);
  },
};
