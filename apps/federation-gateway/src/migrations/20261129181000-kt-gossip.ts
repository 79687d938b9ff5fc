import type { Migration } from '@sealpost/db';

/** Peers' signed tree heads as observed, their pinned tree-head keys, and evidence of equivocation. */
export const ktGossip: Migration = {
  name: '20261129181000-kt-gossip',
  async up(tx) {
    await tx.query(`
      CREATE TABLE federation.peer_kt_keys (
        server text PRIMARY KEY,
        key_id text NOT NULL,
        public_key bytea NOT NULL,
        first_seen timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE federation.kt_observed_heads (
        server text NOT NULL,
        tree_size bigint NOT NULL,
        root_hash bytea NOT NULL,
        head jsonb NOT NULL,
        -- false: kept only as part of evidence, never as the basis for later checks
        consistent boolean NOT NULL,
        observed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (server, tree_size, root_hash)
      );
      CREATE TABLE federation.kt_evidence (
        id bigserial PRIMARY KEY,
        server text NOT NULL,
        kept_head jsonb NOT NULL,
        conflicting_head jsonb NOT NULL,
        reason text NOT NULL,
        detected_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  },
  async down(tx) {
    await tx.query(`DROP TABLE federation.kt_evidence; DROP TABLE federation.kt_observed_heads; DROP TABLE federation.peer_kt_keys;`);
  },
};
