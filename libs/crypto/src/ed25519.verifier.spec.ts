import sodium from 'libsodium-wrappers';
import { verifyEd25519 } from './ed25519.verifier';
import { initCrypto } from './sodium-init.util';

describe('verifyEd25519', () => {
  beforeAll(initCrypto);

  it('verifies libsodium signatures and rejects tampering', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey, privateKey } = sodium.crypto_sign_keypair();
      const message = sodium.randombytes_buf(1 + i * 7);
      const signature = sodium.crypto_sign_detached(message, privateKey);
      expect(verifyEd25519(publicKey, message, signature)).toBe(true);
      expect(verifyEd25519(Buffer.from(publicKey), Buffer.from(message), Buffer.from(signature))).toBe(true);

      const badSig = Uint8Array.from(signature);
      badSig[i % 64] ^= 0x01;
      expect(verifyEd25519(publicKey, message, badSig)).toBe(false);
      const badMsg = Uint8Array.from(message);
      badMsg[0] ^= 0x80;
      expect(verifyEd25519(publicKey, badMsg, signature)).toBe(false);
      const badKey = Uint8Array.from(publicKey);
      badKey[i % 32] ^= 0x04;
      expect(verifyEd25519(badKey, message, signature)).toBe(false);
    }
  });

  it('returns false (never throws) on bad lengths or types', () => {
    const { publicKey, privateKey } = sodium.crypto_sign_keypair();
    const message = Uint8Array.of(1, 2, 3);
    const signature = sodium.crypto_sign_detached(message, privateKey);
    const cases: Array<[unknown, unknown, unknown]> = [
      [publicKey.subarray(0, 31), message, signature],
      [Uint8Array.of(5, ...publicKey), message, signature],
      [publicKey, message, signature.subarray(0, 63)],
      [publicKey, message, Uint8Array.of(...signature, 0)],
      [publicKey, 'abc', signature],
      [null, message, signature],
      [publicKey, message, undefined],
    ];
    for (const [k, m, s] of cases) {
      expect(() => verifyEd25519(k as Uint8Array, m as Uint8Array, s as Uint8Array)).not.toThrow();
      expect(verifyEd25519(k as Uint8Array, m as Uint8Array, s as Uint8Array)).toBe(false);
    }
  });
});
