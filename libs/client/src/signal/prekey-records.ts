import type * as Signal from '@signalapp/libsignal-client';
import type { PreKeyJson, SignedKeyJson } from '@sealpost/contracts';
import { libsignal } from '@sealpost/crypto';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A prekey as the device keeps it (libsignal record, private half inside) and as it uploads it (public half). */
export interface MadePreKey<R, U> {
  record: R;
  upload: U;
}

/**
 * The one place a Sealpost client makes prekeys: every kind comes from libsignal, and a signed
 * key's signature is the identity key's XEdDSA signature over the serialised public key — what
 * the directory verifies and what a libsignal peer checks before a PQXDH session.
 */
export function makeSignedPreKey(identity: Signal.PrivateKey, keyId: number): MadePreKey<Signal.SignedPreKeyRecord, SignedKeyJson> {
  const L = libsignal();
  const key = L.PrivateKey.generate();
  const publicKey = key.getPublicKey();
  const signature = identity.sign(publicKey.serialize());
  return {
    record: L.SignedPreKeyRecord.new(keyId, Date.now(), publicKey, key, signature),
    upload: { keyId, publicKey: b64(publicKey.serialize()), signature: b64(signature) },
  };
}

/** A signed Kyber1024 prekey (one-time or last-resort: the record is the same, the store decides). `pair` lets a caller reuse one. */
export function makeKyberPreKey(
  identity: Signal.PrivateKey,
  keyId: number,
  pair: Signal.KEMKeyPair = libsignal().KEMKeyPair.generate(),
): MadePreKey<Signal.KyberPreKeyRecord, SignedKeyJson> {
  const publicKey = pair.getPublicKey().serialize();
  const signature = identity.sign(publicKey);
  return {
    record: libsignal().KyberPreKeyRecord.new(keyId, Date.now(), pair, signature),
    upload: { keyId, publicKey: b64(publicKey), signature: b64(signature) },
  };
}

/** An unsigned one-time EC prekey. */
export function makeOneTimePreKey(keyId: number): MadePreKey<Signal.PreKeyRecord, PreKeyJson> {
  const L = libsignal();
  const key = L.PrivateKey.generate();
  return {
    record: L.PreKeyRecord.new(keyId, key.getPublicKey(), key),
    upload: { keyId, publicKey: b64(key.getPublicKey().serialize()) },
  };
}
