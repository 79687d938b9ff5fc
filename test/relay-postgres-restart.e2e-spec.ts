import { Pool } from 'pg';
import { TestAccount, registerAccount } from './support/accounts';
import { eventually } from './support/bus-listener';
import { DeviceSocket } from './support/device-socket';
import { freshDatabase } from './support/federation-databases';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { PrivatePostgres } from './support/postgres-server';
import { primary, send, storedEnvelopes } from './support/relay-testkit';

/**
 * Issue 8, defect 11: acks made while Postgres is down must not be lost. The relay keeps the
 * acked ids and retries their delete (bounded backoff) until Postgres is back; the device that
 * reconnects afterwards gets none of the envelopes it acked again.
 * A private Postgres cluster (test/support/postgres-server.ts) is stopped while the acks are
 * made, then started again with its data.
 */

jest.setTimeout(120_000);

describe('acks made while Postgres is down (private Postgres, stopped and restarted)', () => {
  let pg: PrivatePostgres;
  let hs: RunningHomeserver;
  let db: Pool;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    await freshDatabase(pg.url('sealpost'));
    hs = await startHomeserver({ env: { DATABASE_URL: pg.url('sealpost') } });
    db = new Pool({ connectionString: pg.url('sealpost'), max: 1 });
    db.on('error', (error) => {
      process.stderr.write(`spec pool: ${error.message}\n`);
    });
    alice = await registerAccount(hs.directoryUrl, { stem: 'pgr-alice' });
    bob = await registerAccount(hs.directoryUrl, { stem: 'pgr-bob' });
  });
  afterAll(async () => {
    await db?.end();
    await hs?.close();
    await pg?.destroy();
  });

  it('deletes the acked envelopes once Postgres is back, and does not deliver them again on reconnect', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await send(hs.relayUrl, bob.address, [primary(bob)], `acked during outage ${i}`, { token: alice.token })).status).toBe(200);
    }
    const first = await DeviceSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => first.envelopes.length === 3 && first.queueEmpty === 1, 10_000);

    await pg.stop();
    first.ack(first.envelopes.map((e) => e.id));
    // Long enough for the first delete attempt to reach the stopped server and fail.
    await new Promise((r) => setTimeout(r, 1000));
    await first.close();
    await pg.start();

    const again = await DeviceSocket.connect(hs.relayUrl, bob.token);
    try {
      await eventually(() => again.queueEmpty === 1, 30_000);
      expect(again.envelopes.map((e) => e.id)).toEqual([]);
      await eventually(async () => (await storedEnvelopes(db, bob.accountId)) === 0, 30_000);
    } finally {
      await again.close();
    }
  });
});
