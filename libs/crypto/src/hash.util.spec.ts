import { sha256 } from './hash.util';
import { constantTimeEqual, randomBytes } from './random.util';
import { initCrypto } from './sodium-init.util';

describe('sha256', () => {
  it('matches the FIPS 180-2 test vector for strings and bytes', () => {
    const expected = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256('abc').toString('hex')).toBe(expected);
    expect(sha256(Uint8Array.of(0x61, 0x62, 0x63)).toString('hex')).toBe(expected);
    expect(Buffer.isBuffer(sha256(''))).toBe(true);
    expect(sha256('é')).toEqual(sha256(Buffer.from('é', 'utf8')));
  });
});

describe('randomBytes / constantTimeEqual', () => {
  beforeAll(initCrypto);

  it('returns Buffers of the requested length', () => {
    for (const n of [0, 1, 32, 1000]) {
      const bytes = randomBytes(n);
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect(bytes).toHaveLength(n);
    }
    expect(randomBytes(32).equals(randomBytes(32))).toBe(false);
    expect(() => randomBytes(-1)).toThrow(RangeError);
    expect(() => randomBytes(2.5)).toThrow(RangeError);
  });

  it('compares in constant time and is false on length mismatch', () => {
    const a = randomBytes(32);
    expect(constantTimeEqual(a, Buffer.from(a))).toBe(true);
    expect(constantTimeEqual(a, Uint8Array.from(a))).toBe(true);
    const b = Buffer.from(a);
    b[31] ^= 1;
    expect(constantTimeEqual(a, b)).toBe(false);
    expect(constantTimeEqual(a, a.subarray(0, 31))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
