import type { Migration } from '@sealpost/db';

/**
 * Servers that proved to be Sealpost peers: they answered one of our signed requests with 2xx, or
 * signed a request we verified. Only these (and the static peer map) are key-transparency gossip
 * peers; a name that merely appeared in a send is not.
 */
export const provenPeers: Migration = {
  name: '20261202120000-proven-peers',
  async up(tx) {
    await tx.query(`
      CREATE TABLE federation.proven_peers (
        server text PRIMARY KEY,
        first_proven_at timestamptz NOT NULL DEFAULT now(),
        last_proven_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  },
  async down(tx) {
    await tx.query(`DROP TABLE federation.proven_peers;`);
  },
};
