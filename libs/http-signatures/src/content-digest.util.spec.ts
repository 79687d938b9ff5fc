import { contentDigest, verifyContentDigest } from './content-digest.util';

const body = Buffer.from('{"hello": "world"}');
/** The RFC 9530 §2 example. */
const RFC_9530_DIGEST = 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:';

describe('contentDigest / verifyContentDigest', () => {
  it('matches the RFC 9530 example and hashes strings as UTF-8', () => {
    expect(contentDigest(body)).toBe(RFC_9530_DIGEST);
    expect(contentDigest('{"hello": "world"}')).toBe(RFC_9530_DIGEST);
    expect(contentDigest(new Uint8Array(0))).toBe('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
    expect(contentDigest('é')).toBe(contentDigest(Buffer.from([0xc3, 0xa9])));
  });

  it('round-trips', () => {
    for (const payload of [new Uint8Array(0), Uint8Array.of(0, 255, 7), Buffer.alloc(100_000, 1)]) {
      expect(verifyContentDigest(contentDigest(payload), payload)).toBe(true);
    }
  });

  it('checks the sha-256 member of a multi-member dictionary', () => {
    const sha512 = 'sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:';
    expect(verifyContentDigest(`${sha512}, ${RFC_9530_DIGEST}`, body)).toBe(true);
    expect(verifyContentDigest(`${RFC_9530_DIGEST};p=1, unixsum=42`, body)).toBe(true);
    expect(verifyContentDigest(sha512, body)).toBe(false);
    // RFC 8941 §4.2.7: parsers should not fail on missing '=' padding.
    expect(verifyContentDigest('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE:', body)).toBe(true);
  });

  it('returns false on mismatch, absence or malformed input', () => {
    const tampered = Buffer.from('{"hello": "World"}');
    expect(verifyContentDigest(RFC_9530_DIGEST, tampered)).toBe(false);
    const cases: Array<string | undefined> = [
      undefined,
      '',
      'sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
      'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
      'sha-256="X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="',
      'sha-256=:AAAA:',
      'SHA-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
      `${RFC_9530_DIGEST}, ${RFC_9530_DIGEST}`,
      `${RFC_9530_DIGEST},`,
    ];
    for (const header of cases) expect(verifyContentDigest(header, body)).toBe(false);
    expect(verifyContentDigest(RFC_9530_DIGEST, '{"hello": "world"}' as unknown as Uint8Array)).toBe(false);
  });
});
