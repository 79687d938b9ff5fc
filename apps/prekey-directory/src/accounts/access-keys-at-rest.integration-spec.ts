import { createHash, randomBytes } from 'node:crypto';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { dumpSchema, findInDump } from '../../../../test/support/postgres-dump';
import { primary, registerWithAccessKey, send, testPool } from '../../../../test/support/relay-testkit';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

/**
 * Issue 8, defect 9: a database backup alone must not let anyone pass the sealed-sender check.
 * The directory keeps unidentified-access keys sealed with a key derived from the server secret
 * in KEYS_DIR, so neither the key, nor its base64, nor the SHA-256 the relay compares is in
 * Postgres — and sealed sends still work.
 */
describe('directory: unidentified-access keys at rest', () => {
  let hs: RunningHomeserver;
  const pool = testPool();
  beforeAll(async () => {
    hs = await startHomeserver();
  });
  afterAll(async () => {
    await hs.close();
    await pool.end();
  });

  it('stores no access key, base64 of one, or SHA-256 of one anywhere in the directory schema, and sealed sends still pass the check', async () => {
    const accounts = [
      await registerWithAccessKey(hs.directoryUrl, 'uak'),
      await registerWithAccessKey(hs.directoryUrl, 'uak'),
      await registerWithAccessKey(hs.directoryUrl, 'uak'),
    ];

    const needles = accounts.flatMap(({ localpart, accessKey }): [string, Buffer][] => {
      const raw = Buffer.from(accessKey, 'base64');
      const hash = sha256(raw);
      return [
        [`${localpart} key (raw bytes)`, raw],
        [`${localpart} key (base64)`, Buffer.from(accessKey)],
        [`${localpart} key (hex)`, Buffer.from(raw.toString('hex'))],
        [`${localpart} SHA-256 (raw bytes)`, hash],
        [`${localpart} SHA-256 (base64)`, Buffer.from(hash.toString('base64'))],
        [`${localpart} SHA-256 (hex)`, Buffer.from(hash.toString('hex'))],
      ];
    });
    const dump = await dumpSchema(pool, 'directory');
    // Not vacuous: the accounts are in the dump.
    const accountRows = dump.filter((r) => r.table === 'accounts');
    for (const { localpart } of accounts) expect(accountRows.some((r) => r.cells.some((c) => c.equals(Buffer.from(localpart))))).toBe(true);
    expect(findInDump(dump, needles)).toEqual([]);

    // The check still works: the right key passes, a wrong key and an unknown address are the same 401.
    const [bob] = accounts;
    expect((await send(hs.relayUrl, bob.address, [primary(bob)], 'sealed', { accessKey: bob.accessKey })).status).toBe(200);
    const wrong = await send(hs.relayUrl, bob.address, [primary(bob)], 'sealed', { accessKey: randomBytes(16).toString('base64') });
    const unknown = await send(hs.relayUrl, `nobody-${randomBytes(4).toString('hex')}@alpha.test`, [primary(bob)], 'sealed', {
      accessKey: bob.accessKey,
    });
    expect(wrong.status).toBe(401);
    expect(unknown).toMatchObject({ status: 401, body: wrong.body });
    // An account registered without a key cannot be reached sealed at all.
    const plain = await registerAccount(hs.directoryUrl);
    expect((await send(hs.relayUrl, plain.address, [primary(plain)], 'sealed', { accessKey: bob.accessKey })).status).toBe(401);
  });
});
