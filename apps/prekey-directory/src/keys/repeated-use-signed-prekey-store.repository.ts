import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { SignedKey } from '@sealpost/contracts';
import { PG_POOL, Queryable, namedStatement, queryNamed } from '@sealpost/db';
import { KeyKind } from './prekey-kind.constants';

const UPSERT_SIGNED_KEY = namedStatement(
  'directory.spk.upsert',
  `
  INSERT INTO directory.signed_prekeys (account_id, device_id, kind, key_id, public_key, signature)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (account_id, device_id, kind)
  DO UPDATE SET key_id = EXCLUDED.key_id, public_key = EXCLUDED.public_key, signature = EXCLUDED.signature`,
);

/**
 * Owner of `directory.signed_prekeys`: the signed EC prekey and the PQ last-resort prekey of each
 * device. These are handed out repeatedly, and replaced (never appended) on upload.
 */
@Injectable()
export class RepeatedUseSignedPreKeyStore {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async put(accountId: string, deviceId: number, kind: KeyKind, key: SignedKey, db: Queryable = this.pool): Promise<void> {
    await queryNamed(db, UPSERT_SIGNED_KEY, [accountId, deviceId, kind, key.keyId, key.publicKey, key.signature]);
  }
}
