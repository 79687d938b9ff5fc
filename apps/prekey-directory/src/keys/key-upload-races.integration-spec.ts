import { Pool, PoolClient } from 'pg';
import { RunningDirectory, startDirectory } from '../../../../test/support/directory-harness';
import { linkDevice, registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { call } from '../../../../test/support/http';

/**
 * Changes of an account's device set serialise on the account row (`lockForChange`); key uploads
 * share that lock. A request authenticated just before a change and run just after it gets a
 * clear 4xx, never a 500 from a foreign key, and stores nothing.
 */
describe('key uploads and device changes racing', () => {
  let dir: RunningDirectory;
  let pool: Pool;
  beforeAll(async () => {
    dir = await startDirectory();
    pool = new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 3 });
  });
  afterAll(async () => {
    await pool.end();
    await dir.close();
  });

  /** Holds the account's change lock, as a change in progress would, until `release`. */
  async function holdAccount(accountId: string): Promise<PoolClient> {
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM directory.accounts WHERE id = $1 FOR UPDATE', [accountId]);
    return holder;
  }
  const waitingOn = (fragment: string) =>
    eventually(
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1 AND datname = current_database()`,
            [`%${fragment}%`],
          )
        ).rowCount! > 0,
    );

  it('an upload by a device removed meanwhile answers 401 and stores nothing', async () => {
    const bob = await registerAccount(dir.url);
    const second = await linkDevice(dir.url, bob);
    const holder = await holdAccount(bob.accountId);
    try {
      const upload = call('PUT', `${dir.url}/v1/keys`, {
        token: second.token,
        body: { preKeys: [bob.identity.preKey(900)], signedPreKey: bob.identity.signedPreKey(901) },
      });
      await waitingOn('FOR SHARE');
      await holder.query('DELETE FROM directory.devices WHERE account_id = $1 AND device_id = 2', [bob.accountId]);
      await holder.query('COMMIT');
      expect(await upload).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    } finally {
      holder.release();
    }
    const { rows } = await pool.query(
      `
      SELECT (SELECT count(*) FROM directory.one_time_prekeys WHERE account_id = $1 AND device_id = 2)::int AS one_time,
             (SELECT count(*) FROM directory.signed_prekeys WHERE account_id = $1 AND device_id = 2)::int AS signed`,
      [bob.accountId],
    );
    expect(rows[0]).toEqual({ one_time: 0, signed: 0 });
  });

  it('a device removal waits for a change in progress, then sees its result', async () => {
    const bob = await registerAccount(dir.url);
    await linkDevice(dir.url, bob);
    const holder = await holdAccount(bob.accountId);
    let removal: ReturnType<typeof call>;
    try {
      removal = call('DELETE', `${dir.url}/v1/devices/2`, { token: bob.token });
      await waitingOn('FOR UPDATE');
      // The change in progress removes device 2 itself.
      await holder.query('DELETE FROM directory.devices WHERE account_id = $1 AND device_id = 2', [bob.accountId]);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await removal!).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });
});
