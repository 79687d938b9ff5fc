import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { EnvelopeJson } from '../../libs/contracts/src';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { TestAccount, registerAccount } from '../support/accounts';
import { DeviceSocket } from '../support/device-socket';
import { eventually } from '../support/bus-listener';
import { call } from '../support/http';
import {
  ServerSigningKey,
  identifiedDelivery,
  readSigningKey,
  serverPool,
  signedCall,
  storedFor,
  keepsHolding,
} from '../support/federation-testkit';

/**
 * Three homeservers on loopback: every pair exchanges messages both ways; a server can only
 * deliver envelopes whose identified sender belongs to it (DESIGN §5: "a third server cannot
 * deliver envelopes claiming to come from another origin"); inbound delivery is idempotent on the
 * origin's delivery id, and a batch keeps its order.
 */

const b64 = (text: string) => Buffer.from(text).toString('base64');
const text = (e: EnvelopeJson) => Buffer.from(e.content, 'base64').toString();

describe('three homeservers federating on loopback', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let gamma: FederatedHomeserver;
  let betaDb: Pool;
  let alphaKey: ServerSigningKey;
  let gammaKey: ServerSigningKey;

  beforeAll(async () => {
    // Peers pin each other's keys: a spec that ran earlier may have reset alpha or beta (new keys) while gamma kept the old pins.
    await freshFederationServers(['alpha.test', 'beta.test', 'gamma.test']);
    [alpha, beta, gamma] = await startFederation(['alpha.test', 'beta.test', 'gamma.test']);
    betaDb = serverPool(beta);
    alphaKey = readSigningKey(alpha);
    gammaKey = readSigningKey(gamma);
  });
  afterAll(async () => {
    await betaDb?.end();
    for (const hs of [alpha, beta, gamma]) await hs?.close();
  });

  const batchTo = (key: ServerSigningKey, deliveries: unknown[]) =>
    signedCall({
      method: 'PUT',
      baseUrl: beta.gatewayUrl,
      path: '/federation/v1/messages',
      key,
      destination: 'beta.test',
      body: { deliveries },
    });

  it('delivers a message round trip between each pair of homeservers', async () => {
    const servers = [alpha, beta, gamma];
    const users = new Map<FederatedHomeserver, TestAccount>();
    const sockets = new Map<FederatedHomeserver, DeviceSocket>();
    for (const hs of servers) {
      const account = await registerAccount(hs.directoryUrl, { stem: hs.server.split('.')[0] });
      users.set(hs, account);
      sockets.set(hs, await DeviceSocket.connect(hs.relayUrl, account.token, true));
    }
    try {
      for (const from of servers) {
        for (const to of servers) {
          if (from === to) continue;
          const sender = users.get(from)!;
          const recipient = users.get(to)!;
          const note = `${from.server} -> ${to.server}`;
          const sent = await call('PUT', `${from.relayUrl}/v1/messages/${recipient.address}`, {
            token: sender.token,
            body: { timestamp: 7, messages: [{ deviceId: 1, registrationId: recipient.registrationId, type: 1, content: b64(note) }] },
          });
          expect({ note, status: sent.status }).toEqual({ note, status: 200 });
          await eventually(() => sockets.get(to)!.envelopes.some((e) => text(e) === note), 10_000);
          expect(sockets.get(to)!.envelopes.find((e) => text(e) === note)).toMatchObject({
            source: sender.address,
            sourceDevice: 1,
            clientTimestamp: 7,
            type: 1,
          });
        }
      }
      for (const hs of servers) {
        const got = sockets.get(hs)!.envelopes.map(text).sort();
        expect(got).toEqual(
          servers
            .filter((s) => s !== hs)
            .map((s) => `${s.server} -> ${hs.server}`)
            .sort(),
        );
      }
    } finally {
      for (const socket of sockets.values()) await socket.close();
    }
  });

  it('gamma cannot deliver envelopes claiming a sender on alpha: 403 origin_mismatch for that delivery, its own delivery in the same batch passes, nothing forged is stored', async () => {
    const bob = await registerAccount(beta.directoryUrl, { stem: 'bob' });
    const forged = identifiedDelivery({ to: bob, source: 'alice@alpha.test', text: 'forged by gamma' });
    const honest = identifiedDelivery({ to: bob, source: 'carol@gamma.test', text: 'honest from gamma' });
    const answer = await batchTo(gammaKey, [forged, honest]);
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual(
      expect.arrayContaining([
        { id: forged.id, status: 403, body: { error: 'origin_mismatch', message: expect.any(String) } },
        { id: honest.id, status: 200, body: { serverTimestamp: expect.any(Number) } },
      ]),
    );
    expect(answer.body.results).toHaveLength(2);

    // The single-delivery route refuses it too.
    const single = await signedCall({
      method: 'PUT',
      baseUrl: beta.gatewayUrl,
      path: `/federation/v1/messages/${bob.address}`,
      key: gammaKey,
      destination: 'beta.test',
      body: (({ address: _address, ...rest }) => rest)(identifiedDelivery({ to: bob, source: 'alice@alpha.test', text: 'forged single' })),
    });
    expect(single.status).toBe(403);
    expect(single.body).toEqual({ error: 'origin_mismatch', message: expect.any(String) });
    // A source on beta itself is no better.
    const local = await batchTo(gammaKey, [identifiedDelivery({ to: bob, source: `${bob.localpart}@beta.test`, text: 'forged local' })]);
    expect(local.body.results[0]).toMatchObject({ status: 403, body: { error: 'origin_mismatch' } });

    expect(await storedFor(betaDb, bob.accountId)).toBe(1);
    const socket = await DeviceSocket.connect(beta.relayUrl, bob.token, true);
    try {
      await eventually(() => socket.queueEmpty > 0, 10_000);
      expect(socket.envelopes.map((e) => [text(e), e.source])).toEqual([['honest from gamma', 'carol@gamma.test']]);
    } finally {
      await socket.close();
    }
  });

  it('a delivery id sent twice by its origin (two separately signed requests, or twice in one batch) is stored once', async () => {
    const bob = await registerAccount(beta.directoryUrl, { stem: 'bob' });
    const delivery = identifiedDelivery({ to: bob, source: 'alice@alpha.test', text: 'exactly once' });
    const first = await batchTo(alphaKey, [delivery]);
    const second = await batchTo(alphaKey, [delivery]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.body.results).toEqual([{ id: delivery.id, status: 200, body: { serverTimestamp: expect.any(Number) } }]);
    // Idempotent: the second answer is the first one.
    expect(second.body).toEqual(first.body);
    expect(await storedFor(betaDb, bob.accountId)).toBe(1);

    const twiceInOneBatch = identifiedDelivery({ to: bob, source: 'alice@alpha.test', text: 'twice in one batch' });
    const both = await batchTo(alphaKey, [twiceInOneBatch, twiceInOneBatch]);
    expect(both.status).toBe(200);
    expect(both.body.results.map((r: any) => [r.id, r.status])).toEqual([
      [twiceInOneBatch.id, 200],
      [twiceInOneBatch.id, 200],
    ]);
    expect(await storedFor(betaDb, bob.accountId)).toBe(2);

    const socket = await DeviceSocket.connect(beta.relayUrl, bob.token, true);
    try {
      await eventually(() => socket.queueEmpty > 0, 10_000);
      expect(socket.envelopes.map(text)).toEqual(['exactly once', 'twice in one batch']);
    } finally {
      await socket.close();
    }
  });

  it("delivery ids are per origin: gamma reusing alpha's delivery id neither suppresses nor replaces alpha's envelope", async () => {
    const bob = await registerAccount(beta.directoryUrl, { stem: 'bob' });
    const id = randomUUID();
    const fromGamma = await batchTo(gammaKey, [identifiedDelivery({ id, to: bob, source: 'carol@gamma.test', text: 'gamma first' })]);
    expect(fromGamma.body.results[0]).toMatchObject({ id, status: 200 });
    const fromAlpha = await batchTo(alphaKey, [identifiedDelivery({ id, to: bob, source: 'alice@alpha.test', text: 'alpha second' })]);
    expect(fromAlpha.body.results[0]).toMatchObject({ id, status: 200 });
    expect(await storedFor(betaDb, bob.accountId)).toBe(2);
    const socket = await DeviceSocket.connect(beta.relayUrl, bob.token, true);
    try {
      await eventually(() => socket.envelopes.length === 2, 10_000);
      expect(socket.envelopes.map((e) => [text(e), e.source])).toEqual([
        ['gamma first', 'carol@gamma.test'],
        ['alpha second', 'alice@alpha.test'],
      ]);
    } finally {
      await socket.close();
    }
  });

  it('envelopes of one signed batch for one recipient are stored in batch order', async () => {
    const bob = await registerAccount(beta.directoryUrl, { stem: 'bob' });
    const N = 20;
    const deliveries = Array.from({ length: N }, (_, i) =>
      identifiedDelivery({ to: bob, source: 'alice@alpha.test', text: `batch #${i}`, timestamp: 5000 + i }),
    );
    const answer = await batchTo(alphaKey, deliveries);
    expect(answer.status).toBe(200);
    expect(answer.body.results.map((r: any) => r.status)).toEqual(Array(N).fill(200));
    const socket = await DeviceSocket.connect(beta.relayUrl, bob.token, true);
    try {
      await eventually(() => socket.envelopes.length === N, 10_000);
      await keepsHolding(() => socket.envelopes.length === N, 200, 'no extra envelope');
      expect(socket.envelopes.map(text)).toEqual(Array.from({ length: N }, (_, i) => `batch #${i}`));
    } finally {
      await socket.close();
    }
  });
});
