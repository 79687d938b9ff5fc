import { randomUUID } from 'node:crypto';
import { SealpostApiError } from '../../libs/client/src';
import { TestAccount, registerAccount } from '../support/accounts';
import { eventually } from '../support/bus-listener';
import { freshFederationServers } from '../support/federation-databases';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import {
  CraftOptions,
  ServerSigningKey,
  craftSignedRequest,
  flipSignatureBit,
  identifiedDelivery,
  readSigningKey,
  sendCrafted,
  serverPool,
  storedFor,
} from '../support/federation-testkit';
import { RunningHomeserver, startHomeserver } from '../support/homeserver-harness';
import { JsonAnswer, call } from '../support/http';
import { RecordingSocket, closeAllSockets, linkDevice, primary, refusedUpgrade, send } from '../support/relay-testkit';

/**
 * Access: what one device, account or server must not be able to do to another's data. Each
 * refusal is checked both as an answer (401/403/422, `{error, message}`) and as an effect (the
 * other's queue, keys and devices unchanged).
 */

const ALPHA = 'access-a.test';
const BETA = 'access-b.test';
const GAMMA = 'access-c.test';
/** A pair for the federation origin budget, so no other test's traffic spends it. */
const LIMITED = 'access-r.test';
const SENDER = 'access-s.test';

const expectErrorBody = (answer: JsonAnswer, status: number | number[]) => {
  const statuses = Array.isArray(status) ? status : [status];
  expect({ status: statuses.includes(answer.status) ? 'expected' : answer.status, body: answer.body }).toEqual({
    status: 'expected',
    body: expect.objectContaining({ error: expect.any(String), message: expect.any(String) }),
  });
};

describe('access: devices, accounts and servers reach only what is theirs', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let betaKey: ServerSigningKey;
  let alice: TestAccount;
  let mallory: TestAccount;

  beforeAll(async () => {
    await freshFederationServers([ALPHA, BETA, GAMMA, LIMITED, SENDER]);
    [alpha, beta] = await startFederation([ALPHA, BETA, GAMMA].slice(0, 2));
    betaKey = readSigningKey(beta);
    alice = await registerAccount(alpha.directoryUrl, { stem: 'alice' });
    mallory = await registerAccount(alpha.directoryUrl, { stem: 'mallory' });
  });
  afterEach(closeAllSockets);
  afterAll(async () => {
    await alpha?.close();
    await beta?.close();
  });

  describe('device queues', () => {
    it("device B of the same account neither receives nor acks device A's envelopes; A still gets them all", async () => {
      const laptop = await linkDevice(alpha.directoryUrl, alice);
      const devices = [primary(alice), { deviceId: laptop.deviceId, registrationId: laptop.registrationId }];
      // a send must cover every device: each device gets its own envelope (own id) of this message
      expect((await send(alpha.relayUrl, alice.address, devices, 'for each device', { token: mallory.token })).status).toBe(200);
      const a = await RecordingSocket.connect(alpha.relayUrl, alice.token);
      await eventually(() => a.envelopes.length === 1 && a.queueEmptyCount > 0, 10_000);
      const aEnvelopeId = a.envelopes[0].id;
      await a.close();

      const b = await RecordingSocket.connect(alpha.relayUrl, laptop.token);
      await eventually(() => b.envelopes.length === 1 && b.queueEmptyCount > 0, 10_000);
      expect(b.envelopes.map((e) => e.destinationDevice)).toEqual([laptop.deviceId]);
      expect(b.envelopes[0].id).not.toBe(aEnvelopeId);
      b.ack([aEnvelopeId]);
      b.ack([b.envelopes[0].id]);
      await b.close();

      const pool = serverPool(alpha);
      try {
        await eventually(async () => (await storedFor(pool, alice.accountId)) === 1, 5000);
      } finally {
        await pool.end();
      }
      const again = await RecordingSocket.connect(alpha.relayUrl, alice.token);
      await eventually(() => again.queueEmptyCount > 0, 10_000);
      expect(again.envelopes.map((e) => e.id)).toEqual([aEnvelopeId]);
    });

    it("another account's device cannot ack an envelope id it learned: the owner still receives it", async () => {
      expect(
        (await send(alpha.relayUrl, alice.address, await devicesOf(alice), 'ack me if you can', { token: mallory.token })).status,
      ).toBe(200);
      const owner = await RecordingSocket.connect(alpha.relayUrl, alice.token);
      await eventually(() => owner.queueEmptyCount > 0, 10_000);
      const ids = owner.envelopes.map((e) => e.id);
      expect(ids.length).toBeGreaterThan(0);
      await owner.close();
      const thief = await RecordingSocket.connect(alpha.relayUrl, mallory.token);
      await eventually(() => thief.queueEmptyCount > 0, 10_000);
      expect(thief.envelopes.filter((e) => ids.includes(e.id))).toEqual([]);
      thief.ack(ids);
      await thief.close();
      // acks are applied in batches: give a wrongly applied one time to land before looking
      const pool = serverPool(alpha);
      try {
        const stored = await storedFor(pool, alice.accountId);
        expect(stored).toBeGreaterThanOrEqual(ids.length);
        for (let i = 0; i < 10; i++) {
          await new Promise((r) => setTimeout(r, 50));
          expect(await storedFor(pool, alice.accountId)).toBe(stored);
        }
      } finally {
        await pool.end();
      }
      const back = await RecordingSocket.connect(alpha.relayUrl, alice.token);
      await eventually(() => back.queueEmptyCount > 0, 10_000);
      expect(back.envelopes.map((e) => e.id)).toEqual(expect.arrayContaining(ids));
      back.ack(back.envelopes.map((e) => e.id));
    });
  });

  describe('keys', () => {
    it("a key upload signed with another account's identity key is refused 422 and changes neither account", async () => {
      const victim = await registerAccount(alpha.directoryUrl, { stem: 'victim', preKeys: 3, pqPreKeys: 2 });
      const before = await Promise.all([counts(victim.token), counts(mallory.token)]);
      const forged = await call('PUT', `${alpha.directoryUrl}/v1/keys`, {
        token: mallory.token,
        body: {
          signedPreKey: victim.identity.signedPreKey(50),
          preKeys: [victim.identity.preKey(51)],
          pqPreKeys: [victim.identity.pqPreKey(52)],
        },
      });
      expectErrorBody(forged, [400, 422]);
      expect(await Promise.all([counts(victim.token), counts(mallory.token)])).toEqual(before);
      const bundle = await call('GET', `${alpha.directoryUrl}/v1/keys/${victim.address}/1`, { token: mallory.token });
      expect(bundle.body.devices[0].signedPreKey.keyId).toBe(1);
    });

    it('there is no route to upload keys or list devices for another address: 404 with an error body, nothing changed', async () => {
      const victim = await registerAccount(alpha.directoryUrl, { stem: 'victim2' });
      const before = await counts(victim.token);
      for (const [method, path] of [
        ['PUT', `/v1/keys/${victim.address}`],
        ['PUT', `/v1/keys/${victim.address}/1`],
        ['GET', `/v1/devices/${victim.address}`],
      ] as const) {
        expectErrorBody(
          await call(method, `${alpha.directoryUrl}${path}`, {
            token: mallory.token,
            body: method === 'PUT' ? { preKeys: [victim.identity.preKey(9)] } : undefined,
          }),
          [404, 405],
        );
      }
      expect(await counts(victim.token)).toEqual(before);
    });
  });

  describe('removed devices and deleted accounts', () => {
    it("a removed device's token is refused 401 everywhere (directory, send, socket)", async () => {
      const owner = await registerAccount(alpha.directoryUrl, { stem: 'owner' });
      const laptop = await linkDevice(alpha.directoryUrl, owner);
      expect((await call('DELETE', `${alpha.directoryUrl}/v1/devices/${laptop.deviceId}`, { token: owner.token })).status).toBe(204);
      await expectTokenRefused(laptop.token);
    });

    it("a deleted account's tokens (all its devices) are refused 401 everywhere", async () => {
      const owner = await registerAccount(alpha.directoryUrl, { stem: 'leaver' });
      const laptop = await linkDevice(alpha.directoryUrl, owner);
      expect((await call('DELETE', `${alpha.directoryUrl}/v1/accounts/me`, { token: owner.token })).status).toBe(204);
      await expectTokenRefused(owner.token);
      await expectTokenRefused(laptop.token);
    });
  });

  describe('federation: only the server whose key signed may speak, once, to the server it named', () => {
    let bob: TestAccount;
    beforeAll(async () => {
      bob = await registerAccount(alpha.directoryUrl, { stem: 'bob' });
    });
    /**
     * Every signed federation route of alpha's gateway, as beta would call it. Public by design
     * (docs/FEDERATION.md, KEY-TRANSPARENCY.md): server-keys, discovery and kt/observed/{server}.
     */
    const routes = (): { label: string; opts: Omit<CraftOptions, 'key' | 'destination' | 'baseUrl'> }[] => [
      { label: 'GET ping', opts: { method: 'GET', path: '/federation/v1/ping' } },
      { label: 'GET keys', opts: { method: 'GET', path: `/federation/v1/keys/${bob.address}/*` } },
      {
        label: 'PUT messages (batch)',
        opts: {
          method: 'PUT',
          path: '/federation/v1/messages',
          body: { deliveries: [identifiedDelivery({ to: bob, source: `x@${BETA}`, text: 'batch' })] },
        },
      },
      {
        label: 'PUT messages/{address}',
        opts: {
          method: 'PUT',
          path: `/federation/v1/messages/${bob.address}`,
          body: (({ address: _a, ...rest }) => rest)(identifiedDelivery({ to: bob, source: `x@${BETA}`, text: 'single' })),
        },
      },
      { label: 'GET kt head', opts: { method: 'GET', path: '/federation/v1/kt/head' } },
      { label: 'GET kt keys', opts: { method: 'GET', path: '/federation/v1/kt/keys' } },
      { label: 'GET kt consistency', opts: { method: 'GET', path: '/federation/v1/kt/consistency?from=1&to=1' } },
      {
        label: 'GET kt inclusion',
        opts: { method: 'GET', path: `/federation/v1/kt/inclusion?address=${encodeURIComponent(bob.address)}&version=1` },
      },
    ];
    const faults: {
      name: string;
      craft: (opts: CraftOptions) => Promise<{ method: string; url: string; headers: Record<string, string>; body: string | undefined }>;
    }[] = [
      {
        name: 'unsigned',
        craft: async (o) => {
          const r = await craftSignedRequest(o);
          delete r.headers.signature;
          delete r.headers['signature-input'];
          return r;
        },
      },
      {
        name: 'garbage signature headers',
        craft: async (o) => {
          const r = await craftSignedRequest(o);
          r.headers.signature = 'sig1=:AAAA:';
          r.headers['signature-input'] = 'sig1=("@method");keyid="x#y";alg="ed25519";created=1';
          return r;
        },
      },
      {
        name: 'forged (one signature bit flipped)',
        craft: async (o) => {
          const r = await craftSignedRequest(o);
          r.headers.signature = flipSignatureBit(r.headers.signature);
          return r;
        },
      },
      {
        name: `origin spoofed (sealpost-origin ${GAMMA}, signed by ${BETA}'s key)`,
        craft: (o) => craftSignedRequest({ ...o, origin: GAMMA }),
      },
      {
        name: `keyid of ${GAMMA} with ${BETA}'s key and origin`,
        craft: (o) => craftSignedRequest({ ...o, origin: GAMMA, keyid: `${GAMMA}#${o.key.keyId}` }),
      },
      { name: 'misdirected (destination is another server)', craft: (o) => craftSignedRequest({ ...o, destination: BETA }) },
      { name: 'created an hour ago', craft: (o) => craftSignedRequest({ ...o, created: Math.floor(Date.now() / 1000) - 3600 }) },
    ];
    const cases = () => routes().flatMap((route) => faults.map((fault) => ({ route, fault })));

    it('refuses every fault on every signed route with 401 and stores nothing for bob', async () => {
      const pool = serverPool(alpha);
      try {
        const storedBefore = await storedFor(pool, bob.accountId);
        const wrong: string[] = [];
        for (const { route, fault } of cases()) {
          const request = await fault.craft({ ...route.opts, baseUrl: alpha.gatewayUrl, key: betaKey, destination: ALPHA });
          const answer = await sendCrafted(request);
          const clean = answer.status === 401 && typeof answer.body?.error === 'string' && typeof answer.body?.message === 'string';
          if (!clean) wrong.push(`${route.label} / ${fault.name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`);
        }
        expect(wrong).toEqual([]);
        expect(await storedFor(pool, bob.accountId)).toBe(storedBefore);
      } finally {
        await pool.end();
      }
    });

    it('admits each route once when validly signed, and refuses the exact replay with 401 (stores one envelope, not two)', async () => {
      const pool = serverPool(alpha);
      try {
        const wrong: string[] = [];
        for (const route of routes()) {
          const request = await craftSignedRequest({ ...route.opts, baseUrl: alpha.gatewayUrl, key: betaKey, destination: ALPHA });
          const first = await sendCrafted(request);
          const replay = await sendCrafted(request);
          // past the signature check: an answer of the route itself (kt inclusion may be 404 before the first signed head)
          if (first.status === 401 || first.status === 403 || first.status >= 500)
            wrong.push(`${route.label}: first ${first.status} ${JSON.stringify(first.body).slice(0, 160)}`);
          if (replay.status !== 401) wrong.push(`${route.label}: replay ${replay.status}`);
        }
        expect(wrong).toEqual([]);
        const bobSocket = await RecordingSocket.connect(alpha.relayUrl, bob.token);
        await eventually(() => bobSocket.queueEmptyCount > 0, 10_000);
        expect(bobSocket.envelopes.map((e) => Buffer.from(e.content, 'base64').toString()).sort()).toEqual(['batch', 'single']);
      } finally {
        await pool.end();
      }
    });
  });

  describe('rate limits hold under a burst', () => {
    let limited: RunningHomeserver;
    let sender: TestAccount;
    let target: TestAccount;
    const BURST = 5;
    beforeAll(async () => {
      limited = await startHomeserver({
        env: {
          CLAIM_RATE_BURST: String(BURST),
          CLAIM_RATE_PER_MINUTE: '0.01',
          SEND_RATE_BURST: String(BURST),
          SEND_RATE_PER_MINUTE: '0.01',
          REGISTRATION_RATE_BURST: String(BURST + 2),
          REGISTRATION_RATE_PER_HOUR: '0.01',
        },
      });
    });
    afterAll(async () => {
      await limited?.close();
    });

    it('registrations: of a concurrent burst, no more than the budget is accepted, the rest are 429', async () => {
      sender = await registerAccount(limited.directoryUrl, { stem: 'sender' });
      target = await registerAccount(limited.directoryUrl, { stem: 'target' });
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => registerAccount(limited.directoryUrl, { stem: 'burst' })));
      const accepted = results.filter((r) => r.status === 'fulfilled').length;
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as SealpostApiError);
      expect(accepted).toBeLessThanOrEqual(BURST);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((why) => why instanceof SealpostApiError && why.status === 429)).toBe(true);
    });

    it('bundle claims: of 20 concurrent claims by one device, at most the budget get a bundle, the rest 429, and only that many one-time keys are used', async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => call('GET', `${limited.directoryUrl}/v1/keys/${target.address}/1`, { token: sender.token })),
      );
      const ok = answers.filter((a) => a.status === 200).length;
      expect(ok).toBeLessThanOrEqual(BURST);
      expect(answers.filter((a) => a.status === 429).length).toBe(20 - ok);
      for (const a of answers.filter((x) => x.status === 429)) expectErrorBody(a, 429);
      const left = await call('GET', `${limited.directoryUrl}/v1/keys`, { token: target.token });
      expect(left.body.count).toBe(Math.max(0, 5 - ok));
    });

    it('federation: of 30 concurrent validly signed requests from one origin, at most the origin budget is admitted, the rest 429', async () => {
      const [receiver, origin] = await startFederation([LIMITED, SENDER], {
        [LIMITED]: { FEDERATION_ORIGIN_RATE_BURST: String(BURST), FEDERATION_ORIGIN_RATE_PER_MINUTE: '0.01' },
      });
      try {
        const key = readSigningKey(origin);
        const requests = await Promise.all(
          Array.from({ length: 30 }, () =>
            craftSignedRequest({ method: 'GET', baseUrl: receiver.gatewayUrl, path: '/federation/v1/ping', key, destination: LIMITED }),
          ),
        );
        const answers = await Promise.all(requests.map((r) => sendCrafted(r)));
        const ok = answers.filter((a) => a.status === 200).length;
        expect(ok).toBeLessThanOrEqual(BURST);
        expect(answers.filter((a) => a.status === 429).length).toBe(30 - ok);
        for (const a of answers.filter((x) => x.status === 429)) expectErrorBody(a, 429);
      } finally {
        await receiver.close();
        await origin.close();
      }
    });

    it('sends: of 20 concurrent sends by one device, at most the budget are accepted and stored, the rest 429', async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          send(limited.relayUrl, target.address, [primary(target)], `burst ${i}`, { token: sender.token, idempotencyKey: randomUUID() }),
        ),
      );
      const ok = answers.filter((a) => a.status === 200).length;
      expect(ok).toBeLessThanOrEqual(BURST);
      expect(answers.filter((a) => a.status === 429).length).toBe(20 - ok);
      const socket = await RecordingSocket.connect(limited.relayUrl, target.token);
      await eventually(() => socket.queueEmptyCount > 0, 10_000);
      expect(socket.envelopes.length).toBe(ok);
    });
  });

  // ---------- helpers ----------

  async function counts(token: string): Promise<unknown> {
    const res = await call('GET', `${alpha.directoryUrl}/v1/keys`, { token });
    expect(res.status).toBe(200);
    return res.body;
  }

  async function devicesOf(account: TestAccount): Promise<{ deviceId: number; registrationId: number }[]> {
    const res = await call('GET', `${alpha.directoryUrl}/v1/devices`, { token: account.token });
    expect(res.status).toBe(200);
    return res.body.devices.map((d: { deviceId: number; registrationId: number }) => ({
      deviceId: d.deviceId,
      registrationId: d.registrationId,
    }));
  }

  async function expectTokenRefused(token: string): Promise<void> {
    const answers = {
      'GET /v1/keys': await call('GET', `${alpha.directoryUrl}/v1/keys`, { token }),
      'GET /v1/devices': await call('GET', `${alpha.directoryUrl}/v1/devices`, { token }),
      'PUT /v1/keys': await call('PUT', `${alpha.directoryUrl}/v1/keys`, { token, body: { preKeys: [alice.identity.preKey(77)] } }),
      'POST /v1/devices/link-codes': await call('POST', `${alpha.directoryUrl}/v1/devices/link-codes`, { token }),
      'GET /v1/certificate/delivery': await call('GET', `${alpha.directoryUrl}/v1/certificate/delivery`, { token }),
      'PUT /v1/messages': await send(alpha.relayUrl, mallory.address, [primary(mallory)], 'from a ghost', { token }),
    };
    for (const answer of Object.values(answers)) expectErrorBody(answer, 401);
    const upgrade = await refusedUpgrade(alpha.relayUrl, { authorization: `Bearer ${token}` });
    expect(upgrade.status).toBe(401);
  }
});
