import { randomUUID } from 'node:crypto';
import { libsignal } from '@sealpost/crypto';
import { AccountRecords } from '../store/account-state';
import { MemoryClientStore } from '../store/client-store';
import { PreKeyGenerator, newRegistrationId } from './prekey-generator';
import { SignalProtocolStores } from './protocol-stores';
import { SealedSessionCipher, certificateIsValid } from './sealed-session-cipher';

async function device(accountId: string, deviceId: number, identity = libsignal().IdentityKeyPair.generate()) {
  const store = new MemoryClientStore();
  const stores = new SignalProtocolStores(
    store,
    { identityKeyPair: Buffer.from(identity.serialize()).toString('base64'), registrationId: newRegistrationId() },
    () => undefined,
  );
  const generator = new PreKeyGenerator(identity, stores, new AccountRecords(store));
  return { accountId, deviceId, identity, stores, generator, cipher: new SealedSessionCipher(stores, { accountId, deviceId }) };
}

describe('SealedSessionCipher: libsignal PQXDH + Double Ratchet inside sealed sender v2, one device per envelope', () => {
  const L = libsignal();
  const trustRoot = L.PrivateKey.generate();
  const serverKey = L.PrivateKey.generate();
  const serverCertificate = L.ServerCertificate.new(1, serverKey.getPublicKey(), trustRoot);
  const certificateOf = (d: Awaited<ReturnType<typeof device>>) =>
    L.SenderCertificate.new(d.accountId, null, d.deviceId, d.identity.publicKey, Date.now() + 3_600_000, serverCertificate, serverKey);

  it('alice starts a session from bob’s bundle, bob opens it, and they talk both ways', async () => {
    const alice = await device(randomUUID(), 1);
    const bob = await device(randomUUID(), 1);
    const upload = await bob.generator.deviceUpload(2);
    const bundle = L.PreKeyBundle.new(
      upload.registrationId,
      1,
      upload.preKeys![0].keyId,
      L.PublicKey.deserialize(Buffer.from(upload.preKeys![0].publicKey, 'base64')),
      upload.signedPreKey.keyId,
      L.PublicKey.deserialize(Buffer.from(upload.signedPreKey.publicKey, 'base64')),
      Buffer.from(upload.signedPreKey.signature, 'base64'),
      bob.identity.publicKey,
      upload.pqPreKeys![0].keyId,
      L.KEMPublicKey.deserialize(Buffer.from(upload.pqPreKeys![0].publicKey, 'base64')),
      Buffer.from(upload.pqPreKeys![0].signature, 'base64'),
    );
    await alice.cipher.startSession(bob.accountId, bundle);
    const sealed = await alice.cipher.seal(bob.accountId, 1, Buffer.from('hello bob'), certificateOf(alice));
    expect(sealed[0] >> 4).toBe(2); // sealed sender v2
    const opened = await bob.cipher.open(sealed);
    expect(Buffer.from(opened.plaintext).toString()).toBe('hello bob');
    expect(opened.senderAccountId).toBe(alice.accountId);
    expect(certificateIsValid(opened.certificate, [Buffer.from(trustRoot.getPublicKey().serialize()).toString('base64')])).toBe(true);
    expect(
      certificateIsValid(opened.certificate, [Buffer.from(L.PrivateKey.generate().getPublicKey().serialize()).toString('base64')]),
    ).toBe(false);
    const reply = await bob.cipher.seal(alice.accountId, 1, Buffer.from('hello alice'), certificateOf(bob));
    expect(Buffer.from((await alice.cipher.open(reply)).plaintext).toString()).toBe('hello alice');
    // the one-time keys used are gone from bob's store
    await expect(bob.stores.preKeys.getPreKey(upload.preKeys![0].keyId)).rejects.toThrow();
  });
});
