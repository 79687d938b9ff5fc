import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { DirectoryConfig } from '@sealpost/config';
import { PRIMARY_DEVICE_ID } from '@sealpost/contracts';
import { PG_POOL, withTransaction } from '@sealpost/db';
import { ApiError, notFound } from '@sealpost/http';
import { DeviceEventsPublisher } from '../devices/device-events.publisher';
import { DevicePrincipal, DevicesRepository } from '../devices/devices.repository';
import { DirectoryMetrics } from '../directory.metrics';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { TransparencyLog } from '../transparency/transparency-log.service';
import { AccountsRepository } from './accounts.repository';

/**
 * The primary device deletes its account. One transaction removes every device (their tokens
 * stop at once, their keys go), appends the account's last key-transparency record — no devices —
 * so contacts and monitors see the end of the account in the log, and deletes the account row.
 * The relays are then told, per device, to close its socket and delete its queue. The localpart
 * becomes free; a later account under it continues the same log history with a new identity key.
 */
@Injectable()
export class AccountDeletionService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    private readonly accounts: AccountsRepository,
    private readonly devices: DevicesRepository,
    private readonly transparency: TransparencyLog,
    private readonly events: DeviceEventsPublisher,
    private readonly metrics: DirectoryMetrics,
  ) {}

  async delete(device: DevicePrincipal): Promise<void> {
    if (device.deviceId !== PRIMARY_DEVICE_ID) throw new ApiError(403, 'primary_device_only', 'only device 1 may delete the account');
    const deviceIds = await withTransaction(this.pool, async (tx) => {
      if (!(await this.accounts.lockForChange(device.accountId, tx))) throw notFound('account');
      const removed = await this.devices.deleteAll(device.accountId, tx);
      await this.transparency.appendDeviceList(device.accountId, tx);
      await this.accounts.delete(device.accountId, tx);
      return removed;
    });
    this.metrics.accountChanges.inc({ change: 'account_deletion' });
    const address = `${device.localpart}@${this.config.serverName}`;
    for (const deviceId of deviceIds) await this.events.deviceRemoved({ address, accountId: device.accountId, deviceId });
  }
}
