import { initCrypto } from '../sodium-init.util';
import { isEcPublicKey, isKemPublicKey } from '../key-formats';
import { verifyIdentitySignature } from '../identity-signature.verifier';
import { makeSignalIdentity } from './signal-identity';

const fromB64 = (s: string): Buffer => Buffer.from(s, 'base64');

describe('makeSignalIdentity (test helper)', () => {
  beforeAll(initCrypto);

  it('produces uploads whose signatures verify against the identity key', () => {
    const id = makeSignalIdentity();
    expect(Buffer.isBuffer(id.identityKey)).toBe(true);
    expect(isEcPublicKey(id.identityKey)).toBe(true);
    expect(fromB64(id.identityKeyBase64)).toEqual(id.identityKey);

    const spk = id.signedPreKey(7);
    expect(spk.keyId).toBe(7);
    expect(isEcPublicKey(fromB64(spk.publicKey))).toBe(true);
    expect(verifyIdentitySignature(id.identityKey, fromB64(spk.publicKey), fromB64(spk.signature))).toBe(true);

    const pq = id.pqPreKey(8);
    expect(pq.keyId).toBe(8);
    expect(isKemPublicKey(fromB64(pq.publicKey))).toBe(true);
    expect(verifyIdentitySignature(id.identityKey, fromB64(pq.publicKey), fromB64(pq.signature))).toBe(true);

    const pk = id.preKey(9);
    expect(pk).toEqual({ keyId: 9, publicKey: expect.any(String) });
    expect(isEcPublicKey(fromB64(pk.publicKey))).toBe(true);

    const other = makeSignalIdentity();
    expect(verifyIdentitySignature(other.identityKey, fromB64(spk.publicKey), fromB64(spk.signature))).toBe(false);
  });

  it('can reuse one KEM key across pq prekeys, each signed', () => {
    const id = makeSignalIdentity({ reuseKemKey: true });
    const batch = Array.from({ length: 20 }, (_, i) => id.pqPreKey(100 + i));
    expect(new Set(batch.map((k) => k.publicKey)).size).toBe(1);
    for (const k of batch) expect(verifyIdentitySignature(id.identityKey, fromB64(k.publicKey), fromB64(k.signature))).toBe(true);
    const fresh = makeSignalIdentity();
    expect(fresh.pqPreKey(1).publicKey).not.toBe(fresh.pqPreKey(2).publicKey);
  });
});
