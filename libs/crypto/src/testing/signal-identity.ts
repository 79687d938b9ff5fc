import { loadLibsignal } from './libsignal-loader';

/** Upload shape of a signed EC or KEM prekey; base64 is standard padded. */
export interface SignedPreKeyUpload {
  keyId: number;
  publicKey: string;
  signature: string;
}

/** Upload shape of a one-time EC prekey. */
export interface PreKeyUpload {
  keyId: number;
  publicKey: string;
}

export interface SignalIdentityOptions {
  /**
   * Reuse a single KEM public key for every `pqPreKey()` call (each is still signed separately).
   * Saves a KEM key generation per call (~0.05 ms natively, so mostly useful for very large batches).
   */
  reuseKemKey?: boolean;
}

export interface SignalIdentity {
  /** 33-byte serialised libsignal identity public key (`0x05 || u`). */
  identityKey: Buffer;
  /** `identityKey` as standard padded base64. */
  identityKeyBase64: string;
  /** The identity private key (32 bytes, libsignal serialisation), so tests can prove it is never stored or logged. */
  privateKey: Buffer;
  /** A fresh EC signed prekey; signature = XEdDSA over the 33-byte serialised public key. */
  signedPreKey(keyId: number): SignedPreKeyUpload;
  /** A KEM (Kyber1024, type 0x08, 1569 bytes) prekey; signature over the full serialised key. */
  pqPreKey(keyId: number): SignedPreKeyUpload;
  /** A fresh unsigned one-time EC prekey. */
  preKey(keyId: number): PreKeyUpload;
  /** XEdDSA-sign arbitrary bytes with the identity key (libsignal `PrivateKey.sign`). */
  sign(message: Uint8Array): Buffer;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/**
 * A throwaway Signal identity backed by the real @signalapp/libsignal-client, producing prekey
 * uploads exactly as a Signal client would. For tests only; import via relative path
 * `libs/crypto/src/testing/signal-identity.ts`.
 */
export function makeSignalIdentity(options: SignalIdentityOptions = {}): SignalIdentity {
  const { PrivateKey, KEMKeyPair } = loadLibsignal();
  const identity = PrivateKey.generate();
  const identityKey = Buffer.from(identity.getPublicKey().serialize());
  let sharedKemPublicKey: Uint8Array | undefined;

  const sign = (message: Uint8Array): Buffer => Buffer.from(identity.sign(Uint8Array.from(message)));
  const kemPublicKey = (): Uint8Array => {
    if (!options.reuseKemKey) return KEMKeyPair.generate().getPublicKey().serialize();
    sharedKemPublicKey ??= KEMKeyPair.generate().getPublicKey().serialize();
    return sharedKemPublicKey;
  };

  return {
    identityKey,
    identityKeyBase64: identityKey.toString('base64'),
    privateKey: Buffer.from(identity.serialize()),
    signedPreKey(keyId) {
      const publicKey = PrivateKey.generate().getPublicKey().serialize();
      return { keyId, publicKey: b64(publicKey), signature: b64(sign(publicKey)) };
    },
    pqPreKey(keyId) {
      const publicKey = kemPublicKey();
      return { keyId, publicKey: b64(publicKey), signature: b64(sign(publicKey)) };
    },
    preKey(keyId) {
      return { keyId, publicKey: b64(PrivateKey.generate().getPublicKey().serialize()) };
    },
    sign,
  };
}
