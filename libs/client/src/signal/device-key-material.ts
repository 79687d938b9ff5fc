import type * as Signal from '@signalapp/libsignal-client';
import type { PreKeyJson, SignedKeyJson } from '@sealpost/contracts';
import { libsignal } from '@sealpost/crypto';
import type { DeviceKeyUpload, RegisterRequest } from '../api/homeserver-api';
import { newRegistrationId } from './prekey-generator';
import { makeKyberPreKey, makeOneTimePreKey, makeSignedPreKey } from './prekey-records';

export interface DeviceKeyOptions {
  /** Sign every PQ prekey over one Kyber key pair (each still signed separately): saves a KEM key generation per key in big batches. */
  reuseKemKey?: boolean;
  registrationId?: number;
  /** The account's identity, for a second device of it; a fresh one when absent. */
  identityKeyPair?: Signal.IdentityKeyPair;
}

/** How many one-time keys of each kind an upload carries, and where their ids start. */
export interface UploadCounts {
  preKeys?: number;
  pqPreKeys?: number;
  /** First one-time EC key id (default 1); the PQ ones start 999 above it, after the last-resort key. */
  firstKeyId?: number;
}

/**
 * A device's identity and prekeys made by the SDK's own key code (prekey-records.ts), with the
 * key ids chosen by the caller: what a spec or a bench needs to build registration and upload
 * bodies by hand — including deliberately wrong ones (`sign` a key it should not) — without a
 * second implementation of the client's key work. Only the public uploads are kept; a device
 * that must decrypt is a `SealpostClient`.
 */
export class DeviceKeyMaterial {
  readonly identityKey: Buffer;
  readonly identityKeyBase64: string;
  /** The identity private key (libsignal serialisation), so a spec can prove it is never stored or logged. */
  readonly privateKey: Buffer;
  readonly registrationId: number;
  private sharedKem?: Signal.KEMKeyPair;

  private constructor(
    readonly identityKeyPair: Signal.IdentityKeyPair,
    registrationId: number,
    private readonly reuseKemKey: boolean,
  ) {
    this.identityKey = Buffer.from(identityKeyPair.publicKey.serialize());
    this.identityKeyBase64 = this.identityKey.toString('base64');
    this.privateKey = Buffer.from(identityKeyPair.privateKey.serialize());
    this.registrationId = registrationId;
  }

  static generate(options: DeviceKeyOptions = {}): DeviceKeyMaterial {
    return new DeviceKeyMaterial(
      options.identityKeyPair ?? libsignal().IdentityKeyPair.generate(),
      options.registrationId ?? newRegistrationId(),
      options.reuseKemKey ?? false,
    );
  }

  /** Another device of the same account: the same identity key, its own registration id. */
  linkedDevice(registrationId = newRegistrationId()): DeviceKeyMaterial {
    return new DeviceKeyMaterial(this.identityKeyPair, registrationId, this.reuseKemKey);
  }

  /** A fresh EC signed prekey; signature = XEdDSA over the 33-byte serialised public key. */
  signedPreKey(keyId: number): SignedKeyJson {
    return makeSignedPreKey(this.identityKeyPair.privateKey, keyId).upload;
  }

  /** A Kyber1024 prekey (type 0x08, 1569 bytes) signed over its serialised public key. */
  pqPreKey(keyId: number): SignedKeyJson {
    if (!this.reuseKemKey) return makeKyberPreKey(this.identityKeyPair.privateKey, keyId).upload;
    this.sharedKem ??= libsignal().KEMKeyPair.generate();
    return makeKyberPreKey(this.identityKeyPair.privateKey, keyId, this.sharedKem).upload;
  }

  /** A fresh unsigned one-time EC prekey. */
  preKey(keyId: number): PreKeyJson {
    return makeOneTimePreKey(keyId).upload;
  }

  preKeys(firstKeyId: number, count: number): PreKeyJson[] {
    return Array.from({ length: count }, (_, i) => this.preKey(firstKeyId + i));
  }

  pqPreKeys(firstKeyId: number, count: number): SignedKeyJson[] {
    return Array.from({ length: count }, (_, i) => this.pqPreKey(firstKeyId + i));
  }

  /** XEdDSA-signs arbitrary bytes with the identity key (libsignal `PrivateKey.sign`). */
  sign(message: Uint8Array): Buffer {
    return Buffer.from(this.identityKeyPair.privateKey.sign(Uint8Array.from(message)));
  }

  /** The keys a new device uploads (POST /v1/devices): signed and last-resort keys with id `firstKeyId`, `firstKeyId + 998`. */
  deviceUpload({ preKeys = 0, pqPreKeys = 0, firstKeyId = 1 }: UploadCounts = {}): Required<DeviceKeyUpload> {
    return {
      registrationId: this.registrationId,
      signedPreKey: this.signedPreKey(firstKeyId),
      pqLastResortPreKey: this.pqPreKey(firstKeyId + 998),
      preKeys: this.preKeys(firstKeyId, preKeys),
      pqPreKeys: this.pqPreKeys(firstKeyId + 999, pqPreKeys),
    };
  }

  /** A POST /v1/accounts body for `localpart` with this identity. */
  registration(
    localpart: string,
    counts: UploadCounts = {},
    extra: Pick<RegisterRequest, 'unidentifiedAccessKey' | 'registrationToken'> = {},
  ) {
    return {
      localpart,
      identityKey: this.identityKeyBase64,
      ...this.deviceUpload(counts),
      ...extra,
    } satisfies RegisterRequest;
  }
}

/** A new device identity with its key factory (see DeviceKeyMaterial). */
export function newDeviceKeys(options: DeviceKeyOptions = {}): DeviceKeyMaterial {
  return DeviceKeyMaterial.generate(options);
}
