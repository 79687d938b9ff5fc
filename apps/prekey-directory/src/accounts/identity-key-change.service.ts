import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { DirectoryConfig } from '@sealpost/config';
import { ChangeIdentityKeyRequest, ChangeIdentityKeyResponse, PRIMARY_DEVICE_ID, ValidationError } from '@sealpost/contracts';
import { identityKeyKind } from '@sealpost/crypto';
import { PG_POOL, withTransaction } from '@sealpost/db';
import { ApiError, notFound } from '@sealpost/http';
import { DeviceEventsPublisher } from '../devices/device-events.publisher';
import { DevicePrincipal, DevicesRepository } from '../devices/devices.repository';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KeysManager } from '../keys/keys-manager.service';
import { PrekeysLowNotifier } from '../keys/prekeys-low.notifier';
import { assertKeysSignedByIdentity } from '../keys/prekey-signature.verifier';
import { TransparencyLog } from '../transparency/transparency-log.service';
import { AccountsRepository } from './accounts.repository';
import { DirectoryMetrics } from '../directory.metrics';

/**
 * The primary device replaces the account identity key (a reinstall, a suspected compromise).
 * One transaction stores the new key, every device's new registration id and repeated-use keys
 * (signed by the new key), drops every one-time key, and appends the account's new record to the
 * key-transparency log, so every contact's client sees the change and every owner device can
 * check it. The listed devices must be exactly the account's current ones (409 otherwise), so a
 * device linked meanwhile is never left with keys signed by the old identity.
 */
@Injectable()
export class IdentityKeyChangeService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    private readonly accounts: AccountsRepository,
    private readonly devices: DevicesRepository,
    private readonly keys: KeysManager,
    private readonly transparency: TransparencyLog,
    private readonly events: DeviceEventsPublisher,
    private readonly lowNotifier: PrekeysLowNotifier,
    private readonly metrics: DirectoryMetrics,
  ) {}

  async change(device: DevicePrincipal, request: ChangeIdentityKeyRequest): Promise<ChangeIdentityKeyResponse> {
    if (device.deviceId !== PRIMARY_DEVICE_ID) {
      throw new ApiError(403, 'primary_device_only', 'only device 1 may change the account identity key');
    }
    if (!identityKeyKind(request.identityKey)) {
      throw new ValidationError('identityKey', 'must be a 33-byte Curve25519 key (type 0x05) or a 32-byte Ed25519 key');
    }
    request.devices.forEach((d, i) => assertKeysSignedByIdentity(request.identityKey, d, `devices[${i}].`));
    const address = `${device.localpart}@${this.config.serverName}`;
    const version = await withTransaction(this.pool, async (tx) => {
      const current = await this.accounts.lockForChange(device.accountId, tx);
      if (!current) throw notFound('account');
      const stored = await this.devices.list(device.accountId, tx);
      assertSameDevices(
        stored.map((d) => d.deviceId),
        request.devices.map((d) => d.deviceId),
      );
      await this.accounts.setIdentityKey(device.accountId, request.identityKey, tx);
      for (const d of request.devices) await this.devices.setRegistrationId(device.accountId, d.deviceId, d.registrationId, tx);
      await this.keys.replaceForNewIdentity(device.accountId, request.devices, tx);
      return (await this.transparency.appendDeviceList(device.accountId, tx)).version;
    });
    this.metrics.accountChanges.inc({ change: 'identity_key_change' });
    await this.events.deviceListChanged(address);
    // Every device must upload one-time keys signed (PQ) or published under the new identity.
    for (const d of request.devices) {
      await this.lowNotifier.rearm(device.accountId, d.deviceId);
      await this.lowNotifier.notify({ address, accountId: device.accountId, deviceId: d.deviceId, count: 0, pqCount: 0 });
    }
    return { address, version };
  }
}

function assertSameDevices(stored: number[], listed: number[]): void {
  const missingDevices = stored.filter((id) => !listed.includes(id));
  const extraDevices = listed.filter((id) => !stored.includes(id));
  if (missingDevices.length || extraDevices.length) {
    throw new ApiError(409, 'mismatched_devices', "the devices listed must be exactly the account's current devices", {
      missingDevices,
      extraDevices,
    });
  }
}
