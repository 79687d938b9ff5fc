import { Pool } from 'pg';
import { verifyIdentitySignature } from '../libs/crypto/src';
import { KeyTransparencyClient, MemoryKtStateStore, OwnerMonitor } from '../libs/client/src';
import { DeviceKeyMaterial } from '../libs/client/src';
import { KtHeadSigner } from '../apps/prekey-directory/src/transparency/kt-head-signer.service';
import { KtSigningKey } from '../apps/prekey-directory/src/transparency/kt-signing-key.service';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { LinkedDevice, TestAccount, linkDevice, registerAccount } from './support/accounts';
import { call, fetchJson } from './support/http';
import { eventually } from './support/bus-listener';

/**
 * PUT /v1/accounts/identity-key: the primary device replaces the account identity key. The new
 * key, registration ids and repeated-use keys land in one transaction together with a
 * key-transparency record; one-time keys published under the old key are dropped; senders and
 * relays see the change at once.
 */
describe('identity-key change', () => {
  let hs: RunningHomeserver;
  let ktPublicKey: string;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { KT_EPOCH_SECONDS: '0.5' } });
    ktPublicKey = hs.directory.get(KtSigningKey).publicKey.toString('base64');
  });
  afterAll(async () => {
    await hs.close();
  });

  const ktClient = () =>
    new KeyTransparencyClient({ server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey }, new MemoryKtStateStore(), fetchJson);

  function changeBody(
    identity: DeviceKeyMaterial,
    devices: { deviceId: number; registrationId: number }[],
    signer: DeviceKeyMaterial = identity,
  ) {
    return {
      identityKey: identity.identityKeyBase64,
      devices: devices.map((d) => {
        const spk = identity.signedPreKey(500 + d.deviceId);
        const pq = identity.pqPreKey(600 + d.deviceId);
        if (signer !== identity) {
          spk.signature = signer.sign(Buffer.from(spk.publicKey, 'base64')).toString('base64');
        }
        return { deviceId: d.deviceId, registrationId: d.registrationId, signedPreKey: spk, pqLastResortPreKey: pq };
      }),
    };
  }

  async function accountWithTwoDevices(): Promise<{ bob: TestAccount; second: LinkedDevice }> {
    const bob = await registerAccount(hs.directoryUrl);
    const second = await linkDevice(hs.directoryUrl, bob);
    return { bob, second };
  }

  it('stores the new key, registration ids and keys, drops one-time keys and logs the change', async () => {
    const { bob, second } = await accountWithTwoDevices();
    const alice = await registerAccount(hs.directoryUrl);
    const known = () => ({
      identityKey: bob.identity.identityKeyBase64,
      devices: [
        { deviceId: 1, registrationId: bob.registrationId },
        { deviceId: 2, registrationId: second.registrationId },
      ],
    });
    // Device 1 makes the change and tells its monitor; device 2's monitor is not told.
    const changer = new OwnerMonitor(ktClient(), new MemoryKtStateStore(), bob.address, known());
    const bystander = new OwnerMonitor(ktClient(), new MemoryKtStateStore(), bob.address, known());
    await hs.directory.get(KtHeadSigner).signNow();
    expect(await changer.check()).toEqual([]);
    expect(await bystander.check()).toEqual([]);

    const fresh = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const newDevices = [
      { deviceId: 1, registrationId: 4001 },
      { deviceId: 2, registrationId: 4002 },
    ];
    const changed = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: bob.token,
      body: changeBody(fresh, newDevices),
    });
    expect(changed).toMatchObject({ status: 200, body: { address: bob.address, version: 3 } });

    // A sender now gets the new key, the new registration ids, no one-time EC key (they were
    // published under the old key) and the new PQ last-resort key.
    const bundle = await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(bundle.status).toBe(200);
    expect(bundle.body.identityKey).toBe(fresh.identityKeyBase64);
    expect(bundle.body.devices.map((d: any) => [d.deviceId, d.registrationId, d.preKey, d.pqPreKey.keyId])).toEqual([
      [1, 4001, null, 601],
      [2, 4002, null, 602],
    ]);
    expect((await call('GET', `${hs.directoryUrl}/v1/keys`, { token: second.token })).body).toEqual({ count: 0, pqCount: 0 });

    // The sender's client verifies the new bundle against the log.
    await hs.directory.get(KtHeadSigner).signNow();
    const verified = await ktClient().verifyBundle(bundle.body);
    expect(verified.record).toMatchObject({ version: 3, identityKey: fresh.identityKeyBase64, devices: newDevices });

    // The monitor of the device that made the change raises nothing; the other one is alerted.
    changer.trustIdentityChange(fresh.identityKeyBase64, newDevices);
    expect(await changer.check()).toEqual([]);
    expect(await bystander.check()).toEqual([
      { kind: 'identity-key-changed', version: 3, identityKey: fresh.identityKeyBase64 },
      { kind: 'unknown-device', version: 3, deviceId: 1, registrationId: 4001 },
      { kind: 'unknown-device', version: 3, deviceId: 2, registrationId: 4002 },
    ]);

    // Keys signed by the old identity key are refused from now on; keys signed by the new one are taken.
    const stale = await call('PUT', `${hs.directoryUrl}/v1/keys`, {
      token: bob.token,
      body: { signedPreKey: bob.identity.signedPreKey(77) },
    });
    expect(stale).toMatchObject({ status: 422, body: { error: 'invalid_signature' } });
    const upload = await call('PUT', `${hs.directoryUrl}/v1/keys`, {
      token: bob.token,
      body: { preKeys: [fresh.preKey(1)], pqPreKeys: [fresh.pqPreKey(2)] },
    });
    expect(upload.status).toBe(204);
  });

  it('the relay checks sends against the new registration ids at once (410 for the old ones)', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const alice = await registerAccount(hs.directoryUrl);
    const send = (registrationId: number) =>
      call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
        token: alice.token,
        body: { timestamp: 1, messages: [{ deviceId: 1, registrationId, type: 1, content: 'AAAA' }] },
      });
    expect((await send(bob.registrationId)).status).toBe(200);
    const fresh = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const changed = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: bob.token,
      body: changeBody(fresh, [{ deviceId: 1, registrationId: 5005 }]),
    });
    expect(changed.status).toBe(200);
    expect(await send(bob.registrationId)).toMatchObject({ status: 410, body: { staleDevices: [1] } });
    expect((await send(5005)).status).toBe(200);
  });

  it('refuses a change from a linked device (403), one that misses a device (409), and one signed by the old key (422), changing nothing', async () => {
    const { bob, second } = await accountWithTwoDevices();
    const alice = await registerAccount(hs.directoryUrl);
    const fresh = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const both = [
      { deviceId: 1, registrationId: 11 },
      { deviceId: 2, registrationId: 12 },
    ];

    const fromLinked = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: second.token,
      body: changeBody(fresh, both),
    });
    expect(fromLinked).toMatchObject({ status: 403, body: { error: 'primary_device_only', message: expect.any(String) } });

    const missing = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: bob.token,
      body: changeBody(fresh, [both[0]]),
    });
    expect(missing).toMatchObject({ status: 409, body: { error: 'mismatched_devices', missingDevices: [2], extraDevices: [] } });

    const extra = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: bob.token,
      body: changeBody(fresh, [...both, { deviceId: 3, registrationId: 13 }]),
    });
    expect(extra).toMatchObject({ status: 409, body: { missingDevices: [], extraDevices: [3] } });

    const oldSigned = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: bob.token,
      body: changeBody(fresh, both, bob.identity),
    });
    expect(oldSigned).toMatchObject({ status: 422, body: { error: 'invalid_signature', message: expect.stringContaining('devices') } });

    const unchanged = await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(unchanged.body.identityKey).toBe(bob.identity.identityKeyBase64);
    expect(unchanged.body.devices.map((d: any) => d.registrationId)).toEqual([bob.registrationId, second.registrationId]);
    await hs.directory.get(KtHeadSigner).signNow();
    const history = await call('GET', `${hs.directoryUrl}/v1/kt/history/${bob.address}`);
    expect(history.body.records.map((r: any) => r.record.identityKey)).toEqual([
      bob.identity.identityKeyBase64,
      bob.identity.identityKeyBase64,
    ]);
  });

  it('never keeps keys signed by the old identity key, however uploads and the change interleave', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const fresh = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const upload = (i: number) =>
      call('PUT', `${hs.directoryUrl}/v1/keys`, {
        token: bob.token,
        body: {
          signedPreKey: bob.identity.signedPreKey(100 + i),
          pqPreKeys: [bob.identity.pqPreKey(200 + i)],
          preKeys: [bob.identity.preKey(300 + i)],
        },
      });
    // Uploads go out before, with and after the change, a millisecond apart.
    const uploads: ReturnType<typeof upload>[] = [];
    for (let i = 0; i < 10; i++) uploads.push(upload(i));
    const change = call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, {
      token: bob.token,
      body: changeBody(fresh, [{ deviceId: 1, registrationId: 77 }]),
    });
    for (let i = 10; i < 40; i++) {
      uploads.push(upload(i));
      await new Promise((r) => setTimeout(r, 1));
    }
    const answers = await Promise.all(uploads);
    expect((await change).status).toBe(200);
    // Each upload either landed before the change (204), or was refused after it: 422 when it was
    // authenticated after the change, 409 when it was authenticated before and committed after.
    for (const a of answers) expect([204, 409, 422]).toContain(a.status);

    const pool = new Pool({ connectionString: process.env.TEST_DATABASE_URL });
    try {
      const { rows } = await pool.query<{ public_key: Buffer; signature: Buffer | null }>(
        `
        SELECT public_key, signature FROM directory.signed_prekeys WHERE account_id = $1
        UNION ALL SELECT public_key, signature FROM directory.one_time_prekeys WHERE account_id = $1 AND signature IS NOT NULL`,
        [bob.accountId],
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) expect(verifyIdentitySignature(fresh.identityKey, row.public_key, row.signature as Buffer)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('refuses (409) an upload authenticated before the change and committed after it', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const fresh = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const pool = new Pool({ connectionString: process.env.TEST_DATABASE_URL });
    const holder = await pool.connect();
    try {
      // Stand in for a change that has locked the account and not yet committed.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM directory.accounts WHERE id = $1 FOR UPDATE', [bob.accountId]);
      const upload = call('PUT', `${hs.directoryUrl}/v1/keys`, { token: bob.token, body: { signedPreKey: bob.identity.signedPreKey(9) } });
      await eventually(
        async () =>
          (
            await pool.query(
              `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR SHARE%' AND datname = current_database()`,
            )
          ).rowCount! > 0,
      );
      await holder.query('UPDATE directory.accounts SET identity_key = $2 WHERE id = $1', [bob.accountId, fresh.identityKey]);
      await holder.query('COMMIT');
      expect(await upload).toMatchObject({ status: 409, body: { error: 'identity_key_changed', message: expect.any(String) } });
      const { rows } = await pool.query<{ key_id: number }>(
        'SELECT key_id FROM directory.signed_prekeys WHERE account_id = $1 AND kind = 1',
        [bob.accountId],
      );
      expect(rows).toEqual([{ key_id: 1 }]);
    } finally {
      holder.release();
      await pool.end();
    }
  });

  it('answers 400 with the field at fault for malformed bodies', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const fresh = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const good = changeBody(fresh, [{ deviceId: 1, registrationId: 9 }]);
    const cases: [unknown, string][] = [
      [{ ...good, identityKey: 'AAAA' }, 'identityKey'],
      [{ ...good, devices: [] }, 'devices'],
      [{ ...good, devices: [good.devices[0], good.devices[0]] }, 'devices'],
      [{ ...good, devices: [{ ...good.devices[0], registrationId: 0 }] }, 'devices[0].registrationId'],
      [{ ...good, devices: [{ ...good.devices[0], signedPreKey: undefined }] }, 'devices[0].signedPreKey'],
      [{ ...good, surprise: 1 }, 'surprise'],
      [[good], 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, { token: bob.token, body });
      expect({ field, status: res.status, error: res.body.error }).toEqual({ field, status: 400, error: expect.any(String) });
      expect(res.body.message).toContain(field);
    }
    expect((await call('PUT', `${hs.directoryUrl}/v1/accounts/identity-key`, { body: good })).status).toBe(401);
  });
});
