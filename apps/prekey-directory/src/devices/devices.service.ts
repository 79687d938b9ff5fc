import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { DirectoryConfig } from '@sealpost/config';
import { DeviceListResponse, LinkCodeResponse, LinkDeviceRequest, LinkDeviceResponse, PRIMARY_DEVICE_ID } from '@sealpost/contracts';
import { hashSecretCode, newBearerToken, newSecretCode } from '@sealpost/crypto';
import { PG_POOL, withTransaction } from '@sealpost/db';
import { ApiError, notFound } from '@sealpost/http';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KeysManager } from '../keys/keys-manager.service';
import { assertKeysSignedByIdentity } from '../keys/prekey-signature.verifier';
import { AccountsRepository } from '../accounts/accounts.repository';
import { DevicePrincipal, DevicesRepository } from './devices.repository';
import { LinkCodesRepository } from './link-codes.repository';
import { DeviceEventsPublisher } from './device-events.publisher';
import { TransparencyLog } from '../transparency/transparency-log.service';
import { DirectoryMetrics } from '../directory.metrics';

const LINK_CODE_BYTES = 18;

/** Linking, listing and removing the devices of an account. */
@Injectable()
export class DevicesService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    private readonly events: DeviceEventsPublisher,
    private readonly devices: DevicesRepository,
    private readonly linkCodes: LinkCodesRepository,
    private readonly accounts: AccountsRepository,
    private readonly keys: KeysManager,
    private readonly transparency: TransparencyLog,
    private readonly metrics: DirectoryMetrics,
  ) {}

  async createLinkCode(device: DevicePrincipal): Promise<LinkCodeResponse> {
    const { code, hash } = newSecretCode(LINK_CODE_BYTES);
    const expiresAt = new Date(Date.now() + this.config.linkCodeTtlSeconds * 1000);
    await this.linkCodes.insert(hash, device.accountId, expiresAt);
    return { code, expiresAt: expiresAt.toISOString() };
  }

  async link(request: LinkDeviceRequest): Promise<LinkDeviceResponse> {
    const { token, hash } = newBearerToken();
    const linked = await withTransaction(this.pool, async (tx) => {
      const accountId = await this.linkCodes.consume(hashSecretCode(request.code), tx);
      if (!accountId) throw new ApiError(403, 'invalid_link_code', 'the link code is unknown, used or expired');
      await this.accounts.lockForChange(accountId, tx);
      const deviceId = await this.devices.findFreeId(accountId, tx);
      if (deviceId === null) throw new ApiError(409, 'too_many_devices', 'this account already has 127 devices');
      const account = await this.accountById(accountId, tx);
      // Signatures are checked inside the transaction because the identity key is known only here;
      // a bad signature rolls back and the code stays unused.
      assertKeysSignedByIdentity(account.identityKey, request);
      await this.devices.insert({ accountId, deviceId, registrationId: request.registrationId, tokenHash: hash }, tx);
      await this.keys.storeNewDeviceKeys(accountId, deviceId, request, tx);
      await this.transparency.appendDeviceList(accountId, tx);
      return { accountId, deviceId, localpart: account.localpart };
    });
    this.metrics.accountChanges.inc({ change: 'device_link' });
    const address = `${linked.localpart}@${this.config.serverName}`;
    await this.events.deviceListChanged(address);
    return { address, deviceId: linked.deviceId, token };
  }

  async list(device: DevicePrincipal): Promise<DeviceListResponse> {
    const devices = await this.devices.list(device.accountId);
    return {
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        createdAt: d.createdAt.toISOString(),
        lastSeenAt: d.lastSeenOn,
      })),
    };
  }

  /** Removes a linked device: its token stops working at once and its keys go with it. */
  async remove(device: DevicePrincipal, deviceId: number): Promise<void> {
    if (deviceId === PRIMARY_DEVICE_ID) throw new ApiError(403, 'primary_device', 'device 1 is the primary device and cannot be removed');
    await withTransaction(this.pool, async (tx) => {
      if (!(await this.accounts.lockForChange(device.accountId, tx))) throw notFound('account');
      const removed = await this.devices.delete(device.accountId, deviceId, tx);
      if (!removed) throw notFound('device');
      await this.transparency.appendDeviceList(device.accountId, tx);
    });
    this.metrics.accountChanges.inc({ change: 'device_removal' });
    const address = `${device.localpart}@${this.config.serverName}`;
    await this.events.deviceRemoved({ address, accountId: device.accountId, deviceId });
  }

  private async accountById(accountId: string, tx: Parameters<AccountsRepository['findById']>[1]) {
    const account = await this.accounts.findById(accountId, tx);
    if (!account) throw notFound('account');
    return account;
  }
}
