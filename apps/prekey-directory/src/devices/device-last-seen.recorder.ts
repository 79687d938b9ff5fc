import { Injectable, Logger } from '@nestjs/common';
import { DevicesRepository } from './devices.repository';

/** Devices remembered as already marked today; past this the memory is simply started afresh. */
const REMEMBERED_DEVICES = 100_000;

/**
 * Keeps each device's last-seen **day** (UTC) as it authenticates — to the directory, or to a relay
 * through the directory's bus. A process writes a device's day at most once (it remembers what it
 * wrote), so the hot paths pay no database write; a failed write is logged and never fails the
 * request that authenticated.
 */
@Injectable()
export class DeviceLastSeenRecorder {
  private readonly logger = new Logger(DeviceLastSeenRecorder.name);
  private readonly markedOn = new Map<string, string>();

  constructor(private readonly devices: DevicesRepository) {}

  seen(accountId: string, deviceId: number, now = new Date()): void {
    const day = now.toISOString().slice(0, 10);
    const key = `${accountId}/${deviceId}`;
    if (this.markedOn.get(key) === day) return;
    if (this.markedOn.size >= REMEMBERED_DEVICES) this.markedOn.clear();
    this.markedOn.set(key, day);
    this.devices.markSeen(accountId, deviceId, day).catch((error: Error) => {
      this.markedOn.delete(key);
      this.logger.warn(`last-seen day not recorded: ${error.message}`);
    });
  }
}
