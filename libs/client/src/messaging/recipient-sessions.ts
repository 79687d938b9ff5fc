import type { BundleDeviceJson, BundleResponse } from '@sealpost/contracts';
import { parseAddress } from '@sealpost/contracts';
import { libsignal } from '@sealpost/crypto';
import type { HomeserverApi } from '../api/homeserver-api';
import type { ServerDirectory } from '../api/server-directory';
import type { SealedSessionCipher } from '../signal/sealed-session-cipher';
import type { SignalProtocolStores } from '../signal/protocol-stores';
import type { AccountRecords, Contact } from '../store/account-state';

const bytes = (b64: string) => Uint8Array.from(Buffer.from(b64, 'base64')) as Uint8Array<ArrayBuffer>;

/** A contact's identity key changed, and the new one is in the key-transparency log. */
export type VerifiedIdentityChange = (change: { address: string; previous: string; next: string }) => void;

/**
 * Sessions with the devices of an address. Bundles are claimed through this client's own
 * homeserver (remote ones too) and **verified against the address's key-transparency log before
 * the first encryption to a new key or device**: a device or identity key the log does not show
 * makes `ensure` throw KtVerificationError, and nothing is encrypted to it.
 */
export class RecipientSessions {
  constructor(
    private readonly api: HomeserverApi,
    private readonly servers: ServerDirectory,
    private readonly stores: SignalProtocolStores,
    private readonly cipher: SealedSessionCipher,
    private readonly records: AccountRecords,
    private readonly self: { address: string; deviceId: number },
    private readonly onIdentityChange: VerifiedIdentityChange,
  ) {}

  /** The contact with a session for each of its devices (this device excluded): claims all devices of an unknown address. */
  async ensure(address: string): Promise<Contact> {
    const contact = await this.records.contact(address);
    if (contact && contact.identityKey && (contact.devices.length > 0 || address === this.self.address)) return contact;
    return this.claim(address, '*', contact);
  }

  /** After a 409/410: drops sessions with devices that are gone or stale, and claims the missing and stale ones. */
  async repair(address: string, change: { missing?: number[]; extra?: number[]; stale?: number[] }): Promise<Contact> {
    let contact = await this.ensure(address);
    const drop = new Set([...(change.extra ?? []), ...(change.stale ?? [])]);
    for (const deviceId of drop) await this.stores.deleteSession(contact.accountId, deviceId);
    contact = { ...contact, devices: contact.devices.filter((d) => !drop.has(d.deviceId)) };
    await this.records.saveContact(contact);
    for (const deviceId of [...(change.missing ?? []), ...(change.stale ?? [])]) contact = await this.claim(address, deviceId, contact);
    return contact;
  }

  /** Forgets every device of an address, so the next send claims them all again (e.g. after an identity change). */
  async forgetDevices(address: string): Promise<void> {
    const contact = await this.records.contact(address);
    if (!contact) return;
    for (const device of contact.devices) await this.stores.deleteSession(contact.accountId, device.deviceId);
    await this.records.saveContact({ ...contact, devices: [], identityKey: undefined });
  }

  private async claim(address: string, device: number | '*', contact: Contact | undefined): Promise<Contact> {
    const bundle = await this.api.claimBundles(address, device);
    const devices = bundle.devices.filter((d) => !(address === this.self.address && d.deviceId === this.self.deviceId));
    const kt = await this.servers.keyTransparency(parseAddress(address).server);
    await kt.verifyBundle({
      address,
      identityKey: bundle.identityKey,
      devices: devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId })),
    });
    const previous = contact?.identityKey ?? (await this.stores.knownIdentity(bundle.accountId));
    const keyChanged = previous !== undefined && previous !== bundle.identityKey;
    if (keyChanged) {
      for (const known of contact?.devices ?? []) await this.stores.deleteSession(bundle.accountId, known.deviceId);
    }
    await this.stores.trustIdentity(bundle.accountId, bundle.identityKey);
    for (const d of devices) await this.cipher.startSession(bundle.accountId, preKeyBundle(bundle, d));
    const kept = keyChanged ? [] : (contact?.devices ?? []).filter((known) => !devices.some((d) => d.deviceId === known.deviceId));
    const next: Contact = {
      address,
      accountId: bundle.accountId,
      identityKey: bundle.identityKey,
      devices: [...kept, ...devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId }))].sort(
        (a, b) => a.deviceId - b.deviceId,
      ),
      accessKey: contact?.accessKey,
    };
    await this.records.saveContact(next);
    if (keyChanged) this.onIdentityChange({ address, previous: previous!, next: bundle.identityKey });
    return next;
  }
}

function preKeyBundle(bundle: BundleResponse, device: BundleDeviceJson) {
  const L = libsignal();
  return L.PreKeyBundle.new(
    device.registrationId,
    device.deviceId,
    device.preKey?.keyId ?? null,
    device.preKey ? L.PublicKey.deserialize(bytes(device.preKey.publicKey)) : null,
    device.signedPreKey.keyId,
    L.PublicKey.deserialize(bytes(device.signedPreKey.publicKey)),
    bytes(device.signedPreKey.signature),
    L.PublicKey.deserialize(bytes(bundle.identityKey)),
    device.pqPreKey.keyId,
    L.KEMPublicKey.deserialize(bytes(device.pqPreKey.publicKey)),
    bytes(device.pqPreKey.signature),
  );
}
