import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { OneTimePreKey, SignedKey } from '@sealpost/contracts';
import { PG_POOL, Queryable, namedStatement, queryNamed } from '@sealpost/db';
import { KeyKind } from './prekey-kind.constants';

const DELETE_ALL_OF_KIND = namedStatement(
  'directory.otpk.delete-kind',
  `
  DELETE FROM directory.one_time_prekeys WHERE account_id = $1 AND device_id = $2 AND kind = $3`,
);
const DELETE_ALL_OF_ACCOUNT = `DELETE FROM directory.one_time_prekeys WHERE account_id = $1`;
const INSERT_MANY = namedStatement(
  'directory.otpk.insert-many',
  `
  INSERT INTO directory.one_time_prekeys (account_id, device_id, kind, key_id, public_key, signature)
  SELECT $1, $2, $3, k.key_id, k.public_key, k.signature
  FROM unnest($4::int[], $5::bytea[], $6::bytea[]) AS k (key_id, public_key, signature)`,
);
const COUNT_BY_KIND = namedStatement(
  'directory.otpk.count',
  `
  SELECT count(*) FILTER (WHERE kind = 1)::int AS ec, count(*) FILTER (WHERE kind = 2)::int AS pq
  FROM directory.one_time_prekeys WHERE account_id = $1 AND device_id = $2`,
);

/**
 * Takes one EC and one PQ one-time key per device of an account, in one statement, together with
 * each device's repeated-use keys. `FOR UPDATE SKIP LOCKED` + `DELETE … RETURNING` make the take
 * atomic across any number of directory processes: a key row is returned by exactly one DELETE,
 * so it is never handed out twice. A device whose keys are gone (or all locked by concurrent
 * takers) gets no EC key and its PQ last-resort key instead. Remaining counts come from the
 * statement's snapshot, which is enough for the low-key notice.
 */
const TAKE_BUNDLE = namedStatement(
  'directory.otpk.take-bundle',
  `
  WITH target AS (
    SELECT id, identity_key FROM directory.accounts WHERE localpart = $1
  ), devs AS (
    SELECT d.account_id, d.device_id, d.registration_id
    FROM directory.devices d JOIN target t ON d.account_id = t.id
    WHERE $2::smallint IS NULL OR d.device_id = $2::smallint
  ), picked AS (
    SELECT k.account_id, k.device_id, k.kind, k.key_id
    FROM devs d
    CROSS JOIN (VALUES (1::smallint), (2::smallint)) AS kinds (kind)
    CROSS JOIN LATERAL (
      SELECT o.account_id, o.device_id, o.kind, o.key_id FROM directory.one_time_prekeys o
      WHERE o.account_id = d.account_id AND o.device_id = d.device_id AND o.kind = kinds.kind
      ORDER BY o.key_id
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    ) k
  ), taken AS (
    DELETE FROM directory.one_time_prekeys o USING picked p
    WHERE o.account_id = p.account_id AND o.device_id = p.device_id AND o.kind = p.kind AND o.key_id = p.key_id
    RETURNING o.device_id, o.kind, o.key_id, o.public_key, o.signature
  ), remaining AS (
    SELECT o.device_id,
           count(*) FILTER (WHERE o.kind = 1)::int AS ec,
           count(*) FILTER (WHERE o.kind = 2)::int AS pq
    FROM directory.one_time_prekeys o JOIN devs d ON o.account_id = d.account_id AND o.device_id = d.device_id
    GROUP BY o.device_id
  )
  SELECT t.id AS account_id, t.identity_key,
         d.device_id, d.registration_id,
         s.key_id AS spk_id, s.public_key AS spk_pub, s.signature AS spk_sig,
         lr.key_id AS lr_id, lr.public_key AS lr_pub, lr.signature AS lr_sig,
         ec.key_id AS ec_id, ec.public_key AS ec_pub,
         pq.key_id AS pq_id, pq.public_key AS pq_pub, pq.signature AS pq_sig,
         coalesce(r.ec, 0) AS ec_before, coalesce(r.pq, 0) AS pq_before
  FROM target t
  LEFT JOIN devs d ON true
  LEFT JOIN directory.signed_prekeys s ON s.account_id = d.account_id AND s.device_id = d.device_id AND s.kind = 1
  LEFT JOIN directory.signed_prekeys lr ON lr.account_id = d.account_id AND lr.device_id = d.device_id AND lr.kind = 2
  LEFT JOIN taken ec ON ec.device_id = d.device_id AND ec.kind = 1
  LEFT JOIN taken pq ON pq.device_id = d.device_id AND pq.kind = 2
  LEFT JOIN remaining r ON r.device_id = d.device_id
  ORDER BY d.device_id`,
);

interface TakeRow {
  account_id: string;
  identity_key: Buffer;
  device_id: number | null;
  registration_id: number;
  spk_id: number;
  spk_pub: Buffer;
  spk_sig: Buffer;
  lr_id: number;
  lr_pub: Buffer;
  lr_sig: Buffer;
  ec_id: number | null;
  ec_pub: Buffer | null;
  pq_id: number | null;
  pq_pub: Buffer | null;
  pq_sig: Buffer | null;
  ec_before: number;
  pq_before: number;
}

export interface TakenDeviceBundle {
  deviceId: number;
  registrationId: number;
  signedPreKey: SignedKey;
  /** The one-time EC key taken, or null when none was left. */
  preKey: OneTimePreKey | null;
  /** The one-time PQ key taken, or the device's PQ last-resort key. */
  pqPreKey: SignedKey;
  pqIsLastResort: boolean;
  /** Unused one-time keys left after this take (from the statement snapshot). */
  ecLeft: number;
  pqLeft: number;
}

export interface TakenBundle {
  accountId: string;
  identityKey: Buffer;
  devices: TakenDeviceBundle[];
}

/** Owner of `directory.one_time_prekeys`: EC and PQ keys that are each handed out at most once. */
@Injectable()
export class SingleUsePreKeyStore {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Replaces every unused key of one kind of one device (run inside the caller's transaction). */
  async replaceAll(accountId: string, deviceId: number, kind: KeyKind, keys: (OneTimePreKey | SignedKey)[], tx: Queryable): Promise<void> {
    await queryNamed(tx, DELETE_ALL_OF_KIND, [accountId, deviceId, kind]);
    if (keys.length === 0) return;
    await queryNamed(tx, INSERT_MANY, [
      accountId,
      deviceId,
      kind,
      keys.map((k) => k.keyId),
      keys.map((k) => k.publicKey),
      keys.map((k) => ('signature' in k ? k.signature : null)),
    ]);
  }

  /** Drops every unused one-time key of every device of the account (an identity-key change). */
  async deleteAllOfAccount(accountId: string, tx: Queryable): Promise<void> {
    await tx.query(DELETE_ALL_OF_ACCOUNT, [accountId]);
  }

  async counts(accountId: string, deviceId: number, db: Queryable = this.pool): Promise<{ ec: number; pq: number }> {
    const { rows } = await queryNamed<{ ec: number; pq: number }>(db, COUNT_BY_KIND, [accountId, deviceId]);
    return rows[0];
  }

  /** Null when the account does not exist; `devices` is empty when the chosen device does not. */
  async takeBundle(localpart: string, deviceId: number | null, db: Queryable = this.pool): Promise<TakenBundle | null> {
    const { rows } = await queryNamed<TakeRow>(db, TAKE_BUNDLE, [localpart, deviceId]);
    if (rows.length === 0) return null;
    const devices = rows
      .filter((r) => r.device_id !== null)
      .map((r): TakenDeviceBundle => {
        const pqTaken = r.pq_id !== null;
        return {
          deviceId: r.device_id as number,
          registrationId: r.registration_id,
          signedPreKey: { keyId: r.spk_id, publicKey: r.spk_pub, signature: r.spk_sig },
          preKey: r.ec_id !== null ? { keyId: r.ec_id, publicKey: r.ec_pub as Buffer } : null,
          pqPreKey: pqTaken
            ? { keyId: r.pq_id as number, publicKey: r.pq_pub as Buffer, signature: r.pq_sig as Buffer }
            : { keyId: r.lr_id, publicKey: r.lr_pub, signature: r.lr_sig },
          pqIsLastResort: !pqTaken,
          ecLeft: Math.max(0, r.ec_before - (r.ec_id !== null ? 1 : 0)),
          pqLeft: Math.max(0, r.pq_before - (pqTaken ? 1 : 0)),
        };
      });
    return { accountId: rows[0].account_id, identityKey: rows[0].identity_key, devices };
  }
}
