import { COVERED_COMPONENTS } from './http-signature.constants';
import type { SignedRequestParts } from './http-signature.types';
import { serializeSignatureParams, signatureBase } from './signature-base.util';

/** sha-256 of '{"envelopes":[]}', computed independently with `openssl dgst -sha256 -binary | base64`. */
const DIGEST = 'sha-256=:AOEXwLZnrsbHKviJqQPCAcwx+yPJR7fJUJruY07/ick=:';

const parts: SignedRequestParts = {
  method: 'PUT',
  targetUri: 'https://b.example:8443/federation/v1/messages/alice%40b.example?batch=1',
  headers: {
    'content-digest': DIGEST,
    'sealpost-origin': ' a.example\t',
    'sealpost-destination': 'b.example',
    'content-type': 'application/json',
  },
};

describe('signatureBase', () => {
  it('matches a hand-written base byte for byte', () => {
    const base = signatureBase(parts, [...COVERED_COMPONENTS], {
      created: 1700000000,
      keyid: 'a.example#k1',
      alg: 'ed25519',
      nonce: 'n-1',
      expires: 1700000300,
    });
    const expected =
      '"@method": PUT\n' +
      '"@target-uri": https://b.example:8443/federation/v1/messages/alice%40b.example?batch=1\n' +
      '"content-digest": sha-256=:AOEXwLZnrsbHKviJqQPCAcwx+yPJR7fJUJruY07/ick=:\n' +
      '"sealpost-origin": a.example\n' +
      '"sealpost-destination": b.example\n' +
      '"@signature-params": ("@method" "@target-uri" "content-digest" "sealpost-origin" "sealpost-destination")' +
      ';created=1700000000;keyid="a.example#k1";alg="ed25519";nonce="n-1";expires=1700000300';
    expect(base).toBe(expected);
    expect(Buffer.from(base, 'utf8').equals(Buffer.from(expected, 'utf8'))).toBe(true);
  });

  it('reproduces the RFC 9421 Appendix B.2.6 signature base', () => {
    const rfcRequest: SignedRequestParts = {
      method: 'POST',
      targetUri: 'https://example.com/foo?param=Value&Pet=dog',
      headers: {
        host: 'example.com',
        date: 'Tue, 20 Apr 2021 02:07:55 GMT',
        'content-type': 'application/json',
        'content-length': '18',
      },
    };
    const base = signatureBase(rfcRequest, ['date', '@method', '@path', '@authority', 'content-type', 'content-length'], {
      created: 1618884473,
      keyid: 'test-key-ed25519',
    });
    expect(base).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")' +
          ';created=1618884473;keyid="test-key-ed25519"',
      ].join('\n'),
    );
  });

  it('resolves the derived components', () => {
    const p = (targetUri: string, method = 'get'): SignedRequestParts => ({ method, targetUri, headers: {} });
    const value = (targetUri: string, name: string) => signatureBase(p(targetUri), [name], { created: 1, keyid: 'k' }).split('\n')[0];
    expect(value('https://x.example/a', '@method')).toBe('"@method": GET');
    expect(value('HTTPS://User@X.Example:443/a/../b?q=1&r', '@authority')).toBe('"@authority": x.example');
    expect(value('http://x.example:80/', '@authority')).toBe('"@authority": x.example');
    expect(value('http://x.example:8080/', '@authority')).toBe('"@authority": x.example:8080');
    expect(value('https://[::1]:443/', '@authority')).toBe('"@authority": [::1]');
    expect(value('https://[::1]:8443/', '@authority')).toBe('"@authority": [::1]:8443');
    expect(value('HTTPS://x.example/', '@scheme')).toBe('"@scheme": https');
    expect(value('https://x.example', '@path')).toBe('"@path": /');
    expect(value('https://x.example/a/../b%2F?q', '@path')).toBe('"@path": /a/../b%2F');
    expect(value('https://x.example/a?q=1&r', '@query')).toBe('"@query": ?q=1&r');
    expect(value('https://x.example/a', '@query')).toBe('"@query": ?');
    expect(value('https://x.example/a?', '@query')).toBe('"@query": ?');
    expect(value('https://x.example/a?q=1', '@request-target')).toBe('"@request-target": /a?q=1');
    expect(value('https://x.example', '@request-target')).toBe('"@request-target": /');
    expect(value('https://x.example/a?q=1', '@target-uri')).toBe('"@target-uri": https://x.example/a?q=1');
  });

  it('trims header values and joins repeated values with ", "', () => {
    const multi = { ...parts, headers: { ...parts.headers, 'x-list': ['  a ', 'b\t'] as unknown as string } };
    expect(signatureBase(multi, ['x-list'], { created: 1, keyid: 'k' }).split('\n')[0]).toBe('"x-list": a, b');
    expect(signatureBase(parts, ['sealpost-origin'], { created: 1, keyid: 'k' }).split('\n')[0]).toBe('"sealpost-origin": a.example');
  });

  it('throws on missing headers, bad components and injection attempts', () => {
    const params = { created: 1, keyid: 'k', alg: 'ed25519' as const };
    const bad: Array<[SignedRequestParts, string[]]> = [
      [parts, ['x-missing']],
      [parts, ['constructor']], // must not read Object.prototype
      [parts, ['Content-Type']],
      [parts, ['@status']],
      [parts, ['@query-param']],
      [parts, ['@signature-params']],
      [parts, ['@method', '@method']],
      [parts, ['']],
      [{ ...parts, headers: { ...parts.headers, evil: 'x\n"@method": GET' } }, ['evil']],
      [{ ...parts, headers: { ...parts.headers, evil: 'x\r' } }, ['evil']],
      [{ ...parts, method: 'GET\n' }, ['@method']],
      [{ ...parts, method: '' }, ['@method']],
      [{ ...parts, targetUri: '/relative?x' }, ['@target-uri']],
      [{ ...parts, targetUri: 'https:///no-host' }, ['@path']],
      [{ ...parts, targetUri: 'https://x.example/a#frag' }, ['@target-uri']],
      [{ ...parts, targetUri: 'https://x.example/a b' }, ['@target-uri']],
      [{ ...parts, targetUri: 'https://x.example:8x/' }, ['@authority']],
    ];
    for (const [p, components] of bad) expect(() => signatureBase(p, components, params)).toThrow();
    expect(() => signatureBase(parts, ['@method'], { ...params, keyid: 'k\n' })).toThrow();
    expect(() => signatureBase(parts, ['@method'], { ...params, created: 1.5 })).toThrow();
    expect(() => signatureBase(parts, ['@method'], { ...params, nonce: 'é' })).toThrow();
  });
});

describe('serializeSignatureParams', () => {
  it('writes parameters in the fixed order and omits absent ones', () => {
    expect(serializeSignatureParams([], { created: 5, keyid: 'k"\\' })).toBe('();created=5;keyid="k\\"\\\\"');
    expect(serializeSignatureParams(['@method'], { expires: 9, nonce: 'n', alg: 'ed25519', keyid: 'k', created: 5 })).toBe(
      '("@method");created=5;keyid="k";alg="ed25519";nonce="n";expires=9',
    );
  });
});
