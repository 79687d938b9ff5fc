/**
 * Account registration and device-linking bodies with real libsignal keys, keeping the account's
 * identity so that linked devices' keys can be signed by it.
 */
import { randomBytes } from 'node:crypto';
import type { SignedKeyBody } from './signal-keys';

type Libsignal = typeof import('@signalapp/libsignal-client');
const libsignal = require('@signalapp/libsignal-client') as Libsignal;
type Bytes = ReturnType<Libsignal['PublicKey']['prototype']['serialize']>;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const randomRegistrationId = (): number => 1 + Math.floor(Math.random() * 0x3ffe);

export interface BenchAccountKeys {
  /** The POST /v1/accounts body (no one-time keys), with an unidentified access key for sealed sends. */
  registration: {
    localpart: string;
    identityKey: string;
    registrationId: number;
    signedPreKey: SignedKeyBody;
    pqLastResortPreKey: SignedKeyBody;
    preKeys: [];
    pqPreKeys: [];
    unidentifiedAccessKey: string;
  };
  /** The 16 bytes, base64: what a sealed sender puts in `Unidentified-Access-Key`. */
  unidentifiedAccessKey: string;
  /** A body for POST /v1/devices with this code: a new registration id, keys signed by the account identity. */
  linkBody(code: string): { code: string; registrationId: number; signedPreKey: SignedKeyBody; pqLastResortPreKey: SignedKeyBody };
}

/**
 * A fresh account identity. Linked devices reuse one signed EC prekey and one signed PQ
 * last-resort key made once per account (valid signatures by the identity; keeps setup fast).
 */
export function benchAccountKeys(localpart: string): BenchAccountKeys {
  const identity = libsignal.PrivateKey.generate();
  const signed = (keyId: number, publicKey: Bytes): SignedKeyBody => ({
    keyId,
    publicKey: b64(publicKey),
    signature: b64(identity.sign(publicKey)),
  });
  const ec = () => libsignal.PrivateKey.generate().getPublicKey().serialize();
  const kem = () => libsignal.KEMKeyPair.generate().getPublicKey().serialize();
  const unidentifiedAccessKey = randomBytes(16).toString('base64');
  const linkSigned = signed(1, ec());
  const linkPq = signed(1, kem());
  return {
    registration: {
      localpart,
      identityKey: b64(identity.getPublicKey().serialize()),
      registrationId: randomRegistrationId(),
      signedPreKey: signed(1, ec()),
      pqLastResortPreKey: signed(1, kem()),
      preKeys: [],
      pqPreKeys: [],
      unidentifiedAccessKey,
    },
    unidentifiedAccessKey,
    linkBody: (code) => ({ code, registrationId: randomRegistrationId(), signedPreKey: linkSigned, pqLastResortPreKey: linkPq }),
  };
}
