import { KtRecord, encodeKtRecord, leafHash } from '@sealpost/transparency';
import { KeyTransparencyClient } from './key-transparency.client';
import { OwnerAlert } from './kt-errors';
import { KtStateStore } from './kt-state.store';

/**
 * An owner's watch over its own account: every record logged since the last check is proven
 * included and compared with what the owner knows (its identity key, its devices). A device or
 * key it does not know — logged, or served by the directory without being logged — is an alert.
 */
export class OwnerMonitor {
  constructor(
    private readonly kt: KeyTransparencyClient,
    private readonly store: KtStateStore,
    private readonly address: string,
    private readonly known: { identityKey: string; devices: { deviceId: number; registrationId: number }[] },
  ) {}

  /** The owner links a device itself: it becomes known. */
  trustDevice(device: { deviceId: number; registrationId: number }): void {
    if (!this.known.devices.some((d) => d.deviceId === device.deviceId && d.registrationId === device.registrationId)) this.known.devices.push(device);
  }

  /**
   * The owner changed the account identity key itself (`PUT /v1/accounts/identity-key`): the new
   * key and the devices' new registration ids become what it knows. Call before the next check.
   */
  trustIdentityChange(identityKey: string, devices: { deviceId: number; registrationId: number }[]): void {
    this.known.identityKey = identityKey;
    this.known.devices = devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId }));
  }

  forgetDevice(deviceId: number): void {
    this.known.devices = this.known.devices.filter((d) => d.deviceId !== deviceId);
  }

  /** `servedDevices`: what the directory lists for this account now (GET /v1/devices), if available. */
  async check(servedDevices?: { deviceId: number; registrationId: number }[]): Promise<OwnerAlert[]> {
    const alerts: OwnerAlert[] = [];
    const since = await this.store.lastCheckedVersion(this.address);
    const history = await this.kt.verifiedHistory(this.address);
    let previousHash: string | null = null;
    history.forEach((entry, i) => {
      if (entry.record.version !== i + 1) alerts.push({ kind: 'broken-history', version: entry.record.version, reason: `expected version ${i + 1}` });
      if (i > 0 && entry.record.prevHash !== previousHash) alerts.push({ kind: 'broken-history', version: entry.record.version, reason: 'prevHash does not chain' });
      previousHash = leafHashOf(entry);
      if (entry.record.version <= since) return;
      if (entry.record.identityKey !== this.known.identityKey) {
        alerts.push({ kind: 'identity-key-changed', version: entry.record.version, identityKey: entry.record.identityKey });
      }
      for (const d of entry.record.devices) {
        if (!this.known.devices.some((k) => k.deviceId === d.deviceId && k.registrationId === d.registrationId)) {
          alerts.push({ kind: 'unknown-device', version: entry.record.version, deviceId: d.deviceId, registrationId: d.registrationId });
        }
      }
    });
    const latest = history[history.length - 1];
    for (const d of servedDevices ?? []) {
      if (!latest?.record.devices.some((l) => l.deviceId === d.deviceId && l.registrationId === d.registrationId)) {
        alerts.push({ kind: 'unlogged-device', deviceId: d.deviceId, registrationId: d.registrationId });
      }
    }
    if (latest) await this.store.saveCheckedVersion(this.address, latest.record.version);
    return alerts;
  }
}

function leafHashOf(entry: { record: KtRecord }): string {
  return leafHash(encodeKtRecord(entry.record)).toString('base64');
}
