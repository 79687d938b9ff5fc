import { initCrypto, isEcPublicKey, isKemPublicKey, verifyIdentitySignature } from '@sealpost/crypto';
import { DeviceKeyMaterial } from './device-key-material';

const fromB64 = (s: string): Buffer => Buffer.from(s, 'base64');
const verifies = (identityKey: Buffer, key: { publicKey: string; signature: string }) =>
  verifyIdentitySignature(identityKey, fromB64(key.publicKey), fromB64(key.signature));

describe('DeviceKeyMaterial', () => {
  beforeAll(initCrypto);

  it('makes uploads whose signatures verify against its identity key, and only against it', () => {
    const keys = DeviceKeyMaterial.generate();
    expect(isEcPublicKey(keys.identityKey)).toBe(true);
    expect(fromB64(keys.identityKeyBase64)).toEqual(keys.identityKey);

    const spk = keys.signedPreKey(7);
    expect(spk.keyId).toBe(7);
    expect(isEcPublicKey(fromB64(spk.publicKey))).toBe(true);
    expect(verifies(keys.identityKey, spk)).toBe(true);

    const pq = keys.pqPreKey(8);
    expect(pq.keyId).toBe(8);
    expect(isKemPublicKey(fromB64(pq.publicKey))).toBe(true);
    expect(verifies(keys.identityKey, pq)).toBe(true);

    const pk = keys.preKey(9);
    expect(pk).toEqual({ keyId: 9, publicKey: expect.any(String) });
    expect(isEcPublicKey(fromB64(pk.publicKey))).toBe(true);

    expect(verifies(DeviceKeyMaterial.generate().identityKey, spk)).toBe(false);
  });

  it('can reuse one KEM key across PQ prekeys, each signed', () => {
    const keys = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const batch = keys.pqPreKeys(100, 20);
    expect(new Set(batch.map((k) => k.publicKey)).size).toBe(1);
    for (const k of batch) expect(verifies(keys.identityKey, k)).toBe(true);
    const fresh = DeviceKeyMaterial.generate();
    expect(fresh.pqPreKey(1).publicKey).not.toBe(fresh.pqPreKey(2).publicKey);
  });

  it('builds a registration body with distinct key ids per kind, and linked devices that share the identity', () => {
    const keys = DeviceKeyMaterial.generate({ registrationId: 42 });
    const body = keys.registration('alice', { preKeys: 3, pqPreKeys: 2 }, { unidentifiedAccessKey: 'k' });
    expect(body).toMatchObject({ localpart: 'alice', identityKey: keys.identityKeyBase64, registrationId: 42, unidentifiedAccessKey: 'k' });
    expect(body.preKeys.map((k) => k.keyId)).toEqual([1, 2, 3]);
    const kyberIds = [body.pqLastResortPreKey.keyId, ...body.pqPreKeys.map((k) => k.keyId)];
    expect(new Set(kyberIds).size).toBe(kyberIds.length);
    for (const k of [body.signedPreKey, body.pqLastResortPreKey, ...body.pqPreKeys]) expect(verifies(keys.identityKey, k)).toBe(true);

    const second = keys.linkedDevice(43);
    expect(second.identityKeyBase64).toBe(keys.identityKeyBase64);
    expect(second.registrationId).toBe(43);
    expect(verifies(keys.identityKey, second.deviceUpload().signedPreKey)).toBe(true);
  });
});
