import sodium from 'libsodium-wrappers';
import { identityKeyKind, verifyIdentitySignature } from './identity-signature.verifier';
import { initCrypto } from './sodium-init.util';
import { loadLibsignal } from './testing/libsignal-loader';

const { PrivateKey } = loadLibsignal();

describe('identity signatures', () => {
  beforeAll(initCrypto);

  it('classifies identity keys', () => {
    expect(identityKeyKind(Uint8Array.of(0x05, ...new Uint8Array(32)))).toBe('curve25519');
    expect(identityKeyKind(Uint8Array.of(0x06, ...new Uint8Array(32)))).toBeNull();
    expect(identityKeyKind(new Uint8Array(32))).toBe('ed25519');
    expect(identityKeyKind(new Uint8Array(31))).toBeNull();
    expect(identityKeyKind(new Uint8Array(0))).toBeNull();
    expect(identityKeyKind(null as unknown as Uint8Array)).toBeNull();
  });

  it('dispatches 33-byte 0x05 keys to XEdDSA', () => {
    const identity = PrivateKey.generate();
    const message = PrivateKey.generate().getPublicKey().serialize();
    const key = identity.getPublicKey().serialize();
    const signature = identity.sign(message);
    expect(verifyIdentitySignature(key, message, signature)).toBe(true);
    // the same bytes are not an Ed25519 key: stripping the type byte must not verify
    expect(verifyIdentitySignature(key.subarray(1), message, signature)).toBe(false);
  });

  it('dispatches 32-byte keys to Ed25519', () => {
    const { publicKey, privateKey } = sodium.crypto_sign_keypair();
    const message = sodium.randombytes_buf(40);
    const signature = sodium.crypto_sign_detached(message, privateKey);
    expect(verifyIdentitySignature(publicKey, message, signature)).toBe(true);
    expect(verifyIdentitySignature(Uint8Array.of(0x05, ...publicKey), message, signature)).toBe(false);
  });

  it('returns false for unknown key shapes', () => {
    expect(verifyIdentitySignature(new Uint8Array(34), new Uint8Array(1), new Uint8Array(64))).toBe(false);
    expect(verifyIdentitySignature(Uint8Array.of(0x08, ...new Uint8Array(32)), new Uint8Array(1), new Uint8Array(64))).toBe(false);
  });
});
