import { sha256 } from './hash.util';
import { hashBearerToken, hashSecretCode, newBearerToken, newSecretCode } from './secret-token.util';
import { initCrypto } from './sodium-init.util';

describe('bearer tokens', () => {
  beforeAll(initCrypto);

  it('round-trips: the presented token hashes to the stored hash', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const { token, hash } = newBearerToken();
      expect(token).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(hash).toHaveLength(32);
      expect(hash).toEqual(sha256(Buffer.from(token, 'base64')));
      expect(hashBearerToken(token)).toEqual(hash);
      seen.add(token);
    }
    expect(seen.size).toBe(100);
  });

  it('rejects anything but canonical padded standard base64 of exactly 32 bytes', () => {
    const { token } = newBearerToken();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // char 42 carries 4 data bits + 2 bits that must be zero in the canonical encoding
    const last = alphabet.indexOf(token[42]);
    const nonCanonical = token.slice(0, 42) + alphabet[last ^ 0b01] + '=';
    expect(Buffer.from(nonCanonical, 'base64')).toEqual(Buffer.from(token, 'base64')); // Node would accept it…
    expect(hashBearerToken(nonCanonical)).toBeNull(); // …we do not

    const raw = Buffer.from(token, 'base64');
    const cases = [
      token.slice(0, 43), // padding missing
      token + '=',
      ' ' + token,
      token.slice(0, 43) + '\n',
      raw.toString('base64url'),
      Buffer.alloc(32, 0xfb).toString('base64url') + '=', // url alphabet with padding
      raw.subarray(0, 31).toString('base64'),
      Buffer.concat([raw, Buffer.of(1)]).toString('base64'),
      Buffer.alloc(48).toString('base64'),
      '',
      '*'.repeat(43) + '=',
    ];
    for (const candidate of cases) expect(hashBearerToken(candidate)).toBeNull();
    expect(hashBearerToken(undefined as unknown as string)).toBeNull();
    expect(hashBearerToken(42 as unknown as string)).toBeNull();
  });
});

describe('secret codes', () => {
  beforeAll(initCrypto);

  it('produces base64url codes without padding whose hash is sha256 of the utf8 string', () => {
    for (const bytes of [1, 6, 9, 16, 32]) {
      const { code, hash } = newSecretCode(bytes);
      expect(code).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(code).toHaveLength(Math.ceil((bytes * 4) / 3));
      expect(Buffer.from(code, 'base64url')).toHaveLength(bytes);
      expect(hash).toEqual(sha256(Buffer.from(code, 'utf8')));
      expect(hashSecretCode(code)).toEqual(hash);
    }
  });

  it('rejects invalid sizes', () => {
    for (const bytes of [0, -1, 1.5, Number.NaN]) expect(() => newSecretCode(bytes)).toThrow(RangeError);
  });
});
