import {
  EC_PUBLIC_KEY_LENGTH,
  EC_PUBLIC_KEY_TYPE,
  KEM_KEY_TYPE_KYBER1024,
  KEM_KEY_TYPE_MLKEM1024,
  KEM_PUBLIC_KEY_TYPES,
  isEcPublicKey,
  isKemPublicKey,
} from './key-formats';
import { loadLibsignal } from './testing/libsignal-loader';

const { PrivateKey, KEMKeyPair, KEMPublicKey } = loadLibsignal();

describe('key formats (checked against @signalapp/libsignal-client)', () => {
  it('EC public keys are 0x05 || 32 bytes', () => {
    const key = PrivateKey.generate().getPublicKey().serialize();
    expect(key).toHaveLength(EC_PUBLIC_KEY_LENGTH);
    expect(key[0]).toBe(EC_PUBLIC_KEY_TYPE);
    expect(isEcPublicKey(key)).toBe(true);
    expect(isEcPublicKey(key.subarray(1))).toBe(false);
    expect(isEcPublicKey(Uint8Array.of(0x06, ...key.subarray(1)))).toBe(false);
    expect(isEcPublicKey(Uint8Array.of(...key, 0))).toBe(false);
  });

  it('KEMKeyPair.generate() yields type 0x08 keys of 1 + 1568 bytes', () => {
    const key = KEMKeyPair.generate().getPublicKey().serialize();
    expect(key[0]).toBe(KEM_KEY_TYPE_KYBER1024);
    expect(key).toHaveLength(1569);
    expect(KEM_PUBLIC_KEY_TYPES.get(0x08)).toBe(1569);
    expect(isKemPublicKey(key)).toBe(true);
    expect(isKemPublicKey(key.subarray(0, 1568))).toBe(false);
    expect(isKemPublicKey(Uint8Array.of(...key, 0))).toBe(false);
    expect(isKemPublicKey(new Uint8Array(0))).toBe(false);
    expect(isKemPublicKey(PrivateKey.generate().getPublicKey().serialize())).toBe(false);
  });

  it('does not accept ML-KEM-1024 type 0x0A because libsignal-client itself rejects it', () => {
    const key = Uint8Array.from(KEMKeyPair.generate().getPublicKey().serialize());
    key[0] = KEM_KEY_TYPE_MLKEM1024;
    expect(() => KEMPublicKey.deserialize(key)).toThrow(/bad KEM key type/);
    expect(KEM_PUBLIC_KEY_TYPES.has(KEM_KEY_TYPE_MLKEM1024)).toBe(false);
    expect(isKemPublicKey(key)).toBe(false);
  });

  it('accepts exactly the types/lengths libsignal-client deserialises', () => {
    const key = Uint8Array.from(KEMKeyPair.generate().getPublicKey().serialize());
    for (let type = 0; type < 256; type++) {
      key[0] = type;
      let libsignalAccepts = true;
      try {
        KEMPublicKey.deserialize(key);
      } catch {
        libsignalAccepts = false;
      }
      expect([type, isKemPublicKey(key)]).toEqual([type, libsignalAccepts]);
    }
  });
});
