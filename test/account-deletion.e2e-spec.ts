import { Pool } from 'pg';
import { KeyTransparencyClient, MemoryKtStateStore } from '../libs/client/src';
import { KtHeadSigner } from '../apps/prekey-directory/src/transparency/kt-head-signer.service';
import { KtSigningKey } from '../apps/prekey-directory/src/transparency/kt-signing-key.service';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { linkDevice, registerAccount, registrationBody } from './support/accounts';
import { DeviceKeyMaterial } from '../libs/client/src';
import { DeviceSocket } from './support/device-socket';
import { eventually } from './support/bus-listener';
import { call, fetchJson } from './support/http';

/**
 * DELETE /v1/accounts/me: the primary device ends its account. Every token stops at once, every
 * socket closes (4410) and every queue goes; the log's last record of the address has no devices;
 * the localpart can be registered again and its history continues in the log.
 */
describe('account deletion', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  beforeAll(async () => {
    hs = await startHomeserver({ relays: 2 });
    pool = new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await hs.close();
  });

  it('removes devices, keys, tokens, sockets and queues, and logs the end of the account', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const second = await linkDevice(hs.directoryUrl, bob);
    const alice = await registerAccount(hs.directoryUrl);
    // Something queued for device 2, which is not connected.
    const sent = await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: {
        timestamp: 1,
        messages: [
          { deviceId: 1, registrationId: bob.registrationId, type: 1, content: 'AAAA' },
          { deviceId: 2, registrationId: second.registrationId, type: 1, content: 'BBBB' },
        ],
      },
    });
    expect(sent.status).toBe(200);
    const socket = await DeviceSocket.connect(hs.relayUrls[1], bob.token);
    await eventually(() => socket.queueEmpty === 1);

    expect((await call('DELETE', `${hs.directoryUrl}/v1/accounts/me`, { token: second.token })).status).toBe(403);
    expect((await call('DELETE', `${hs.directoryUrl}/v1/accounts/me`, { token: bob.token })).status).toBe(204);

    await eventually(() => socket.closeCode !== null);
    expect(socket.closeCode).toBe(4410);
    for (const token of [bob.token, second.token]) expect((await call('GET', `${hs.directoryUrl}/v1/keys`, { token })).status).toBe(401);
    expect((await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token })).status).toBe(404);
    const again = await call('PUT', `${hs.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: { timestamp: 2, messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content: 'AAAA' }] },
    });
    expect(again.status).toBe(404);
    await eventually(
      async () =>
        (await pool.query('SELECT count(*)::int AS n FROM relay.envelopes WHERE account_id = $1', [bob.accountId])).rows[0].n === 0,
    );
    const left = await pool.query(
      `
      SELECT (SELECT count(*) FROM directory.devices WHERE account_id = $1)::int AS devices,
             (SELECT count(*) FROM directory.signed_prekeys WHERE account_id = $1)::int AS signed,
             (SELECT count(*) FROM directory.one_time_prekeys WHERE account_id = $1)::int AS one_time`,
      [bob.accountId],
    );
    expect(left.rows[0]).toEqual({ devices: 0, signed: 0, one_time: 0 });

    await hs.directory.get(KtHeadSigner).signNow();
    const kt = new KeyTransparencyClient(
      { server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey: hs.directory.get(KtSigningKey).publicKey.toString('base64') },
      new MemoryKtStateStore(),
      fetchJson,
    );
    const history = await kt.verifiedHistory(bob.address);
    expect(history.map((h) => h.record.devices.map((d) => d.deviceId))).toEqual([[1], [1, 2], []]);

    // The localpart is free again; the log continues the address's history under the new key.
    const identity = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const reRegistered = await call('POST', `${hs.directoryUrl}/v1/accounts`, { body: registrationBody(identity, bob.localpart) });
    expect(reRegistered.status).toBe(201);
    expect(reRegistered.body.accountId).not.toBe(bob.accountId);
    await hs.directory.get(KtHeadSigner).signNow();
    const after = await kt.verifiedHistory(bob.address);
    expect(after.map((h) => h.record.version)).toEqual([1, 2, 3, 4]);
    expect(after[3].record.identityKey).toBe(identity.identityKeyBase64);
  });
});
