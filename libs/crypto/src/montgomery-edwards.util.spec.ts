import sodium from 'libsodium-wrappers';
import { initCrypto } from './sodium-init.util';
import {
  EDWARDS_Y_CACHE_MAX,
  FIELD_PRIME,
  bigIntToBytesLE32,
  bytesToBigIntLE,
  cachedMontgomeryUToEdwardsY,
  clearEdwardsYCache,
  edwardsYCacheSize,
  montgomeryUToEdwardsY,
} from './montgomery-edwards.util';

describe('montgomery → edwards conversion', () => {
  beforeAll(initCrypto);
  afterEach(clearEdwardsYCache);

  it('round-trips little-endian encodings', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    expect(bytesToBigIntLE(bytes) & 0xffn).toBe(1n);
    expect(bytesToBigIntLE(bytes) >> 248n).toBe(32n);
    expect(bigIntToBytesLE32(bytesToBigIntLE(bytes))).toEqual(bytes);
    expect(bigIntToBytesLE32(1n)[0]).toBe(1);
    expect(bigIntToBytesLE32(FIELD_PRIME - 1n)).toEqual(Uint8Array.from([0xec, ...Array(30).fill(0xff), 0x7f]));
  });

  it('is the inverse of libsodium ed25519_pk_to_curve25519 (sign bit aside)', () => {
    for (let i = 0; i < 50; i++) {
      const { publicKey } = sodium.crypto_sign_keypair();
      const u = sodium.crypto_sign_ed25519_pk_to_curve25519(publicKey);
      const expected = Uint8Array.from(publicKey);
      expected[31] &= 0x7f;
      expect(montgomeryUToEdwardsY(u)).toEqual(expected);
    }
  });

  it('masks bit 255, reduces u mod p, and refuses u = p - 1', () => {
    const u = bigIntToBytesLE32(9n);
    const high = Uint8Array.from(u);
    high[31] |= 0x80;
    expect(montgomeryUToEdwardsY(high)).toEqual(montgomeryUToEdwardsY(u));
    expect(montgomeryUToEdwardsY(bigIntToBytesLE32(9n + FIELD_PRIME))).toEqual(montgomeryUToEdwardsY(u));
    expect(montgomeryUToEdwardsY(bigIntToBytesLE32(FIELD_PRIME - 1n))).toBeNull();
    expect(montgomeryUToEdwardsY(new Uint8Array(31))).toBeNull();
    // u = 0 → y = -1 = p - 1
    expect(montgomeryUToEdwardsY(new Uint8Array(32))).toEqual(bigIntToBytesLE32(FIELD_PRIME - 1n));
  });

  it('caches conversions in a bounded LRU', () => {
    const first = bigIntToBytesLE32(12345n);
    const a = cachedMontgomeryUToEdwardsY(first);
    expect(cachedMontgomeryUToEdwardsY(first)).toBe(a);
    for (let i = 1; i <= EDWARDS_Y_CACHE_MAX + 5; i++) {
      if (i % 1000 === 0) cachedMontgomeryUToEdwardsY(first); // keep `first` recently used
      cachedMontgomeryUToEdwardsY(bigIntToBytesLE32(BigInt(i) * 7919n));
    }
    expect(edwardsYCacheSize()).toBe(EDWARDS_Y_CACHE_MAX);
    expect(cachedMontgomeryUToEdwardsY(first)).toBe(a); // survived eviction thanks to recency refresh
  });
});
