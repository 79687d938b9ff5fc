import type * as Signal from '@signalapp/libsignal-client';
import { libsignal } from '@sealpost/crypto';
import type { ClientStore } from '../store/client-store';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (text: string) => Uint8Array.from(Buffer.from(text, 'base64')) as Uint8Array<ArrayBuffer>;
const nameOf = (address: Signal.ProtocolAddress) => `${address.name()}.${address.deviceId()}`;

/** Reported when a contact's identity key is replaced (a reinstall, or someone else). */
export type IdentityChangeListener = (accountId: string, previous: string, next: string) => void;

/**
 * libsignal's stores (identity, sessions, one-time / signed / Kyber prekeys) over a ClientStore.
 * libsignal calls these during one encryption or decryption; the SDK wraps each such call in
 * `store.atomically`, so a session advance and the prekey it consumed are kept together.
 *
 * Trust: a contact's first identity key is kept as seen (the SDK verified it against key
 * transparency before the first encryption). A different key is accepted when a message arrives
 * under it (the sender re-installed; reported to `onIdentityChange`) but never for sending: the
 * SDK must verify the new key against the log first and save it, then send.
 */
export class SignalProtocolStores {
  readonly identity: Signal.IdentityKeyStore;
  readonly sessions: Signal.SessionStore;
  readonly preKeys: Signal.PreKeyStore;
  readonly signedPreKeys: Signal.SignedPreKeyStore;
  readonly kyberPreKeys: Signal.KyberPreKeyStore;

  constructor(
    private readonly store: ClientStore,
    private readonly local: { identityKeyPair: string; registrationId: number },
    onIdentityChange: IdentityChangeListener,
  ) {
    const L = libsignal();
    const pair = L.IdentityKeyPair.deserialize(bytes(local.identityKeyPair));
    const identityStore = {
      getIdentityKey: async () => pair.privateKey,
      getIdentityKeyPair: async () => pair,
      getLocalRegistrationId: async () => local.registrationId,
      saveIdentity: async (name: Signal.ProtocolAddress, key: Signal.PublicKey) => {
        const previous = await store.get('identity', name.name());
        const next = b64(key.serialize());
        if (previous === next) return L.IdentityChange.NewOrUnchanged;
        await store.set('identity', name.name(), next);
        if (previous === undefined) return L.IdentityChange.NewOrUnchanged;
        onIdentityChange(name.name(), previous, next);
        return L.IdentityChange.ReplacedExisting;
      },
      isTrustedIdentity: async (name: Signal.ProtocolAddress, key: Signal.PublicKey, direction: Signal.Direction) => {
        const known = await store.get('identity', name.name());
        return known === undefined || known === b64(key.serialize()) || direction === L.Direction.Receiving;
      },
      getIdentity: async (name: Signal.ProtocolAddress) => {
        const known = await store.get('identity', name.name());
        return known === undefined ? null : L.PublicKey.deserialize(bytes(known));
      },
    };
    this.identity = identityStore as unknown as Signal.IdentityKeyStore;
    this.sessions = {
      saveSession: async (name: Signal.ProtocolAddress, record: Signal.SessionRecord) =>
        store.set('session', nameOf(name), b64(record.serialize())),
      getSession: async (name: Signal.ProtocolAddress) => {
        const text = await store.get('session', nameOf(name));
        return text === undefined ? null : L.SessionRecord.deserialize(bytes(text));
      },
      getExistingSessions: async (names: Signal.ProtocolAddress[]) =>
        Promise.all(
          names.map(async (name) => {
            const text = await store.get('session', nameOf(name));
            if (text === undefined) throw new Error(`no session with device ${name.deviceId()} of ${name.name()}`);
            return L.SessionRecord.deserialize(bytes(text));
          }),
        ),
    } as unknown as Signal.SessionStore;
    this.preKeys = {
      savePreKey: async (id: number, record: Signal.PreKeyRecord) => store.set('prekey', String(id), b64(record.serialize())),
      getPreKey: async (id: number) => L.PreKeyRecord.deserialize(bytes(await required(store, 'prekey', id))),
      removePreKey: async (id: number) => store.delete('prekey', String(id)),
    } as unknown as Signal.PreKeyStore;
    this.signedPreKeys = {
      saveSignedPreKey: async (id: number, record: Signal.SignedPreKeyRecord) =>
        store.set('signed-prekey', String(id), b64(record.serialize())),
      getSignedPreKey: async (id: number) => L.SignedPreKeyRecord.deserialize(bytes(await required(store, 'signed-prekey', id))),
    } as unknown as Signal.SignedPreKeyStore;
    this.kyberPreKeys = {
      saveKyberPreKey: async (id: number, record: Signal.KyberPreKeyRecord) =>
        store.set('kyber-prekey', String(id), b64(record.serialize())),
      getKyberPreKey: async (id: number) => L.KyberPreKeyRecord.deserialize(bytes(await required(store, 'kyber-prekey', id))),
      // One-time Kyber keys are used once: drop them. The last-resort key (kept under `last-resort:`) stays.
      markKyberPreKeyUsed: async (id: number) => {
        if ((await store.get('counter', `kyber-last-resort:${id}`)) === undefined) await store.delete('kyber-prekey', String(id));
      },
    } as unknown as Signal.KyberPreKeyStore;
  }

  /** Whether this client holds a session with the device. */
  async hasSession(accountId: string, deviceId: number): Promise<boolean> {
    return (await this.store.get('session', `${accountId}.${deviceId}`)) !== undefined;
  }

  async deleteSession(accountId: string, deviceId: number): Promise<void> {
    await this.store.delete('session', `${accountId}.${deviceId}`);
  }

  /** Accepts a contact's identity key verified by the caller (against key transparency) for sending. */
  async trustIdentity(accountId: string, identityKey: string): Promise<void> {
    await this.store.set('identity', accountId, identityKey);
  }

  async knownIdentity(accountId: string): Promise<string | undefined> {
    return this.store.get('identity', accountId);
  }

  get localRegistrationId(): number {
    return this.local.registrationId;
  }
}

async function required(store: ClientStore, kind: 'prekey' | 'signed-prekey' | 'kyber-prekey', id: number): Promise<string> {
  const text = await store.get(kind, String(id));
  if (text === undefined) throw new Error(`no ${kind} ${id} in this client's store`);
  return text;
}
