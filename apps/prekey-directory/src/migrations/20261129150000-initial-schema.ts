import type { Migration } from '@sealpost/db';

/** Accounts, devices and their public prekeys. Nothing secret is stored: tokens and codes only as SHA-256. */
export const initialSchema: Migration = {
  name: '20261129150000-initial-schema',
  async up(tx) {
    await tx.query(`
      CREATE TABLE directory.accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        localpart text NOT NULL UNIQUE,
        identity_key bytea NOT NULL,
        unidentified_access_key bytea,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE directory.devices (
        account_id uuid NOT NULL REFERENCES directory.accounts (id) ON DELETE CASCADE,
        device_id smallint NOT NULL CHECK (device_id BETWEEN 1 AND 127),
        registration_id integer NOT NULL,
        token_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, device_id)
      );
      -- Repeated-use keys: kind 1 = signed EC prekey, kind 2 = PQ last-resort prekey; one of each per device.
      CREATE TABLE directory.signed_prekeys (
        account_id uuid NOT NULL,
        device_id smallint NOT NULL,
        kind smallint NOT NULL CHECK (kind IN (1, 2)),
        key_id integer NOT NULL CHECK (key_id >= 0),
        public_key bytea NOT NULL,
        signature bytea NOT NULL,
        PRIMARY KEY (account_id, device_id, kind),
        FOREIGN KEY (account_id, device_id) REFERENCES directory.devices (account_id, device_id) ON DELETE CASCADE
      );
      -- Single-use keys: kind 1 = EC one-time prekey, kind 2 = PQ one-time prekey (signed). Taken by DELETE.
      CREATE TABLE directory.one_time_prekeys (
        account_id uuid NOT NULL,
        device_id smallint NOT NULL,
        kind smallint NOT NULL CHECK (kind IN (1, 2)),
        key_id integer NOT NULL CHECK (key_id >= 0),
        public_key bytea NOT NULL,
        signature bytea,
        PRIMARY KEY (account_id, device_id, kind, key_id),
        FOREIGN KEY (account_id, device_id) REFERENCES directory.devices (account_id, device_id) ON DELETE CASCADE
      );
      CREATE TABLE directory.registration_tokens (
        id bigserial PRIMARY KEY,
        token_hash bytea NOT NULL UNIQUE,
        uses_left integer NOT NULL CHECK (uses_left >= 0),
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE directory.link_codes (
        code_hash bytea PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES directory.accounts (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX link_codes_expiry ON directory.link_codes (expires_at);
    `);
  },
  async down(tx) {
    await tx.query(`
      DROP TABLE directory.link_codes;
      DROP TABLE directory.registration_tokens;
      DROP TABLE directory.one_time_prekeys;
      DROP TABLE directory.signed_prekeys;
      DROP TABLE directory.devices;
      DROP TABLE directory.accounts;
    `);
  },
};
