/**
 * Real Signal keys for bench request bodies, straight from @signalapp/libsignal-client
 * (plain Node loads the ESM-only package through require(esm); the jest-only loader in
 * libs/crypto/src/testing is not part of the build).
 */
type Libsignal = typeof import('@signalapp/libsignal-client');
const libsignal = require('@signalapp/libsignal-client') as Libsignal;

export interface SignedKeyBody {
  keyId: number;
  publicKey: string;
  signature: string;
}
export interface PreKeyBody {
  keyId: number;
  publicKey: string;
}

export interface RegistrationBody {
  localpart: string;
  identityKey: string;
  registrationId: number;
  signedPreKey: SignedKeyBody;
  pqLastResortPreKey: SignedKeyBody;
  preKeys: PreKeyBody[];
  pqPreKeys: SignedKeyBody[];
}

/** Serialised key bytes as libsignal returns them (and `PrivateKey.sign` accepts them). */
type Bytes = ReturnType<Libsignal['PublicKey']['prototype']['serialize']>;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const ecPublicKey = (): Bytes => libsignal.PrivateKey.generate().getPublicKey().serialize();

/** `count` fresh unsigned one-time EC prekeys with ids firstId, firstId+1, ... */
export function ecPreKeys(firstId: number, count: number): PreKeyBody[] {
  return Array.from({ length: count }, (_, i) => ({ keyId: firstId + i, publicKey: b64(ecPublicKey()) }));
}

/**
 * A full registration body with real XEdDSA signatures. The account's PQ one-time keys reuse one
 * Kyber public key (each entry still carries its own signature) to keep setup fast.
 */
export function registrationBody(localpart: string, ecCount: number, pqCount: number): RegistrationBody {
  const identity = libsignal.PrivateKey.generate();
  const sign = (publicKey: Bytes): string => b64(identity.sign(publicKey));
  const signed = (keyId: number, publicKey: Bytes): SignedKeyBody => ({ keyId, publicKey: b64(publicKey), signature: sign(publicKey) });
  const kemPublicKey = libsignal.KEMKeyPair.generate().getPublicKey().serialize();
  return {
    localpart,
    identityKey: b64(identity.getPublicKey().serialize()),
    registrationId: 1 + Math.floor(Math.random() * 0x3ffe),
    signedPreKey: signed(1, ecPublicKey()),
    pqLastResortPreKey: signed(1, libsignal.KEMKeyPair.generate().getPublicKey().serialize()),
    preKeys: ecPreKeys(1, ecCount),
    pqPreKeys: Array.from({ length: pqCount }, (_, i) => signed(1000 + i, kemPublicKey)),
  };
}
