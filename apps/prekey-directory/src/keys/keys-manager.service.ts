import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { DirectoryConfig } from '@sealpost/config';
import {
  Address,
  BundleResponse,
  DeviceIdentityKeys,
  DeviceKeys,
  PreKeyCountResponse,
  UploadKeysRequest,
  formatAddress,
} from '@sealpost/contracts';
import { PG_POOL, Queryable, withTransaction } from '@sealpost/db';
import { ApiError, notFound, unauthorized } from '@sealpost/http';
import { AccountsRepository } from '../accounts/accounts.repository';
import { DirectoryMetrics } from '../directory.metrics';
import type { DevicePrincipal } from '../devices/devices.repository';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { RemoteBundlesClient } from '../federation/remote-bundles.client';
import { toBundleResponse } from './bundle.mapper';
import { ClaimRateLimiter } from './claim-rate-limiter.service';
import { KeyKind } from './prekey-kind.constants';
import { PrekeysLowNotifier } from './prekeys-low.notifier';
import { assertKeysSignedByIdentity } from './prekey-signature.verifier';
import { RepeatedUseSignedPreKeyStore } from './repeated-use-signed-prekey-store.repository';
import { SingleUsePreKeyStore } from './single-use-prekey-store.repository';

const FOREIGN_KEY_VIOLATION = '23503';

/** Every write and take of prekeys goes through here: signatures checked first, takes atomic. */
@Injectable()
export class KeysManager {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly signedKeys: RepeatedUseSignedPreKeyStore,
    private readonly oneTimeKeys: SingleUsePreKeyStore,
    private readonly rateLimiter: ClaimRateLimiter,
    private readonly lowNotifier: PrekeysLowNotifier,
    private readonly remote: RemoteBundlesClient,
    private readonly accounts: AccountsRepository,
    private readonly metrics: DirectoryMetrics,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  /** For registration and linking: the caller has already checked signatures with `assertKeysSignedByIdentity`. */
  async storeNewDeviceKeys(accountId: string, deviceId: number, keys: DeviceKeys, tx: Queryable): Promise<void> {
    await this.signedKeys.put(accountId, deviceId, KeyKind.Ec, keys.signedPreKey, tx);
    await this.signedKeys.put(accountId, deviceId, KeyKind.Pq, keys.pqLastResortPreKey, tx);
    await this.oneTimeKeys.replaceAll(accountId, deviceId, KeyKind.Ec, keys.preKeys, tx);
    await this.oneTimeKeys.replaceAll(accountId, deviceId, KeyKind.Pq, keys.pqPreKeys, tx);
  }

  /**
   * For an identity-key change (signatures already checked against the new key): every device's
   * repeated-use keys are replaced and every one-time key is dropped, since PQ one-time keys are
   * signed by the old identity key and all of them were published under it.
   */
  async replaceForNewIdentity(accountId: string, devices: DeviceIdentityKeys[], tx: Queryable): Promise<void> {
    for (const d of devices) {
      await this.signedKeys.put(accountId, d.deviceId, KeyKind.Ec, d.signedPreKey, tx);
      await this.signedKeys.put(accountId, d.deviceId, KeyKind.Pq, d.pqLastResortPreKey, tx);
    }
    await this.oneTimeKeys.deleteAllOfAccount(accountId, tx);
  }

  async upload(device: DevicePrincipal, request: UploadKeysRequest): Promise<void> {
    assertKeysSignedByIdentity(device.identityKey, request);
    await withTransaction(this.pool, async (tx) => {
      const { accountId, deviceId } = device;
      // The signatures were checked against the key read at authentication; a concurrent
      // identity-key change must not let keys signed by the old one in after it.
      const current = await this.accounts.lockForKeyUpload(accountId, tx);
      if (!current) throw unauthorized();
      if (!current.equals(device.identityKey)) {
        throw new ApiError(
          409,
          'identity_key_changed',
          'the account identity key changed while these keys were uploaded; sign them with the new key',
        );
      }
      if (request.signedPreKey) await this.signedKeys.put(accountId, deviceId, KeyKind.Ec, request.signedPreKey, tx);
      if (request.pqLastResortPreKey) await this.signedKeys.put(accountId, deviceId, KeyKind.Pq, request.pqLastResortPreKey, tx);
      if (request.preKeys?.length) await this.oneTimeKeys.replaceAll(accountId, deviceId, KeyKind.Ec, request.preKeys, tx);
      if (request.pqPreKeys?.length) await this.oneTimeKeys.replaceAll(accountId, deviceId, KeyKind.Pq, request.pqPreKeys, tx);
    }).catch((error: unknown) => {
      // The device was removed after this request was authenticated: its keys have no row to hang on.
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) throw unauthorized();
      throw error;
    });
    if (request.preKeys?.length || request.pqPreKeys?.length) await this.lowNotifier.rearm(device.accountId, device.deviceId);
  }

  async counts(device: DevicePrincipal): Promise<PreKeyCountResponse> {
    const { ec, pq } = await this.oneTimeKeys.counts(device.accountId, device.deviceId);
    return { count: ec, pqCount: pq };
  }

  /**
   * Claims one bundle per device (or for the one device asked for) of an address: taken here for
   * a local account, through the federation gateway for another homeserver's. `requester`
   * identifies who asks, for the per requester → target rate limit.
   */
  async claim(requester: string, target: Address, deviceId: number | '*'): Promise<BundleResponse> {
    const address = formatAddress(target);
    await this.rateLimiter.admit(requester, address);
    if (target.server !== this.config.serverName) {
      this.metrics.claims.inc({ target: 'remote' });
      return this.remote.claim(address, deviceId, requester);
    }
    const bundle = await this.oneTimeKeys.takeBundle(target.localpart, deviceId === '*' ? null : deviceId);
    if (!bundle) throw notFound('account');
    if (bundle.devices.length === 0) throw notFound('device');
    this.metrics.claims.inc({ target: 'local' });
    for (const d of bundle.devices) {
      if (!d.preKey) this.metrics.exhausted.inc({ kind: 'ec' });
      if (d.pqIsLastResort) this.metrics.exhausted.inc({ kind: 'pq' });
      if (this.lowNotifier.isLow(d.ecLeft, d.pqLeft)) {
        void this.lowNotifier.notify({ address, accountId: bundle.accountId, deviceId: d.deviceId, count: d.ecLeft, pqCount: d.pqLeft });
      }
    }
    return toBundleResponse(address, bundle);
  }
}
