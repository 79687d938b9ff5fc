import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { BlackholeServer } from '../../bench/support/blackhole-server';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { TestAccount, registerAccount } from '../support/accounts';
import { eventually } from '../support/bus-listener';
import { JsonAnswer } from '../support/http';
import { outboxRows, serverPool } from '../support/federation-testkit';
import { primary, send } from '../support/relay-testkit';

/**
 * Issue 9, sealed sends to users of servers that never answer: `void*.test` are in alpha's peer
 * map but lead to a loopback server that accepts connections and never answers (nothing has
 * ever answered alpha from there: no pinned keys, not a proven peer). A send to such a server
 * must not wait for the whole federation timeout, must not leave anything behind that is retried
 * (an outbox flush holds a Postgres connection across its request), and a second send to the
 * same server must be refused from memory.
 *
 * The gateway's pool is 2 connections, so anything a never-answering server holds there shows.
 * The federation request timeout (4 s) is longer than the deadline for a server never heard from
 * (1 s); no assertion depends on either: they assert what was answered, and in which order.
 */

jest.setTimeout(120_000);

const VOIDS = ['void1.test', 'void2.test', 'void3.test', 'void4.test'];

describe('sealed sends to users of a server that accepts connections and never answers', () => {
  let blackhole: BlackholeServer;
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let alphaDb: Pool;
  let alice: TestAccount;
  let bob: TestAccount;

  const sealed = (address: string): Promise<JsonAnswer> =>
    send(alpha.relayUrl, address, [primary({ registrationId: 1 })], 'sealed', { accessKey: randomBytes(16).toString('base64'), type: 6 });
  const toBob = (text: string) => send(alpha.relayUrl, bob.address, [primary(bob)], text, { token: alice.token });
  const closedConnections = () => blackhole.accepted - blackhole.open;

  beforeAll(async () => {
    const listening = await BlackholeServer.listen();
    blackhole = listening.blackhole;
    await freshFederationServers(['alpha.test', 'beta.test']);
    [alpha, beta] = await startFederation(
      ['alpha.test', 'beta.test'],
      { 'alpha.test': { FEDERATION_REQUEST_TIMEOUT_MS: '4000', FEDERATION_RESOLVE_TIMEOUT_MS: '1000', GATEWAY_DB_POOL_SIZE: '2' } },
      { extraPeers: Object.fromEntries(VOIDS.map((server) => [server, listening.url])) },
    );
    alphaDb = serverPool(alpha);
    alice = await registerAccount(alpha.directoryUrl, { stem: 'void-alice' });
    bob = await registerAccount(beta.directoryUrl, { stem: 'void-bob' });
    expect((await toBob('warm-up')).status).toBe(200);
  });
  afterAll(async () => {
    await alphaDb?.end();
    await alpha?.close();
    await beta?.close();
    await blackhole?.close();
  });

  it('each is refused 503 unknown_server with Retry-After, nothing is queued, and a send to beta made while all are pending is answered first', async () => {
    const acceptedBefore = blackhole.accepted;
    let settled = 0;
    const pending = VOIDS.map((server) => sealed(`victim@${server}`).finally(() => settled++));
    await eventually(() => blackhole.accepted >= acceptedBefore + VOIDS.length, 20_000);

    const meanwhile = await toBob('while the never-answering servers are pending');
    expect(meanwhile.status).toBe(200);
    expect(settled).toBe(0);

    for (const answer of await Promise.all(pending)) {
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ error: 'unknown_server', message: expect.any(String), retryAfter: expect.any(Number) });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    for (const server of VOIDS) expect(await outboxRows(alphaDb, server)).toBe(0);
  });

  it('a second send to the same server is refused at once, without a new connection to it', async () => {
    // undici opens one idle connection again after an aborted GET (closed after its 4 s keep-alive): let those end first.
    await eventually(() => blackhole.open === 0, 20_000);
    const accepted = blackhole.accepted;
    const again = await sealed('someone-else@void1.test');
    expect(again.status).toBe(503);
    expect(again.body).toMatchObject({ error: 'unknown_server' });
    expect(blackhole.accepted).toBe(accepted);
  });

  it('afterwards nothing of theirs is retried: no connection to them stays open, and a send to beta is answered before any other request to them ends', async () => {
    await eventually(() => blackhole.open === 0, 20_000);
    const closed = closedConnections();
    expect((await toBob('after the never-answering servers')).status).toBe(200);
    expect(closedConnections()).toBe(closed);
    expect(blackhole.open).toBe(0);
  });
});
