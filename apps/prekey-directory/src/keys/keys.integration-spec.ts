import { verifyIdentitySignature } from '../../../../libs/crypto/src';
import { DirectoryEvent, PrekeysLowEvent } from '../../../../libs/contracts/src';
import { RunningDirectory, startDirectory } from '../../../../test/support/directory-harness';
import { call } from '../../../../test/support/http';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually, listenToBusEvent } from '../../../../test/support/bus-listener';

const b64 = (s: string) => Buffer.from(s, 'base64');

describe('keys: upload, counts and bundle claims', () => {
  let dir: RunningDirectory;
  beforeAll(async () => {
    dir = await startDirectory({ PREKEY_LOW_THRESHOLD: '3' });
  });
  afterAll(async () => {
    await dir.close();
  });

  it('hands out a bundle libsignal can use: identity key, signed prekey, one-time EC and PQ keys', async () => {
    const bob = await registerAccount(dir.url, { preKeys: 2, pqPreKeys: 2 });
    const alice = await registerAccount(dir.url);
    const res = await call('GET', `${dir.url}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ address: bob.address, accountId: bob.accountId, identityKey: bob.identity.identityKeyBase64 });
    const [device] = res.body.devices;
    expect(device).toMatchObject({ deviceId: 1, registrationId: bob.registrationId, preKey: { keyId: 1 }, pqPreKey: { keyId: 1000 } });
    expect(verifyIdentitySignature(bob.identity.identityKey, b64(device.signedPreKey.publicKey), b64(device.signedPreKey.signature))).toBe(
      true,
    );
    expect(verifyIdentitySignature(bob.identity.identityKey, b64(device.pqPreKey.publicKey), b64(device.pqPreKey.signature))).toBe(true);
  });

  it('never hands out a one-time key twice and then falls back: no EC key, PQ last-resort key', async () => {
    const bob = await registerAccount(dir.url, { preKeys: 3, pqPreKeys: 2 });
    const alice = await registerAccount(dir.url);
    const seen: { ec: number | null; pq: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call('GET', `${dir.url}/v1/keys/${bob.address}/1`, { token: alice.token });
      expect(res.status).toBe(200);
      seen.push({ ec: res.body.devices[0].preKey?.keyId ?? null, pq: res.body.devices[0].pqPreKey.keyId });
    }
    expect(seen.map((s) => s.ec)).toEqual([1, 2, 3, null, null]);
    expect(seen.map((s) => s.pq)).toEqual([1000, 1001, 999, 999, 999]);
    const counts = await call('GET', `${dir.url}/v1/keys`, { token: bob.token });
    expect(counts.body).toEqual({ count: 0, pqCount: 0 });
  });

  it('replaces the stored list of a kind when a non-empty list is uploaded, and leaves the other kind alone', async () => {
    const bob = await registerAccount(dir.url, { preKeys: 5, pqPreKeys: 5 });
    const upload = await call('PUT', `${dir.url}/v1/keys`, {
      token: bob.token,
      body: { preKeys: [bob.identity.preKey(700), bob.identity.preKey(701)], pqPreKeys: [] },
    });
    expect(upload.status).toBe(204);
    expect((await call('GET', `${dir.url}/v1/keys`, { token: bob.token })).body).toEqual({ count: 2, pqCount: 5 });
    const alice = await registerAccount(dir.url);
    const claim = await call('GET', `${dir.url}/v1/keys/${bob.address}/1`, { token: alice.token });
    expect(claim.body.devices[0].preKey.keyId).toBe(700);
  });

  it('replaces the signed prekey and the PQ last-resort key on upload, refusing a bad signature with 422', async () => {
    const bob = await registerAccount(dir.url, { preKeys: 0, pqPreKeys: 0 });
    const newSigned = bob.identity.signedPreKey(77);
    const newLastResort = bob.identity.pqPreKey(7777);
    expect(
      (await call('PUT', `${dir.url}/v1/keys`, { token: bob.token, body: { signedPreKey: newSigned, pqLastResortPreKey: newLastResort } }))
        .status,
    ).toBe(204);
    const forged = { ...bob.identity.signedPreKey(78), signature: newSigned.signature };
    const refused = await call('PUT', `${dir.url}/v1/keys`, { token: bob.token, body: { signedPreKey: forged } });
    expect(refused.status).toBe(422);
    const alice = await registerAccount(dir.url);
    const claim = await call('GET', `${dir.url}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(claim.body.devices[0].signedPreKey).toEqual(newSigned);
    expect(claim.body.devices[0].pqPreKey).toEqual(newLastResort);
  });

  it('answers 404 for an unknown account or device (remote claims: test/federation)', async () => {
    const alice = await registerAccount(dir.url);
    expect((await call('GET', `${dir.url}/v1/keys/nobody-here@alpha.test/*`, { token: alice.token })).status).toBe(404);
    expect((await call('GET', `${dir.url}/v1/keys/${alice.address}/9`, { token: alice.token })).status).toBe(404);
  });

  it('publishes prekeys-low on the bus once when a device falls under the threshold', async () => {
    const listener = await listenToBusEvent<PrekeysLowEvent>(dir.config.redisUrl, dir.config.redisPrefix, DirectoryEvent.PrekeysLow);
    try {
      const bob = await registerAccount(dir.url, { preKeys: 5, pqPreKeys: 5 });
      const alice = await registerAccount(dir.url);
      for (let i = 0; i < 4; i++) await call('GET', `${dir.url}/v1/keys/${bob.address}/*`, { token: alice.token });
      await eventually(() => listener.events.some((e) => e.accountId === bob.accountId));
      const mine = listener.events.filter((e) => e.accountId === bob.accountId);
      expect(mine).toEqual([{ address: bob.address, accountId: bob.accountId, deviceId: 1, count: 2, pqCount: 2 }]);
    } finally {
      await listener.close();
    }
  });
});

describe('bundle claim rate limit per requester → target', () => {
  let dir: RunningDirectory;
  beforeAll(async () => {
    dir = await startDirectory({ CLAIM_RATE_BURST: '3', CLAIM_RATE_PER_MINUTE: '1' });
  });
  afterAll(async () => {
    await dir.close();
  });

  it('answers 429 with Retry-After past the burst, while other pairs are unaffected', async () => {
    const bob = await registerAccount(dir.url);
    const carol = await registerAccount(dir.url);
    const alice = await registerAccount(dir.url);
    for (let i = 0; i < 3; i++) expect((await call('GET', `${dir.url}/v1/keys/${bob.address}/*`, { token: alice.token })).status).toBe(200);
    const limited = await call('GET', `${dir.url}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited', message: expect.any(String) });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call('GET', `${dir.url}/v1/keys/${carol.address}/*`, { token: alice.token })).status).toBe(200);
    expect((await call('GET', `${dir.url}/v1/keys/${bob.address}/*`, { token: carol.token })).status).toBe(200);
  });
});
