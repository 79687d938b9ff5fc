import { randomBytes } from 'node:crypto';
import { BlackholeServer } from '../../bench/support/blackhole-server';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { TestAccount, registerAccount } from '../support/accounts';
import { listenToBusEvent } from '../support/bus-listener';
import { JsonAnswer } from '../support/http';
import { primary, send } from '../support/relay-testkit';

/**
 * Issue 9, sealed sends to a server the gateway refuses: the relay asks the gateway about a
 * destination it has no verdict for (`federation.vet-destination`, no envelopes) before it ships
 * envelopes, and keeps the refusal, so envelopes for a refused server never cross the bus — not
 * the first time, and later sends are answered by the relay before their body is read. Sends to a
 * known peer are not asked about again (no extra bus round trip) and are delivered as before.
 *
 * `void*.test` are in alpha's peer map but lead to a loopback server that accepts connections and
 * never answers.
 */

jest.setTimeout(120_000);

/** A sealed send as the abuse bench makes it: 8 envelopes of 128 KiB (about 1.4 MB of JSON). */
function heavySealedBody(): string {
  const content = randomBytes(128 * 1024).toString('base64');
  const messages = Array.from({ length: 8 }, (_, i) => ({ deviceId: i + 1, registrationId: 1, type: 6, content }));
  return JSON.stringify({ timestamp: Date.now(), messages });
}

describe('sealed sends to a server the gateway refuses', () => {
  let blackhole: BlackholeServer;
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let alice: TestAccount;
  let bob: TestAccount;
  let delivers: { events: { destination: string }[]; close(): Promise<void> };
  let vets: { events: { destination: string }[]; close(): Promise<void> };

  const sealed = (address: string): Promise<JsonAnswer> =>
    send(alpha.relayUrl, address, [primary({ registrationId: 1 })], 'sealed', { accessKey: randomBytes(16).toString('base64'), type: 6 });
  const raw = (address: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${alpha.relayUrl}/v1/messages/${address}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'unidentified-access-key': randomBytes(16).toString('base64'), ...headers },
      body,
    });
  const toBob = (text: string) => send(alpha.relayUrl, bob.address, [primary(bob)], text, { token: alice.token });
  const deliversTo = (server: string) => delivers.events.filter((e) => e.destination === server).length;
  const vetsOf = (server: string) => vets.events.filter((e) => e.destination === server).length;

  beforeAll(async () => {
    const listening = await BlackholeServer.listen();
    blackhole = listening.blackhole;
    await freshFederationServers(['alpha.test', 'beta.test']);
    [alpha, beta] = await startFederation(
      ['alpha.test', 'beta.test'],
      // Long enough for beta's first probe on a loaded machine; each never-answering server costs it once.
      { 'alpha.test': { FEDERATION_RESOLVE_TIMEOUT_MS: '3000' } },
      { extraPeers: { 'void1.test': listening.url, 'void2.test': listening.url, 'void3.test': listening.url } },
    );
    delivers = await listenToBusEvent(alpha.relayConfig.redisUrl, alpha.relayConfig.redisPrefix, 'federation.deliver');
    vets = await listenToBusEvent(alpha.relayConfig.redisUrl, alpha.relayConfig.redisPrefix, 'federation.vet-destination');
    alice = await registerAccount(alpha.directoryUrl, { stem: 'prevet-alice' });
    bob = await registerAccount(beta.directoryUrl, { stem: 'prevet-bob' });
  });
  afterAll(async () => {
    await delivers?.close();
    await vets?.close();
    await alpha?.close();
    await beta?.close();
    await blackhole?.close();
  });

  it('the first send is refused 503 unknown_server without its envelopes crossing the bus', async () => {
    const answer = await sealed('victim@void1.test');
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: 'unknown_server', message: expect.any(String), retryAfter: expect.any(Number) });
    expect(deliversTo('void1.test')).toBe(0);
    expect(vetsOf('void1.test')).toBe(1);
  });

  it('later sends to it are refused by the relay from memory: nothing on the bus, their body never parsed', async () => {
    const vetsBefore = vets.events.length;
    const again = await sealed('someone-else@void1.test');
    expect(again.status).toBe(503);
    expect(again.body).toMatchObject({ error: 'unknown_server', retryAfter: expect.any(Number) });
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const heavy = await raw('victim@void1.test', heavySealedBody());
    expect(heavy.status).toBe(503);
    expect(await heavy.json()).toMatchObject({ error: 'unknown_server' });

    // Not JSON at all: the refusal comes before the body would be parsed (else 400).
    const garbage = await raw('victim@void1.test', '{"messages": [oops');
    expect(garbage.status).toBe(503);
    expect(await garbage.json()).toMatchObject({ error: 'unknown_server' });

    expect(deliversTo('void1.test')).toBe(0);
    expect(vets.events.length).toBe(vetsBefore);
  });

  it('concurrent first sends to another refused server share one question and ship nothing', async () => {
    const answers = await Promise.all([1, 2, 3].map((i) => sealed(`victim${i}@void2.test`)));
    for (const answer of answers) expect(answer.status).toBe(503);
    expect(deliversTo('void2.test')).toBe(0);
    expect(vetsOf('void2.test')).toBe(1);
  });

  it('a sealed first send to a server is vetted before its body is read: refused unparsed (503, not 400 for a body that is not JSON)', async () => {
    const first = await raw('victim@void3.test', '{"messages": [oops');
    expect(first.status).toBe(503);
    expect(await first.json()).toMatchObject({ error: 'unknown_server' });
    expect(deliversTo('void3.test')).toBe(0);
    expect(vetsOf('void3.test')).toBe(1);
  });

  it('sends to a known peer are delivered, and asked about at most once', async () => {
    for (let i = 0; i < 3; i++) expect((await toBob(`hello ${i}`)).status).toBe(200);
    expect(deliversTo('beta.test')).toBe(3);
    expect(vetsOf('beta.test')).toBeLessThanOrEqual(1);
    const invalid = await raw(bob.address, '{"messages": [oops');
    expect(invalid.status).toBe(400);
  });
});
