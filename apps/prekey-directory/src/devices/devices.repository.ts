import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL, Queryable, namedStatement, queryOne } from '@sealpost/db';

const INSERT_DEVICE = `
  INSERT INTO directory.devices (account_id, device_id, registration_id, token_hash) VALUES ($1, $2, $3, $4)`;
// The lowest free device id above 1 (the caller holds the account's change lock).
const NEXT_FREE_DEVICE_ID = `
  SELECT min(candidate)::int AS device_id FROM generate_series(2, 127) AS candidate
  WHERE NOT EXISTS (SELECT 1 FROM directory.devices d WHERE d.account_id = $1 AND d.device_id = candidate)`;
const FIND_PRINCIPAL = namedStatement(
  'directory.devices.find-principal',
  `
  SELECT d.account_id, d.device_id, a.localpart, a.identity_key
  FROM directory.devices d JOIN directory.accounts a ON a.id = d.account_id
  WHERE d.token_hash = $1`,
);
const LIST_DEVICES = `
  SELECT device_id, registration_id, created_at, to_char(last_seen_on, 'YYYY-MM-DD') AS last_seen_on
  FROM directory.devices WHERE account_id = $1 ORDER BY device_id`;
// Writes at most once per device per day: the row is left alone when the day is already stored.
const MARK_SEEN = `
  UPDATE directory.devices SET last_seen_on = $3::date
  WHERE account_id = $1 AND device_id = $2 AND last_seen_on IS DISTINCT FROM $3::date`;
const SET_REGISTRATION_ID = `UPDATE directory.devices SET registration_id = $3 WHERE account_id = $1 AND device_id = $2`;
const DELETE_DEVICE = `DELETE FROM directory.devices WHERE account_id = $1 AND device_id = $2`;
const DELETE_ALL_DEVICES = `DELETE FROM directory.devices WHERE account_id = $1 RETURNING device_id`;
const DEVICE_LIST_BY_ACCOUNT = `
  SELECT a.localpart, a.identity_key, d.device_id, d.registration_id
  FROM directory.accounts a LEFT JOIN directory.devices d ON d.account_id = a.id
  WHERE a.id = $1 ORDER BY d.device_id`;
const DEVICE_LIST_BY_LOCALPART = `
  SELECT a.id AS account_id, a.identity_key, a.unidentified_access_key_sealed, d.device_id, d.registration_id
  FROM directory.accounts a JOIN directory.devices d ON d.account_id = a.id
  WHERE a.localpart = $1 ORDER BY d.device_id`;

/** The authenticated caller: one device of one account. */
export interface DevicePrincipal {
  accountId: string;
  deviceId: number;
  localpart: string;
  identityKey: Buffer;
}

export interface DeviceInfo {
  deviceId: number;
  registrationId: number;
  createdAt: Date;
  /** UTC day (YYYY-MM-DD) the device last authenticated, or null before the first time. */
  lastSeenOn: string | null;
}

export interface AccountDeviceList {
  accountId: string;
  identityKey: Buffer;
  /** Sealed by `UnidentifiedAccessKeyVault` (never the raw key), or null. */
  unidentifiedAccessKeySealed: Buffer | null;
  devices: { deviceId: number; registrationId: number }[];
}

/** Owner of `directory.devices` (device ids, registration ids and token hashes). */
@Injectable()
export class DevicesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(
    device: { accountId: string; deviceId: number; registrationId: number; tokenHash: Buffer },
    db: Queryable = this.pool,
  ): Promise<void> {
    await db.query(INSERT_DEVICE, [device.accountId, device.deviceId, device.registrationId, device.tokenHash]);
  }

  /** Null when all 127 ids are used. Call under `AccountsRepository.lockForChange`. */
  async findFreeId(accountId: string, tx: Queryable): Promise<number | null> {
    const row = await queryOne<{ device_id: number | null }>(tx, NEXT_FREE_DEVICE_ID, [accountId]);
    return row?.device_id ?? null;
  }

  async findPrincipalByTokenHash(tokenHash: Buffer, db: Queryable = this.pool): Promise<DevicePrincipal | null> {
    const row = await queryOne<{ account_id: string; device_id: number; localpart: string; identity_key: Buffer }>(db, FIND_PRINCIPAL, [
      tokenHash,
    ]);
    return row && { accountId: row.account_id, deviceId: row.device_id, localpart: row.localpart, identityKey: row.identity_key };
  }

  async list(accountId: string, db: Queryable = this.pool): Promise<DeviceInfo[]> {
    const { rows } = await db.query<{ device_id: number; registration_id: number; created_at: Date; last_seen_on: string | null }>(
      LIST_DEVICES,
      [accountId],
    );
    return rows.map((r) => ({
      deviceId: r.device_id,
      registrationId: r.registration_id,
      createdAt: r.created_at,
      lastSeenOn: r.last_seen_on,
    }));
  }

  /** Records `day` (YYYY-MM-DD, UTC) as the device's last-seen day. */
  async markSeen(accountId: string, deviceId: number, day: string, db: Queryable = this.pool): Promise<void> {
    await db.query(MARK_SEEN, [accountId, deviceId, day]);
  }

  async setRegistrationId(accountId: string, deviceId: number, registrationId: number, db: Queryable = this.pool): Promise<void> {
    await db.query(SET_REGISTRATION_ID, [accountId, deviceId, registrationId]);
  }

  /** Deletes the device; its keys go with it (ON DELETE CASCADE). False when it did not exist. */
  async delete(accountId: string, deviceId: number, db: Queryable = this.pool): Promise<boolean> {
    const { rowCount } = await db.query(DELETE_DEVICE, [accountId, deviceId]);
    return rowCount === 1;
  }

  /** Deletes every device of the account (keys go with them); returns their ids. */
  async deleteAll(accountId: string, tx: Queryable): Promise<number[]> {
    const { rows } = await tx.query<{ device_id: number }>(DELETE_ALL_DEVICES, [accountId]);
    return rows.map((r) => r.device_id).sort((a, b) => a - b);
  }

  /** The account's identity key and devices, as the transparency log records them. */
  async deviceListOfAccount(
    accountId: string,
    db: Queryable = this.pool,
  ): Promise<{ localpart: string; identityKey: Buffer; devices: { deviceId: number; registrationId: number }[] } | null> {
    const { rows } = await db.query<{ localpart: string; identity_key: Buffer; device_id: number | null; registration_id: number | null }>(
      DEVICE_LIST_BY_ACCOUNT,
      [accountId],
    );
    if (rows.length === 0) return null;
    return {
      localpart: rows[0].localpart,
      identityKey: rows[0].identity_key,
      devices: rows
        .filter((r) => r.device_id !== null)
        .map((r) => ({ deviceId: r.device_id as number, registrationId: r.registration_id as number })),
    };
  }

  async deviceListByLocalpart(localpart: string, db: Queryable = this.pool): Promise<AccountDeviceList | null> {
    const { rows } = await db.query<{
      account_id: string;
      identity_key: Buffer;
      unidentified_access_key_sealed: Buffer | null;
      device_id: number;
      registration_id: number;
    }>(DEVICE_LIST_BY_LOCALPART, [localpart]);
    if (rows.length === 0) return null;
    return {
      accountId: rows[0].account_id,
      identityKey: rows[0].identity_key,
      unidentifiedAccessKeySealed: rows[0].unidentified_access_key_sealed,
      devices: rows.map((r) => ({ deviceId: r.device_id, registrationId: r.registration_id })),
    };
  }
}
