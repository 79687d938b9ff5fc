import type { Migration } from '@sealpost/db';

/** The UTC day a device last authenticated: a day, not a time, so it says little about its owner's habits. */
export const deviceLastSeen: Migration = {
  name: '20261129190000-device-last-seen',
  async up(tx) {
    await tx.query(`ALTER TABLE directory.devices ADD COLUMN last_seen_on date`);
  },
  async down(tx) {
    await tx.query(`ALTER TABLE directory.devices DROP COLUMN last_seen_on`);
  },
};
