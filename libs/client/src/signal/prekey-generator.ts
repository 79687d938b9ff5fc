import { randomInt } from 'node:crypto';
import type * as Signal from '@signalapp/libsignal-client';
import type { PreKeyJson, SignedKeyJson } from '@sealpost/contracts';
import type { DeviceKeyUpload } from '../api/homeserver-api';
import type { AccountRecords } from '../store/account-state';
import { makeKyberPreKey, makeOneTimePreKey, makeSignedPreKey } from './prekey-records';
import type { SignalProtocolStores } from './protocol-stores';

/** The server takes at most this many keys per list (MAX_PREKEYS_PER_UPLOAD's default). */
export const PREKEY_BATCH = 100;
/** Below this many unused one-time keys (EC or PQ) the client uploads a fresh batch. */
export const PREKEY_LOW_WATER = 20;
const MAX_KEY_ID = 0x7fffffff;

/**
 * Makes this device's prekeys with libsignal, keeps their private halves in the store (through
 * libsignal's stores) and returns the public upload. Key ids count up per kind and wrap below 2^31.
 */
export class PreKeyGenerator {
  constructor(
    private readonly identityKeyPair: Signal.IdentityKeyPair,
    private readonly stores: SignalProtocolStores,
    private readonly records: AccountRecords,
  ) {}

  async signedPreKey(): Promise<SignedKeyJson> {
    const id = await this.nextId('signed-prekey-id');
    const { record, upload } = makeSignedPreKey(this.identityKeyPair.privateKey, id);
    await this.stores.signedPreKeys.saveSignedPreKey(id, record);
    await this.records.setCounter('signed-prekey-current', id);
    return upload;
  }

  /** A signed Kyber key: `lastResort` keys are kept after use (libsignal falls back to them). */
  async kyberPreKey(lastResort: boolean): Promise<SignedKeyJson> {
    const id = await this.nextId('kyber-prekey-id');
    const { record, upload } = makeKyberPreKey(this.identityKeyPair.privateKey, id);
    if (lastResort) await this.records.setCounter(`kyber-last-resort:${id}`, Date.now());
    await this.stores.kyberPreKeys.saveKyberPreKey(id, record);
    return upload;
  }

  async oneTimePreKeys(count = PREKEY_BATCH): Promise<PreKeyJson[]> {
    const keys: PreKeyJson[] = [];
    for (let i = 0; i < count; i++) {
      const id = await this.nextId('prekey-id');
      const { record, upload } = makeOneTimePreKey(id);
      await this.stores.preKeys.savePreKey(id, record);
      keys.push(upload);
    }
    return keys;
  }

  async oneTimeKyberPreKeys(count = PREKEY_BATCH): Promise<SignedKeyJson[]> {
    const keys: SignedKeyJson[] = [];
    for (let i = 0; i < count; i++) keys.push(await this.kyberPreKey(false));
    return keys;
  }

  /** Everything a new device uploads: repeated-use keys and a batch of each one-time kind. */
  async deviceUpload(oneTimeKeys = PREKEY_BATCH): Promise<DeviceKeyUpload> {
    const upload = {
      registrationId: this.stores.localRegistrationId,
      signedPreKey: await this.signedPreKey(),
      pqLastResortPreKey: await this.kyberPreKey(true),
      preKeys: await this.oneTimePreKeys(oneTimeKeys),
      pqPreKeys: await this.oneTimeKyberPreKeys(oneTimeKeys),
    };
    await this.records.setCounter('repeated-use-keys-rotated-at', Date.now());
    return upload;
  }

  private async nextId(counter: string): Promise<number> {
    const id = await this.records.nextId(counter, 1);
    if (id < MAX_KEY_ID) return id;
    await this.records.setCounter(counter, 2);
    return 1;
  }
}

/** A registration id as libsignal makes them: 14 bits, never 0. */
export function newRegistrationId(): number {
  return randomInt(1, 0x3fff);
}
