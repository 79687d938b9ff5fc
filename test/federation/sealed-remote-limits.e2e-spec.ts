import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { outboxRows, serverPool } from '../support/federation-testkit';
import { primary, send } from '../support/relay-testkit';

/**
 * Issue 9, defect 2: sealed sends to users of other homeservers need no account, so everything
 * they can make this homeserver keep is bounded — per client address and per destination server
 * (relay), bytes queued per destination and destinations created per hour (gateway outbox) — and
 * a server that does not resolve is refused (422 unknown_server) instead of queued for days.
 * The peers `dead*.test` are in the static map but nothing listens there: every send is queued.
 */
const DEAD = 'http://127.0.0.1:9';
const PEERS = ['dead1', 'dead2', 'dead3', 'dead4', 'dead5', 'dead6'].map((d) => `${d}.test=${DEAD}`).join(',');

jest.setTimeout(60_000);

describe('federation: bounds on sealed sends to other homeservers', () => {
  let hs: FederatedHomeserver;
  let db: Pool;
  beforeAll(async () => {
    await freshFederationServers(['abuse.test']);
    [hs] = await startFederation(['abuse.test'], {
      'abuse.test': {
        FEDERATION_PEERS: PEERS,
        TRUST_PROXY: '127.0.0.1',
        SEALED_REMOTE_RATE_BURST: '3',
        SEALED_REMOTE_RATE_PER_MINUTE: '1',
        REMOTE_DESTINATION_RATE_BURST: '6',
        REMOTE_DESTINATION_RATE_PER_MINUTE: '1',
        FEDERATION_OUTBOX_MAX_BYTES_PER_DESTINATION: '30000',
        FEDERATION_OUTBOX_NEW_DESTINATIONS_PER_HOUR: '4',
        // Nothing is retried during the spec: the outbox only fills.
        FEDERATION_RETRY_BASE_MS: '600000',
        FEDERATION_RETRY_MAX_MS: '600000',
      },
    });
    db = serverPool(hs);
  });
  afterAll(async () => {
    await db?.end();
    await hs?.close();
  });

  const anyKey = () => randomBytes(16).toString('base64');
  const sealed = (address: string, from: string, content = 'x') =>
    send(hs.relayUrl, address, [primary({ registrationId: 1 })], content, { accessKey: anyKey(), headers: { 'x-forwarded-for': from } });
  const statuses = async (n: number, one: (i: number) => Promise<{ status: number }>) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await one(i)).status);
    return out;
  };

  it('per client address: the 4th sealed send from one address (burst 3) is 429 with Retry-After; another address still gets 200', async () => {
    expect(await statuses(3, () => sealed('bob@dead1.test', '203.0.113.1'))).toEqual([200, 200, 200]);
    const fourth = await sealed('bob@dead1.test', '203.0.113.1');
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ error: 'rate_limited' });
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await sealed('bob@dead1.test', '203.0.113.2')).status).toBe(200);
    expect(await outboxRows(db, 'dead1.test')).toBe(4);
  });

  it('per client address, before the body is read: an address over its budget is 429 even for a body that is not JSON (never parsed)', async () => {
    // 203.0.113.1 spent its burst above (1 token a minute comes back).
    const answer = await fetch(`${hs.relayUrl}/v1/messages/bob@dead6.test`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'unidentified-access-key': anyKey(), 'x-forwarded-for': '203.0.113.1' },
      body: '{"messages": [not json',
    });
    expect(answer.status).toBe(429);
    expect(await answer.json()).toMatchObject({ error: 'rate_limited', retryAfter: expect.any(Number) });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await outboxRows(db, 'dead6.test')).toBe(0);
  });

  it('per destination server: the 7th sealed send to one server (burst 6), each from its own address, is 429', async () => {
    expect(await statuses(6, (i) => sealed(`u${i}@dead2.test`, `198.51.100.${i + 1}`))).toEqual([200, 200, 200, 200, 200, 200]);
    const seventh = await sealed('u7@dead2.test', '198.51.100.77');
    expect(seventh.status).toBe(429);
    expect(Number(seventh.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await outboxRows(db, 'dead2.test')).toBe(6);
  });

  it('outbox bytes per destination: past 30,000 bytes queued for one server, a send is 429 outbox_full with Retry-After and nothing more is kept', async () => {
    const big = 'y'.repeat(8000); // about 11 KB per queued delivery once base64 and JSON
    const answers = await statuses(4, (i) => sealed(`v${i}@dead3.test`, `192.0.2.${i + 1}`, big));
    expect(answers.slice(0, 2)).toEqual([200, 200]);
    const full = await sealed('w@dead3.test', '192.0.2.99', big);
    expect(full.status).toBe(429);
    expect(full.body).toEqual({ error: 'outbox_full', message: expect.any(String), retryAfter: expect.any(Number) });
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await outboxRows(db, 'dead3.test')).toBeLessThanOrEqual(2);
  });

  it('destinations created per hour (4): a 5th new destination is refused 429 too_many_destinations and gets no outbox row', async () => {
    // dead1..dead3 were created above; dead4 is the 4th.
    expect((await sealed('a@dead4.test', '192.0.2.200')).status).toBe(200);
    const fifth = await sealed('a@dead5.test', '192.0.2.201');
    expect(fifth.status).toBe(429);
    expect(fifth.body).toMatchObject({ error: 'too_many_destinations' });
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await outboxRows(db, 'dead5.test')).toBe(0);
    // A destination that already has a backlog is not new: it still takes sends.
    expect((await sealed('b@dead4.test', '192.0.2.202')).status).toBe(200);
  });

  it('a server that does not resolve (no static entry, no well-known) is refused 422 unknown_server and nothing is queued', async () => {
    const answer = await sealed('bob@nowhere.invalid', '192.0.2.210');
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ error: 'unknown_server', message: expect.any(String) });
    expect(await outboxRows(db, 'nowhere.invalid')).toBe(0);
  });
});
