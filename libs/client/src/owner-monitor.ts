import { KtRecord, encodeKtRecord, leafHash } from '@sealpost/transparency';
import { HistoryView, KeyTransparencyClient } from './key-transparency.client';
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
    if (!this.known.devices.some((d) => d.deviceId === device.deviceId && d.registrationId === device.registrationId))
      this.known.devices.push(device);
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
  async check(servedDevices?: Device[]): Promise<OwnerAlert[]> {
    return (await this.checkDetailed(servedDevices)).alerts;
  }

  /**
   * As `check`, and which served devices are only *pending*: in the record the directory logged
   * moments ago, which no signed head covers yet. Those are no alert while the client's
   * `maxPendingMs` bound holds (it waits up to `waitMs`, default the client's `pendingWaitMs`, for
   * the covering head first); past the bound they are `unlogged-device`.
   */
  async checkDetailed(servedDevices?: Device[], options: { waitMs?: number } = {}): Promise<OwnerCheck> {
    const since = await this.store.lastCheckedVersion(this.address);
    const deadline = Date.now() + (options.waitMs ?? this.kt.pendingWaitMsDefault);
    let view = await this.kt.historyWithPending(this.address);
    let outcome = await this.evaluate(view, since, servedDevices);
    while (outcome.pending.length > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => setTimeout(resolve, Math.min(view.retryAfterMs, deadline - Date.now())));
      view = await this.kt.historyWithPending(this.address);
      outcome = await this.evaluate(view, since, servedDevices);
    }
    const latest = view.proven.at(-1);
    if (latest) await this.store.saveCheckedVersion(this.address, latest.record.version);
    if (outcome.pending.length === 0 && view.pending.length === 0) await this.kt.clearPending(this.address);
    return outcome;
  }

  private async evaluate(view: HistoryView, since: number, servedDevices: Device[] | undefined): Promise<OwnerCheck> {
    const alerts: OwnerAlert[] = [];
    const history = view.proven;
    let previousHash: string | null = null;
    history.forEach((entry, i) => {
      if (entry.record.version !== i + 1)
        alerts.push({ kind: 'broken-history', version: entry.record.version, reason: `expected version ${i + 1}` });
      if (i > 0 && entry.record.prevHash !== previousHash)
        alerts.push({ kind: 'broken-history', version: entry.record.version, reason: 'prevHash does not chain' });
      previousHash = leafHashOf(entry);
      if (entry.record.version <= since) return;
      if (entry.record.identityKey !== this.known.identityKey) {
        alerts.push({ kind: 'identity-key-changed', version: entry.record.version, identityKey: entry.record.identityKey });
      }
      for (const d of entry.record.devices) {
        if (!this.known.devices.some((k) => sameDevice(k, d))) {
          alerts.push({ kind: 'unknown-device', version: entry.record.version, deviceId: d.deviceId, registrationId: d.registrationId });
        }
      }
    });
    const latest = history.at(-1);
    const newestPending = view.pending.at(-1);
    const pending: OwnerCheck['pending'] = [];
    for (const d of servedDevices ?? []) {
      if (latest?.record.devices.some((l) => sameDevice(l, d))) continue;
      const inPending = newestPending?.record.devices.some((l) => sameDevice(l, d));
      const window = inPending ? await this.kt.admitPending(this.address, view.pending[0].record.version) : null;
      if (window?.admitted) pending.push({ deviceId: d.deviceId, registrationId: d.registrationId, retryAfterMs: view.retryAfterMs });
      else alerts.push({ kind: 'unlogged-device', deviceId: d.deviceId, registrationId: d.registrationId });
    }
    return { alerts, pending };
  }
}

type Device = { deviceId: number; registrationId: number };

/** An owner check: alerts, and served devices that are logged but not yet covered by a signed head. */
export interface OwnerCheck {
  alerts: OwnerAlert[];
  pending: (Device & { retryAfterMs: number })[];
}

const sameDevice = (a: Device, b: Device) => a.deviceId === b.deviceId && a.registrationId === b.registrationId;

function leafHashOf(entry: { record: KtRecord }): string {
  return leafHash(encodeKtRecord(entry.record)).toString('base64');
}
