import { DeviceKeyMaterial } from '../../../../libs/client/src';
import { RunningDirectory, startDirectory } from '../../../../test/support/directory-harness';
import { call } from '../../../../test/support/http';
import { registerAccount, registrationBody, uniqueLocalpart } from '../../../../test/support/accounts';

describe('POST /v1/accounts (open registration)', () => {
  let dir: RunningDirectory;
  beforeAll(async () => {
    dir = await startDirectory();
  });
  afterAll(async () => {
    await dir.close();
  });

  it('registers an account with libsignal-made keys and answers 201 with device 1 and a token', async () => {
    const identity = DeviceKeyMaterial.generate();
    const localpart = uniqueLocalpart('alice');
    const res = await call('POST', `${dir.url}/v1/accounts`, { body: registrationBody(identity, localpart) });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      address: `${localpart}@alpha.test`,
      accountId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      deviceId: 1,
      token: expect.any(String),
    });
    expect(Buffer.from(res.body.token, 'base64')).toHaveLength(32);
    const counts = await call('GET', `${dir.url}/v1/keys`, { token: res.body.token });
    expect(counts).toMatchObject({ status: 200, body: { count: 5, pqCount: 5 } });
  });

  it('answers 409 for a taken localpart and keeps the first account', async () => {
    const first = await registerAccount(dir.url);
    const again = await call('POST', `${dir.url}/v1/accounts`, { body: registrationBody(DeviceKeyMaterial.generate(), first.localpart) });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'localpart_taken', message: expect.any(String) });
    const stillWorks = await call('GET', `${dir.url}/v1/keys`, { token: first.token });
    expect(stillWorks.status).toBe(200);
  });

  it('answers 422 when the signed prekey is not signed by the identity key', async () => {
    const identity = DeviceKeyMaterial.generate();
    const body = registrationBody(identity, uniqueLocalpart());
    body.signedPreKey = DeviceKeyMaterial.generate().signedPreKey(1);
    const res = await call('POST', `${dir.url}/v1/accounts`, { body });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'invalid_signature', message: expect.stringContaining('signedPreKey') });
  });

  it('answers 422 when one PQ one-time prekey has a flipped signature bit', async () => {
    const identity = DeviceKeyMaterial.generate();
    const body = registrationBody(identity, uniqueLocalpart());
    const sig = Buffer.from(body.pqPreKeys[2].signature, 'base64');
    sig[10] ^= 0x01;
    body.pqPreKeys[2].signature = sig.toString('base64');
    const res = await call('POST', `${dir.url}/v1/accounts`, { body });
    expect(res.status).toBe(422);
    expect(res.body.message).toContain('pqPreKeys[2]');
  });
});
