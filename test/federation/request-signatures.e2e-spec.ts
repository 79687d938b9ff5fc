import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { TestAccount, registerAccount } from '../support/accounts';
import { DeviceSocket } from '../support/device-socket';
import { eventually } from '../support/bus-listener';
import { call } from '../support/http';
import {
  CraftOptions,
  ServerSigningKey,
  craftSignedRequest,
  flipSignatureBit,
  identifiedDelivery,
  readSigningKey,
  sendCrafted,
  serverPool,
  signedCall,
  storedFor,
  keepsHolding,
} from '../support/federation-testkit';
import { contentDigest } from '../../libs/http-signatures/src';

/**
 * DESIGN §5: every server-to-server request is signed (RFC 9421, ed25519) over @method,
 * @target-uri, content-digest, sealpost-origin and sealpost-destination, with `created`. Here raw
 * requests are signed with alpha's real key and sent to beta's gateway; one thing at a time is
 * made wrong, and each must be refused 401 with `{error, message}` (403 for a refused origin).
 */
describe('federation request signatures (raw signed requests alpha → beta)', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let alphaKey: ServerSigningKey;
  let betaKey: ServerSigningKey;
  let alice: TestAccount;
  let bob: TestAccount;
  let bobSocket: DeviceSocket;
  const betaDb = () => serverPool(beta);

  beforeAll(async () => {
    [alpha, beta] = await startFederation(['alpha.test', 'beta.test']);
    alphaKey = readSigningKey(alpha);
    betaKey = readSigningKey(beta);
    alice = await registerAccount(alpha.directoryUrl, { stem: 'alice' });
    bob = await registerAccount(beta.directoryUrl, { stem: 'bob' });
    bobSocket = await DeviceSocket.connect(beta.relayUrl, bob.token, true);
  });
  afterAll(async () => {
    await bobSocket?.close();
    await alpha?.close();
    await beta?.close();
  });

  const ping = (overrides: Partial<CraftOptions> = {}): CraftOptions => ({
    method: 'GET',
    baseUrl: beta.gatewayUrl,
    path: '/federation/v1/ping',
    key: alphaKey,
    destination: 'beta.test',
    ...overrides,
  });
  const deliver = (text: string, overrides: Partial<CraftOptions> = {}): CraftOptions => ({
    method: 'PUT',
    baseUrl: beta.gatewayUrl,
    path: '/federation/v1/messages',
    key: alphaKey,
    destination: 'beta.test',
    body: { deliveries: [identifiedDelivery({ to: bob, source: alice.address, text })] },
    ...overrides,
  });
  /** 401 `{error: 'invalid_signature', message}`; `reason` checks the message names the right fault. */
  const expectRefused = (answer: { status: number; body: any }, reason: RegExp) => {
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 401,
      body: { error: 'invalid_signature', message: expect.stringMatching(reason) },
    });
  };
  const bobGot = (text: string) => bobSocket.envelopes.filter((e) => e.content === Buffer.from(text).toString('base64')).length;

  it('admits a correctly signed ping and a correctly signed batch delivery (the harness works)', async () => {
    const pinged = await signedCall(ping());
    expect(pinged.status).toBe(200);
    expect(pinged.body).toEqual({ ok: true, origin: 'alpha.test' });

    const request = deliver('signed and sound');
    const answer = await signedCall(request);
    expect(answer.status).toBe(200);
    const id = (request.body as any).deliveries[0].id;
    expect(answer.body).toEqual({ results: [{ id, status: 200, body: { serverTimestamp: expect.any(Number) } }] });
    await eventually(() => bobGot('signed and sound') === 1, 10_000);
    expect(bobSocket.envelopes.find((e) => e.content === Buffer.from('signed and sound').toString('base64'))).toMatchObject({
      source: alice.address,
      sourceDevice: 1,
      type: 1,
    });
  });

  it('refuses a forged signature (one bit flipped) on ping and on delivery, and stores nothing', async () => {
    const forgedPing = await craftSignedRequest(ping());
    forgedPing.headers.signature = flipSignatureBit(forgedPing.headers.signature);
    expectRefused(await sendCrafted(forgedPing), /signature/i);

    const forgedDelivery = await craftSignedRequest(deliver('forged'));
    forgedDelivery.headers.signature = flipSignatureBit(forgedDelivery.headers.signature);
    expectRefused(await sendCrafted(forgedDelivery), /signature/i);
    await keepsHolding(() => bobGot('forged') === 0, 300, 'no forged envelope');
  });

  it('refuses a body changed after signing (content-digest mismatch), with or without a recomputed digest', async () => {
    const signed = await craftSignedRequest(deliver('original text'));
    const tampered = {
      ...signed,
      body: signed.body!.replace(Buffer.from('original text').toString('base64'), Buffer.from('evil text!!!!').toString('base64')),
    };
    expect(tampered.body).not.toBe(signed.body);
    expectRefused(await sendCrafted(tampered), /digest/i);

    // Recomputing the Content-Digest for the new body breaks the signature instead.
    const redigested = { ...tampered, headers: { ...tampered.headers, 'content-digest': contentDigest(tampered.body!) } };
    expectRefused(await sendCrafted(redigested), /signature/i);

    // Signed with an empty body, sent with one.
    const pingWithBody = await craftSignedRequest(ping({ method: 'PUT', path: '/federation/v1/messages' }));
    expectRefused(
      await sendCrafted({
        ...pingWithBody,
        body: JSON.stringify({ deliveries: [] }),
        headers: { ...pingWithBody.headers, 'content-type': 'application/json' },
      }),
      /digest/i,
    );
    await keepsHolding(() => bobGot('evil text!!!!') === 0 && bobGot('original text') === 0, 300, 'no tampered envelope');
  });

  it('refuses a request for another destination, and one whose destination header was changed after signing', async () => {
    expectRefused(await signedCall(ping({ destination: 'gamma.test' })), /destination/i);
    expectRefused(await signedCall(ping({ destination: 'alpha.test' })), /destination/i);
    expectRefused(await signedCall(deliver('to gamma', { destination: 'gamma.test' })), /destination/i);

    const moved = await craftSignedRequest(ping({ destination: 'gamma.test' }));
    moved.headers['sealpost-destination'] = 'beta.test';
    expectRefused(await sendCrafted(moved), /signature/i);
  });

  it('refuses a request signed for another target URI or method', async () => {
    const otherPath = await craftSignedRequest(ping());
    expectRefused(await sendCrafted({ ...otherPath, url: `${beta.gatewayUrl}/federation/v1/keys/${bob.address}/*` }), /signature/i);
    const otherHost = await craftSignedRequest(ping({ baseUrl: 'https://beta.example' }));
    expectRefused(await sendCrafted({ ...otherHost, url: `${beta.gatewayUrl}/federation/v1/ping` }), /signature/i);
    // Signed as a PUT, sent as the GET that the route answers.
    const otherMethod = await craftSignedRequest(ping({ method: 'PUT' }));
    expectRefused(await sendCrafted({ ...otherMethod, method: 'GET' }), /signature/i);
  });

  it('refuses `created` older than the window and in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    const skew = beta.gatewayConfig.signatureMaxSkewSeconds;
    expectRefused(await signedCall(ping({ created: now - skew - 30 })), /created too old/);
    expectRefused(await signedCall(ping({ created: now + skew + 30 })), /created in the future/);
    expectRefused(await signedCall(deliver('stale', { created: now - 3600 })), /created too old/);
    expectRefused(await signedCall(deliver('future', { created: now + 3600 })), /created in the future/);
    // Inside the window on either side is fine.
    expect((await signedCall(ping({ created: now - Math.floor(skew / 2) }))).status).toBe(200);
    expect((await signedCall(ping({ created: now + Math.floor(skew / 2) }))).status).toBe(200);
    await keepsHolding(() => bobGot('stale') === 0 && bobGot('future') === 0, 300, 'no stale envelope');
  });

  it('refuses a replay of the exact same signed request (ping and delivery)', async () => {
    const once = await craftSignedRequest(ping());
    expect((await sendCrafted(once)).status).toBe(200);
    expectRefused(await sendCrafted(once), /replay/i);

    const delivery = await craftSignedRequest(deliver('only once'));
    expect((await sendCrafted(delivery)).status).toBe(200);
    expectRefused(await sendCrafted(delivery), /replay/i);
    // The same signature under another dictionary label is still the same request.
    const relabelled = {
      ...delivery,
      headers: {
        ...delivery.headers,
        'signature-input': delivery.headers['signature-input'].replace(/^sig1=/, 'again='),
        signature: delivery.headers.signature.replace(/^sig1=/, 'again='),
      },
    };
    expectRefused(await sendCrafted(relabelled), /replay/i);
    await eventually(() => bobGot('only once') === 1, 10_000);
    await keepsHolding(() => bobGot('only once') === 1, 300, 'a single copy');
  });

  it('refuses an unknown keyid, a keyid of another server than sealpost-origin, and a key of another server', async () => {
    expectRefused(await signedCall(ping({ keyid: 'alpha.test#nope' })), /unknown key alpha\.test#nope/);
    expectRefused(await signedCall(deliver('unknown key', { keyid: 'alpha.test#nope' })), /unknown key/);
    // beta's own real key, but the request claims to come from alpha.
    expectRefused(await signedCall(ping({ key: betaKey, origin: 'alpha.test' })), /keyid does not belong/);
    // alpha's key id under beta's name.
    expectRefused(await signedCall(ping({ keyid: `beta.test#${alphaKey.keyId}` })), /keyid does not belong/);
    // The right keyid, signed with another server's secret key.
    expectRefused(await signedCall(ping({ key: { ...betaKey, server: 'alpha.test', keyId: alphaKey.keyId } })), /does not verify/);
    // alpha claims to be gamma (a server beta cannot even resolve) with alpha's key.
    expectRefused(await signedCall(ping({ origin: 'gamma.test', keyid: `gamma.test#${alphaKey.keyId}` })), /unknown key/);
    await keepsHolding(() => bobGot('unknown key') === 0, 300, 'nothing stored');
  });

  it('refuses a request without Signature / Signature-Input / Content-Digest / sealpost-origin headers', async () => {
    const drop = async (names: string[], options = ping()) => {
      const request = await craftSignedRequest(options);
      for (const name of names) delete request.headers[name];
      return sendCrafted(request);
    };
    expectRefused(await drop(['signature', 'signature-input']), /missing .*Signature/);
    expectRefused(await drop(['signature']), /Signature/);
    expectRefused(await drop(['signature-input']), /Signature/);
    expectRefused(await drop(['content-digest']), /does not verify/);
    expectRefused(await drop(['sealpost-origin']), /origin/);
    expectRefused(await drop(['signature', 'signature-input'], deliver('unsigned')), /Signature/);
    // Entirely unsigned, as any HTTP client would send it.
    expectRefused(await call('GET', `${beta.gatewayUrl}/federation/v1/ping`), /origin/);
    expectRefused(
      await call('PUT', `${beta.gatewayUrl}/federation/v1/messages`, {
        body: { deliveries: [identifiedDelivery({ to: bob, source: alice.address, text: 'unsigned' })] },
      }),
      /origin/,
    );
    expectRefused(
      await call('GET', `${beta.gatewayUrl}/federation/v1/keys/${bob.address}/*`, {
        headers: { 'sealpost-origin': 'alpha.test', 'sealpost-destination': 'beta.test' },
      }),
      /Signature/,
    );
    await keepsHolding(() => bobGot('unsigned') === 0, 300, 'nothing stored');
    const pool = betaDb();
    try {
      // Everything bob was sent and admitted has been acked; nothing refused is waiting in his queue.
      await eventually(async () => (await storedFor(pool, bob.accountId)) === 0, 5000);
    } finally {
      await pool.end();
    }
  });
});

describe('federation origin allow and deny lists (403)', () => {
  it("beta with FEDERATION_DENY_ORIGINS=alpha.test refuses alpha 403, still admits gamma, and alice's send is refused, not queued", async () => {
    await freshFederationServers(['alpha.test', 'beta.test', 'gamma.test']);
    const [alpha, beta, gamma] = await startFederation(['alpha.test', 'beta.test', 'gamma.test'], {
      'beta.test': { FEDERATION_DENY_ORIGINS: 'alpha.test' },
    });
    try {
      const alphaKey = readSigningKey(alpha);
      const denied = await signedCall({
        method: 'GET',
        baseUrl: beta.gatewayUrl,
        path: '/federation/v1/ping',
        key: alphaKey,
        destination: 'beta.test',
      });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ error: 'origin_not_allowed', message: expect.any(String) });
      const gammaAdmitted = await signedCall({
        method: 'GET',
        baseUrl: beta.gatewayUrl,
        path: '/federation/v1/ping',
        key: readSigningKey(gamma),
        destination: 'beta.test',
      });
      expect(gammaAdmitted.status).toBe(200);

      const alice = await registerAccount(alpha.directoryUrl, { stem: 'alice' });
      const bob = await registerAccount(beta.directoryUrl, { stem: 'bob' });
      const sent = await call('PUT', `${alpha.relayUrl}/v1/messages/${bob.address}`, {
        token: alice.token,
        body: {
          timestamp: 1,
          messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content: Buffer.from('denied').toString('base64') }],
        },
      });
      expect(sent.status).toBe(403);
      expect(sent.body).toMatchObject({ error: 'origin_not_allowed' });
      const betaDb = serverPool(beta);
      try {
        expect(await storedFor(betaDb, bob.accountId)).toBe(0);
      } finally {
        await betaDb.end();
      }
    } finally {
      for (const hs of [alpha, beta, gamma]) await hs.close();
    }
  });

  it('beta with FEDERATION_ALLOW_ORIGINS=gamma.test refuses alpha 403 and admits gamma', async () => {
    await freshFederationServers(['alpha.test', 'beta.test', 'gamma.test']);
    const [alpha, beta, gamma] = await startFederation(['alpha.test', 'beta.test', 'gamma.test'], {
      'beta.test': { FEDERATION_ALLOW_ORIGINS: 'gamma.test' },
    });
    try {
      const denied = await signedCall({
        method: 'GET',
        baseUrl: beta.gatewayUrl,
        path: '/federation/v1/ping',
        key: readSigningKey(alpha),
        destination: 'beta.test',
      });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ error: 'origin_not_allowed', message: expect.any(String) });
      const admitted = await signedCall({
        method: 'GET',
        baseUrl: beta.gatewayUrl,
        path: '/federation/v1/ping',
        key: readSigningKey(gamma),
        destination: 'beta.test',
      });
      expect(admitted.status).toBe(200);
      expect(admitted.body).toEqual({ ok: true, origin: 'gamma.test' });
    } finally {
      for (const hs of [alpha, beta, gamma]) await hs.close();
    }
  });
});
