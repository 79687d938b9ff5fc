import { initCrypto } from '@sealpost/crypto';
import sodium from 'libsodium-wrappers';
import { contentDigest, verifyContentDigest } from './content-digest.util';
import { COVERED_COMPONENTS } from './http-signature.constants';
import type { ParsedSignature, SignedRequestParts } from './http-signature.types';
import { signBase, signRequest } from './request.signer';
import { verifyRequestSignature } from './request-signature.verifier';
import { signatureBase } from './signature-base.util';
import { parseSignatureHeaders } from './signature-headers.parser';
import { checkSignaturePolicy } from './signature-policy.util';

const CREATED = 1_700_000_000;
const body = Buffer.from(JSON.stringify({ envelopes: [{ id: 'm1', ciphertext: 'AAAA' }] }));

function request(payload: Uint8Array = body): SignedRequestParts {
  return {
    method: 'PUT',
    targetUri: 'https://b.example/federation/v1/messages/alice%40b.example',
    headers: {
      'content-type': 'application/json',
      'content-digest': contentDigest(payload),
      'sealpost-origin': 'a.example',
      'sealpost-destination': 'b.example',
    },
  };
}

describe('signRequest → parseSignatureHeaders → verifyRequestSignature', () => {
  let keys: { publicKey: Uint8Array; privateKey: Uint8Array };
  beforeAll(async () => {
    await initCrypto();
    keys = sodium.crypto_sign_keypair();
  });

  function signAndParse(parts = request(), nonce?: string): { headers: Record<string, string>; parsed: ParsedSignature } {
    const sig = signRequest(parts, { keyId: 'a.example#k1', secretKey: keys.privateKey, created: CREATED, nonce });
    const headers = { ...parts.headers, ...sig };
    const parsed = parseSignatureHeaders(headers);
    if (!parsed) throw new Error('did not parse');
    return { headers, parsed };
  }

  it('round-trips and produces the expected header shapes', () => {
    const parts = request();
    const sig = signRequest(parts, { keyId: 'a.example#k1', secretKey: keys.privateKey, created: CREATED, nonce: 'abc' });
    expect(sig['signature-input']).toBe(
      'sig1=("@method" "@target-uri" "content-digest" "sealpost-origin" "sealpost-destination")' +
        `;created=${CREATED};keyid="a.example#k1";alg="ed25519";nonce="abc"`,
    );
    expect(sig.signature).toMatch(/^sig1=:[A-Za-z0-9+/]{86}==:$/);

    const parsed = parseSignatureHeaders({ ...parts.headers, ...sig });
    expect(parsed).toEqual({
      label: 'sig1',
      components: [...COVERED_COMPONENTS],
      params: { created: CREATED, keyid: 'a.example#k1', alg: 'ed25519', nonce: 'abc' },
      signature: expect.any(Uint8Array),
    });
    expect(verifyRequestSignature(parts, parsed!, keys.publicKey)).toBe(true);
    expect(verifyContentDigest(parts.headers['content-digest'], body)).toBe(true);
    expect(checkSignaturePolicy(parsed!, { requiredComponents: COVERED_COMPONENTS, now: CREATED + 10, maxSkewSeconds: 60 })).toBeNull();
  });

  it('signs with the current time by default and honours a custom label', () => {
    const before = Math.floor(Date.now() / 1000);
    const sig = signRequest(request(), { keyId: 'k', secretKey: keys.privateKey, label: 'fed' });
    const parsed = parseSignatureHeaders({ ...sig }, 'fed')!;
    expect(parsed.label).toBe('fed');
    expect(parsed.params.created).toBeGreaterThanOrEqual(before);
    expect(parsed.params.created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(verifyRequestSignature(request(), parsed, keys.publicKey)).toBe(true);
    expect(parseSignatureHeaders({ ...sig }, 'sig1')).toBeNull();
  });

  it('accepts a method given in lower case (signed as sent on the wire, upper-cased)', () => {
    const parts = { ...request(), method: 'put' };
    const { parsed } = signAndParse(parts);
    expect(verifyRequestSignature(request(), parsed, keys.publicKey)).toBe(true);
  });

  it('fails when the method, target URI or any covered header is tampered with', () => {
    const { parsed } = signAndParse();
    const base = request();
    const tampered: SignedRequestParts[] = [
      { ...base, method: 'POST' },
      { ...base, targetUri: 'https://b.example/federation/v1/messages/bob%40b.example' },
      { ...base, targetUri: 'https://b.example/federation/v1/messages/alice%40b.example?x=1' },
      { ...base, targetUri: 'https://c.example/federation/v1/messages/alice%40b.example' },
      { ...base, targetUri: 'http://b.example/federation/v1/messages/alice%40b.example' },
    ];
    for (const name of ['content-digest', 'sealpost-origin', 'sealpost-destination']) {
      tampered.push({ ...base, headers: { ...base.headers, [name]: `${base.headers[name]}x` } });
      const { [name]: _removed, ...rest } = base.headers;
      tampered.push({ ...base, headers: rest });
    }
    for (const parts of tampered) expect(verifyRequestSignature(parts, parsed, keys.publicKey)).toBe(false);
    // Headers that are not covered may change freely.
    const uncovered = { ...base, headers: { ...base.headers, 'content-type': 'text/plain' } };
    expect(verifyRequestSignature(uncovered, parsed, keys.publicKey)).toBe(true);
  });

  it('fails when created, keyid, alg, nonce or the component list is tampered with in Signature-Input', () => {
    const { headers } = signAndParse(request(), 'n1');
    const input = headers['signature-input'];
    const edits = [
      input.replace(`created=${CREATED}`, `created=${CREATED + 1}`),
      input.replace('keyid="a.example#k1"', 'keyid="a.example#k2"'),
      input.replace(';alg="ed25519"', ''),
      input.replace('nonce="n1"', 'nonce="n2"'),
      input.replace(';nonce="n1"', ''),
      input.replace(' "sealpost-destination"', ''),
      input.replace('"@method" "@target-uri"', '"@target-uri" "@method"'),
    ];
    for (const edited of edits) {
      expect(edited).not.toBe(input);
      const parsed = parseSignatureHeaders({ ...headers, 'signature-input': edited });
      expect(parsed).not.toBeNull();
      expect(verifyRequestSignature(request(), parsed!, keys.publicKey)).toBe(false);
    }
  });

  it('detects a tampered body through Content-Digest', () => {
    const { parsed } = signAndParse();
    const evil = Buffer.from(body.toString().replace('m1', 'm2'));
    // The attacker keeps the signed digest: the digest check fails.
    expect(verifyContentDigest(request().headers['content-digest'], evil)).toBe(false);
    // The attacker updates the digest: the signature fails.
    expect(verifyRequestSignature(request(evil), parsed, keys.publicKey)).toBe(false);
  });

  it('fails for the wrong key, a flipped signature bit, or a non-ed25519 alg, and never throws', () => {
    const { parsed } = signAndParse();
    expect(verifyRequestSignature(request(), parsed, sodium.crypto_sign_keypair().publicKey)).toBe(false);
    const flipped = Uint8Array.from(parsed.signature);
    flipped[10] ^= 1;
    expect(verifyRequestSignature(request(), { ...parsed, signature: flipped }, keys.publicKey)).toBe(false);
    expect(verifyRequestSignature(request(), { ...parsed, params: { ...parsed.params, alg: 'hmac-sha256' } }, keys.publicKey)).toBe(false);
    const junk: Array<[unknown, unknown, unknown]> = [
      [request(), parsed, keys.publicKey.subarray(0, 31)],
      [request(), { ...parsed, signature: parsed.signature.subarray(0, 63) }, keys.publicKey],
      [request(), { ...parsed, components: ['@nope'] }, keys.publicKey],
      [request(), { ...parsed, components: null }, keys.publicKey],
      [request(), null, keys.publicKey],
      [{ ...request(), headers: null }, parsed, keys.publicKey],
      [null, parsed, keys.publicKey],
      [request(), parsed, 'key'],
    ];
    for (const [p, s, k] of junk) {
      expect(() => verifyRequestSignature(p as SignedRequestParts, s as ParsedSignature, k as Uint8Array)).not.toThrow();
      expect(verifyRequestSignature(p as SignedRequestParts, s as ParsedSignature, k as Uint8Array)).toBe(false);
    }
  });

  it('refuses to sign when a covered header is missing or the inputs are invalid', () => {
    const parts = request();
    for (const name of ['content-digest', 'sealpost-origin', 'sealpost-destination']) {
      const { [name]: _removed, ...rest } = parts.headers;
      expect(() => signRequest({ ...parts, headers: rest }, { keyId: 'k', secretKey: keys.privateKey })).toThrow(
        `covered header ${name} is missing`,
      );
    }
    expect(() => signRequest(parts, { keyId: 'k', secretKey: keys.publicKey })).toThrow(TypeError);
    expect(() => signRequest(parts, { keyId: 'k\n', secretKey: keys.privateKey })).toThrow();
    expect(() => signRequest(parts, { keyId: 'k', secretKey: keys.privateKey, label: 'Sig' })).toThrow();
    expect(() => signRequest(parts, { keyId: 'k', secretKey: keys.privateKey, created: -1 })).toThrow();
    expect(() => signRequest(parts, { keyId: 'k', secretKey: keys.privateKey, created: 1.5 })).toThrow();
    expect(() => signRequest({ ...parts, targetUri: '/relative' }, { keyId: 'k', secretKey: keys.privateKey })).toThrow();
  });
});

describe('RFC 9421 Appendix B.2.6 (Ed25519 test vector)', () => {
  // RFC 9421 B.1.4 test-key-ed25519 as a JWK. The d value was checked by deriving x from it.
  const X = 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs';
  const D = 'n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU';
  const SIGNATURE_INPUT =
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
  const SIGNATURE = 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:';
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

  beforeAll(initCrypto);

  it('derives the public key from the private seed', () => {
    const { publicKey } = sodium.crypto_sign_seed_keypair(Buffer.from(D, 'base64url'));
    expect(Buffer.from(publicKey).toString('base64url')).toBe(X);
  });

  it('reproduces the exact signature (Ed25519 is deterministic)', () => {
    const { privateKey } = sodium.crypto_sign_seed_keypair(Buffer.from(D, 'base64url'));
    const parsed = parseSignatureHeaders({ 'signature-input': SIGNATURE_INPUT, signature: SIGNATURE })!;
    const base = signatureBase(rfcRequest, parsed.components, parsed.params);
    expect(`sig-b26=:${Buffer.from(signBase(base, privateKey)).toString('base64')}:`).toBe(SIGNATURE);
  });

  it('parses and verifies the published headers with the public key alone', () => {
    const headers = { ...rfcRequest.headers, 'Signature-Input': SIGNATURE_INPUT, Signature: SIGNATURE };
    const parsed = parseSignatureHeaders(headers);
    expect(parsed).not.toBeNull();
    expect(parsed!.label).toBe('sig-b26');
    expect(parsed!.params).toEqual({ created: 1618884473, keyid: 'test-key-ed25519' });
    const publicKey = Buffer.from(X, 'base64url');
    expect(verifyRequestSignature(rfcRequest, parsed!, publicKey)).toBe(true);
    expect(verifyRequestSignature({ ...rfcRequest, method: 'PUT' }, parsed!, publicKey)).toBe(false);
    // The RFC example has no alg parameter. Sealpost's policy requires alg="ed25519".
    expect(checkSignaturePolicy(parsed!, { requiredComponents: [], now: 1618884473, maxSkewSeconds: 60 })).toBe('alg must be ed25519');
  });
});
