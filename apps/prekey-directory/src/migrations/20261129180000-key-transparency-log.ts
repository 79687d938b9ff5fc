import type { Migration } from '@sealpost/db';

/**
 * The key-transparency log (RFC 9162 hashing): one leaf per device-list record, the hashes of
 * every complete perfect subtree (so roots and proofs read O(log n) rows), and signed tree heads.
 * `kt_state` holds the tree size; appends lock its one row, so leaf indexes never collide.
 */
export const keyTransparencyLog: Migration = {
  name: '20261129180000-key-transparency-log',
  async up(tx) {
    await tx.query(`
      CREATE TABLE directory.kt_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        tree_size bigint NOT NULL
      );
      INSERT INTO directory.kt_state (tree_size) VALUES (0);
      CREATE TABLE directory.kt_leaves (
        leaf_index bigint PRIMARY KEY,
        address text NOT NULL,
        version integer NOT NULL,
        record bytea NOT NULL,
        leaf_hash bytea NOT NULL,
        UNIQUE (address, version)
      );
      CREATE TABLE directory.kt_nodes (
        level smallint NOT NULL,
        idx bigint NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (level, idx)
      );
      CREATE TABLE directory.kt_heads (
        tree_size bigint PRIMARY KEY,
        root_hash bytea NOT NULL,
        timestamp bigint NOT NULL,
        signature bytea NOT NULL,
        key_id text NOT NULL
      );
    `);
  },
  async down(tx) {
    await tx.query(
      `DROP TABLE directory.kt_heads; DROP TABLE directory.kt_nodes; DROP TABLE directory.kt_leaves; DROP TABLE directory.kt_state;`,
    );
  },
};
