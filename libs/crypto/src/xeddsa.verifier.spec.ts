import { initCrypto } from './sodium-init.util';
import { verifyXEdDsa } from './xeddsa.verifier';
import { FIELD_PRIME, bigIntToBytesLE32 } from './montgomery-edwards.util';
import { loadLibsignal } from './testing/libsignal-loader';

const { PrivateKey, PublicKey, KEMKeyPair } = loadLibsignal();
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** Generated once with @signalapp/libsignal-client 0.103.0 (`PrivateKey.sign` over a serialised EC public key). */
const FIXED_VECTORS = [
  {
    signBit: 1,
    identityKey: '05a9af3af81900c810dfd477522b4a43cecb2de815f5c5b77f86be9cc1fc285e5a',
    message: '0582a87fd2b1babdd15263d82011d9b73a5c994b9ef36c8d8c1b7c3b1829636e4f',
    signature:
      'dbe0cec3d6bc5bbc84422572c9ec680fb177549d0177e7235fca2650e6bd5217e4b0cb6b9131ac39ea33f29dda0009351b0a4a2e6ec41ca48560466e6109f589',
  },
  {
    signBit: 0,
    identityKey: '05d7ff682671735936869b18dfb3aafb534965bc96f092f6a40154a484b2e9970f',
    message: '05a97cf89a20dba6dff02c63da369bbe26a606c07e071a17a278ebb8105be43f4c',
    signature:
      '1ebcae8d2fa9b0d20bf842c264fd845856c0210d9367afeabe0933a72efa2e7e25202b9848f58c664d85952348c853fe51a195f541c822e36b7e66578d4fd505',
  },
];

interface Vector {
  key: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** libsignal's own verdict, used as the oracle for mutated inputs. */
function libsignalVerify(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return PublicKey.deserialize(Uint8Array.from(key)).verify(Uint8Array.from(message), Uint8Array.from(signature));
  } catch {
    return false;
  }
}

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

function randomInt(maxExclusive: number): number {
  return Math.floor(Math.random() * maxExclusive);
}

function makeVector(i: number): Vector {
  const identity = PrivateKey.generate();
  const message =
    i % 4 === 3
      ? KEMKeyPair.generate().getPublicKey().serialize() // pq prekey: signature over the 1569-byte KEM key
      : PrivateKey.generate().getPublicKey().serialize(); // signed prekey: signature over the 33-byte EC key
  return {
    key: Uint8Array.from(identity.getPublicKey().serialize()),
    message: Uint8Array.from(message),
    signature: Uint8Array.from(identity.sign(message)),
  };
}

describe('verifyXEdDsa', () => {
  let vectors: Vector[];

  beforeAll(async () => {
    await initCrypto();
    vectors = Array.from({ length: 200 }, (_, i) => makeVector(i));
  });

  it.each(FIXED_VECTORS)('verifies the pasted libsignal vector with sign bit $signBit', (v) => {
    const signature = hex(v.signature);
    expect(signature[63] >> 7).toBe(v.signBit);
    expect(verifyXEdDsa(hex(v.identityKey), hex(v.message), signature)).toBe(true);
    expect(verifyXEdDsa(hex(v.identityKey), flip(hex(v.message), 0), signature)).toBe(false);
    expect(verifyXEdDsa(hex(v.identityKey), hex(v.message), flip(signature, 511))).toBe(false);
  });

  it('verifies 200 real libsignal signatures, covering both Edwards sign-bit values', () => {
    const signBits = new Set<number>();
    for (const v of vectors) {
      expect(v.key).toHaveLength(33);
      expect(verifyXEdDsa(v.key, v.message, v.signature)).toBe(true);
      signBits.add(v.signature[63] >> 7);
    }
    expect([...signBits].sort()).toEqual([0, 1]);
    expect(vectors.some((v) => v.message.length === 1569)).toBe(true);
    expect(vectors.some((v) => v.message.length === 33)).toBe(true);
  });

  it('rejects every sampled single-bit flip of signature, message or key, agreeing with libsignal', () => {
    const sigBits = [0, 7, 255, 256, 500, 503, 508, 509, 510, 511]; // R, S, the 0xE0 guard bits, the sign bit
    let checked = 0;
    for (const v of vectors.slice(0, 40)) {
      const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [];
      for (const bit of [...sigBits, randomInt(512), randomInt(512)]) cases.push([v.key, v.message, flip(v.signature, bit)]);
      for (const bit of [0, v.message.length * 8 - 1, randomInt(v.message.length * 8)])
        cases.push([v.key, flip(v.message, bit), v.signature]);
      // key: type byte bits, u bits (bit 255 of u, i.e. key bit 263, is masked by libsignal; tested below)
      for (const bit of [0, 2, 7, 8, 9, 100, 262, 8 + randomInt(255)]) cases.push([flip(v.key, bit), v.message, v.signature]);
      for (const [key, message, signature] of cases) {
        expect(verifyXEdDsa(key, message, signature)).toBe(false);
        expect(libsignalVerify(key, message, signature)).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40 * 20);
  });

  it('ignores the top bit of u exactly like libsignal (curve25519-dalek masks it)', () => {
    for (const v of vectors.slice(0, 10)) {
      const key = flip(v.key, 8 + 255);
      expect(libsignalVerify(key, v.message, v.signature)).toBe(true);
      expect(verifyXEdDsa(key, v.message, v.signature)).toBe(true);
    }
  });

  it('refuses u = p - 1 (no Edwards image) and other degenerate keys without throwing', () => {
    const v = vectors[0];
    const withU = (u: bigint): Uint8Array => Uint8Array.of(0x05, ...bigIntToBytesLE32(u));
    for (const u of [FIELD_PRIME - 1n, 0n, 1n, FIELD_PRIME, FIELD_PRIME + 1n]) {
      expect(verifyXEdDsa(withU(u), v.message, v.signature)).toBe(false);
      expect(libsignalVerify(withU(u), v.message, v.signature)).toBe(false);
    }
  });

  it('returns false (never throws) on wrong lengths, type bytes and types', () => {
    const v = vectors[0];
    const wrongType = Uint8Array.from(v.key);
    wrongType[0] = 0x06;
    const bad: Array<[unknown, unknown, unknown]> = [
      [v.key.subarray(1), v.message, v.signature],
      [Uint8Array.of(...v.key, 0), v.message, v.signature],
      [wrongType, v.message, v.signature],
      [new Uint8Array(0), v.message, v.signature],
      [v.key, v.message, v.signature.subarray(0, 63)],
      [v.key, v.message, Uint8Array.of(...v.signature, 0)],
      [v.key, v.message, new Uint8Array(0)],
      [null, v.message, v.signature],
      [v.key, undefined, v.signature],
      [v.key, v.message, 'not bytes'],
      [Buffer.from(v.key).toString('hex'), v.message, v.signature],
    ];
    for (const [key, message, signature] of bad) {
      expect(() => verifyXEdDsa(key as Uint8Array, message as Uint8Array, signature as Uint8Array)).not.toThrow();
      expect(verifyXEdDsa(key as Uint8Array, message as Uint8Array, signature as Uint8Array)).toBe(false);
    }
  });

  it('accepts Buffers and subarray views, and an empty message', () => {
    const identity = PrivateKey.generate();
    const key = identity.getPublicKey().serialize();
    const empty = new Uint8Array(0);
    const signature = identity.sign(empty);
    expect(verifyXEdDsa(Buffer.from(key), Buffer.alloc(0), Buffer.from(signature))).toBe(true);
    const padded = Uint8Array.of(9, ...key, 9);
    expect(verifyXEdDsa(padded.subarray(1, 34), empty, signature)).toBe(true);
  });
});
