import { Pool } from 'pg';
import { RunningDirectory, startDirectory } from '../../../../test/support/directory-harness';
import { call } from '../../../../test/support/http';
import { TestAccount, registerAccount } from '../../../../test/support/accounts';
import { sha256 } from '../../../../libs/crypto/src';
import { firstValueFrom } from 'rxjs';
import { createBusClient } from '../../../../libs/bus/src';
import { DirectoryPattern } from '../../../../libs/contracts/src';
import { eventually } from '../../../../test/support/bus-listener';

describe('devices: link codes, linking, listing, removal', () => {
  let dir: RunningDirectory;
  let pool: Pool;
  beforeAll(async () => {
    dir = await startDirectory();
    pool = new Pool({ connectionString: process.env.TEST_DATABASE_URL });
  });
  afterAll(async () => {
    await dir.close();
    await pool.end();
  });

  const linkBody = (account: TestAccount, code: string, registrationId = 4242) => ({
    code,
    registrationId,
    signedPreKey: account.identity.signedPreKey(2),
    pqLastResortPreKey: account.identity.pqPreKey(2999),
    preKeys: [account.identity.preKey(501), account.identity.preKey(502)],
    pqPreKeys: [account.identity.pqPreKey(3001)],
  });
  const newCode = async (account: TestAccount) => {
    const res = await call('POST', `${dir.url}/v1/devices/link-codes`, { token: account.token });
    expect(res.status).toBe(201);
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    return res.body.code as string;
  };

  it('links a second device as device 2 with its own token, listed with the first', async () => {
    const alice = await registerAccount(dir.url);
    const code = await newCode(alice);
    const linked = await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, code) });
    expect(linked.status).toBe(201);
    expect(linked.body).toEqual({ address: alice.address, deviceId: 2, token: expect.any(String) });
    const list = await call('GET', `${dir.url}/v1/devices`, { token: linked.body.token });
    expect(list.status).toBe(200);
    expect(list.body.devices.map((d: { deviceId: number; registrationId: number }) => [d.deviceId, d.registrationId])).toEqual([
      [1, alice.registrationId],
      [2, 4242],
    ]);
    const counts = await call('GET', `${dir.url}/v1/keys`, { token: linked.body.token });
    expect(counts.body).toEqual({ count: 2, pqCount: 1 });
  });

  it("lists each device's last-seen day (UTC, day precision): null until it authenticates, then today", async () => {
    const alice = await registerAccount(dir.url);
    const code = await newCode(alice);
    const linked = await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, code) });
    await pool.query(`UPDATE directory.devices SET last_seen_on = NULL WHERE account_id = $1 AND device_id = 2`, [alice.accountId]);
    const today = new Date().toISOString().slice(0, 10);
    const seen = (body: any) => body.devices.map((d: { deviceId: number; lastSeenAt: string | null }) => [d.deviceId, d.lastSeenAt]);
    // Device 1 authenticated (link code, this list); device 2 has not since the reset.
    let list = await call('GET', `${dir.url}/v1/devices`, { token: alice.token });
    await eventually(
      async () =>
        (
          await pool.query(`SELECT 1 FROM directory.devices WHERE account_id = $1 AND device_id = 1 AND last_seen_on IS NOT NULL`, [
            alice.accountId,
          ])
        ).rowCount === 1,
    );
    list = await call('GET', `${dir.url}/v1/devices`, { token: alice.token });
    expect(seen(list.body)).toEqual([
      [1, today],
      [2, null],
    ]);

    // A device seen by a relay authenticates through the directory's bus: the same record.
    const bus = createBusClient({ redisUrl: dir.config.redisUrl, namespace: dir.config.redisPrefix });
    await bus.connect();
    try {
      const tokenHash = sha256(Buffer.from(linked.body.token, 'base64')).toString('base64');
      expect(await firstValueFrom(bus.send(DirectoryPattern.Authenticate, { tokenHash }))).toMatchObject({ deviceId: 2 });
    } finally {
      await bus.close();
    }
    await eventually(async () => seen((await call('GET', `${dir.url}/v1/devices`, { token: alice.token })).body)[1][1] === today);
    const { rows } = await pool.query(`SELECT last_seen_on::text AS day FROM directory.devices WHERE account_id = $1 ORDER BY device_id`, [
      alice.accountId,
    ]);
    expect(rows).toEqual([{ day: today }, { day: today }]);
  });

  it('accepts a link code once only', async () => {
    const alice = await registerAccount(dir.url);
    const code = await newCode(alice);
    expect((await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, code) })).status).toBe(201);
    const again = await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, code) });
    expect(again.status).toBe(403);
    expect(again.body.error).toBe('invalid_link_code');
  });

  it('refuses an expired link code', async () => {
    const alice = await registerAccount(dir.url);
    const code = await newCode(alice);
    await pool.query(`UPDATE directory.link_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1`, [sha256(code)]);
    const res = await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, code) });
    expect(res.status).toBe(403);
  });

  it('refuses keys not signed by the account identity (422) and leaves the code usable', async () => {
    const alice = await registerAccount(dir.url);
    const mallory = await registerAccount(dir.url);
    const code = await newCode(alice);
    const bad = await call('POST', `${dir.url}/v1/devices`, { body: linkBody(mallory, code) });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toBe('invalid_signature');
    expect((await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, code) })).status).toBe(201);
  });

  it('removing a device stops its token at once and deletes its keys', async () => {
    const alice = await registerAccount(dir.url);
    const linked = await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, await newCode(alice)) });
    const token2 = linked.body.token as string;
    expect((await call('GET', `${dir.url}/v1/keys`, { token: token2 })).status).toBe(200);

    const removed = await call('DELETE', `${dir.url}/v1/devices/2`, { token: alice.token });
    expect(removed.status).toBe(204);
    const after = await call('GET', `${dir.url}/v1/keys`, { token: token2 });
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM directory.one_time_prekeys WHERE account_id = $1 AND device_id = 2`, [
      alice.accountId,
    ]);
    expect(rows[0].n).toBe(0);
    const bundle = await call('GET', `${dir.url}/v1/keys/${alice.address}/*`, { token: alice.token });
    expect(bundle.body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1]);
    expect((await call('DELETE', `${dir.url}/v1/devices/2`, { token: alice.token })).status).toBe(404);
  });

  it('reuses the lowest free device id after a removal', async () => {
    const alice = await registerAccount(dir.url);
    for (let i = 0; i < 2; i++) await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, await newCode(alice)) });
    await call('DELETE', `${dir.url}/v1/devices/2`, { token: alice.token });
    const next = await call('POST', `${dir.url}/v1/devices`, { body: linkBody(alice, await newCode(alice)) });
    expect(next.body.deviceId).toBe(2);
  });

  it('refuses to remove the primary device', async () => {
    const alice = await registerAccount(dir.url);
    const res = await call('DELETE', `${dir.url}/v1/devices/1`, { token: alice.token });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('primary_device');
  });

  it('stores only hashes of device tokens and link codes', async () => {
    const alice = await registerAccount(dir.url);
    const code = await newCode(alice);
    const { rows: devices } = await pool.query('SELECT token_hash FROM directory.devices WHERE account_id = $1', [alice.accountId]);
    expect(devices[0].token_hash).toEqual(sha256(Buffer.from(alice.token, 'base64')));
    const { rows: codes } = await pool.query('SELECT code_hash FROM directory.link_codes WHERE account_id = $1', [alice.accountId]);
    expect(codes[0].code_hash).toEqual(sha256(code));
  });
});
