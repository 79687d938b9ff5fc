import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { PeerKeysService } from '../../apps/federation-gateway/src/peers/peer-keys.service';
import { ServerKeyFilesStore } from '../../apps/federation-gateway/src/server-keys/server-key-files.store';
import { newKeyFile } from '../../apps/federation-gateway/src/server-keys/server-keys.service';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { TestAccount, registerAccount } from '../support/accounts';
import { DeviceSocket } from '../support/device-socket';
import { eventually } from '../support/bus-listener';
import { call } from '../support/http';
import { freshFederationServers } from '../support/federation-databases';
import { ServerSigningKey, keepsHolding, outboxRows, readSigningKey, serverPool, signedCall } from '../support/federation-testkit';

/**
 * DESIGN §5 / issue 4: peers' server keys are fetched, cached and pinned; a changed key for a known
 * peer without a valid rotation is refused (401 at the receiver) until an operator resets the pins
 * (`POST /admin/federation/reset/{server}`). A proper rotation (new key listed and signed by the
 * still-valid pinned key) is accepted, and the old key stays verifiable.
 *
 * This spec changes a server's signing key, so it uses server names no other spec shares
 * (delta.test, epsilon.test), with databases and key folders it prepares itself.
 */

const ADMIN_TOKEN = 'key-pinning-spec-admin-token-0123456789';
// Restarting a gateway can take ~60 s when a peer's request is in flight as it closes (see outbox.e2e-spec.ts).
jest.setTimeout(150_000);
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('peer key pinning (delta → epsilon)', () => {
  let delta: FederatedHomeserver;
  let epsilon: FederatedHomeserver;
  let epsilonDb: Pool;
  let deltaDb: Pool;
  let alice: TestAccount;
  let bob: TestAccount;
  let bobSocket: DeviceSocket;
  let verdicts: (string | null)[];

  beforeAll(async () => {
    await freshFederationServers(['delta.test', 'epsilon.test']);
    [delta, epsilon] = await startFederation(['delta.test', 'epsilon.test'], { 'epsilon.test': { ADMIN_TOKEN } });
    epsilonDb = serverPool(epsilon);
    deltaDb = serverPool(delta);
    alice = await registerAccount(delta.directoryUrl, { stem: 'alice' });
    bob = await registerAccount(epsilon.directoryUrl, { stem: 'bob' });
    bobSocket = await DeviceSocket.connect(epsilon.relayUrl, bob.token, true);
    // Every verdict epsilon reaches on a server-keys document of delta.
    const peerKeys = epsilon.gateway!.get(PeerKeysService);
    const judge = peerKeys.judge.bind(peerKeys);
    verdicts = [];
    jest.spyOn(peerKeys, 'judge').mockImplementation((server, doc, pinned) => {
      const verdict = judge(server, doc, pinned);
      if (server === 'delta.test') verdicts.push(verdict);
      return verdict;
    });
  });
  afterAll(async () => {
    await bobSocket?.close();
    await epsilonDb?.end();
    await deltaDb?.end();
    await delta?.close();
    await epsilon?.close();
  });

  const ping = (key: ServerSigningKey) =>
    signedCall({ method: 'GET', baseUrl: epsilon.gatewayUrl, path: '/federation/v1/ping', key, destination: 'epsilon.test' });
  const pinnedAtEpsilon = async () => {
    const { rows } = await epsilonDb.query<{ key_id: string }>(
      `SELECT key_id FROM federation.peer_keys WHERE server = 'delta.test' ORDER BY key_id`,
    );
    return rows.map((r) => r.key_id);
  };
  const aliceSends = (note: string) =>
    call('PUT', `${delta.relayUrl}/v1/messages/${bob.address}`, {
      token: alice.token,
      body: { timestamp: 1, messages: [{ deviceId: 1, registrationId: bob.registrationId, type: 1, content: b64(note) }] },
    });
  const bobGot = (note: string) => bobSocket.envelopes.filter((e) => e.content === b64(note)).length;
  const restartDelta = async (changeKeys: () => void | Promise<void>) => {
    await delta.stopGateway();
    await changeKeys();
    await delta.startGateway();
  };
  /** The federation signing-key files (the folder holds other server secrets too). */
  const keyFiles = () => readdirSync(delta.gatewayConfig.keysDir).filter((n) => /^ed25519-[A-Za-z0-9_-]+\.json$/.test(n));
  const publishedKeyIds = async () =>
    ((await call('GET', `${delta.gatewayUrl}/federation/v1/server-keys`)).body.keys as { keyId: string }[]).map((k) => k.keyId).sort();

  let first: ServerSigningKey;
  let rotated: ServerSigningKey;

  it("pins delta's key at first contact", async () => {
    first = readSigningKey(delta);
    expect(await pinnedAtEpsilon()).toEqual([]);
    expect((await ping(first)).status).toBe(200);
    expect(await pinnedAtEpsilon()).toEqual([first.keyId]);
    expect(verdicts).toEqual([null]);
    expect((await aliceSends('before any change')).status).toBe(200);
    await eventually(() => bobGot('before any change') === 1, 10_000);
  });

  it('accepts a proper rotation (new key listed beside the old one, which signs the document); the old key stays verifiable', async () => {
    // Like `npm run admin -- federation rotate-key`: a second file; the old one stays.
    await restartDelta(async () => {
      expect(
        await new ServerKeyFilesStore(delta.gatewayConfig.keysDir).create(newKeyFile(delta.gatewayConfig.serverKeyValiditySeconds)),
      ).toBe(true);
    });
    expect(keyFiles()).toHaveLength(2);
    rotated = readSigningKey(delta);
    expect(rotated.keyId).not.toBe(first.keyId);
    expect(await publishedKeyIds()).toEqual([first.keyId, rotated.keyId].sort());
    // epsilon refetches delta's keys at most every 10 s; within that it answers 401 (unknown key), then accepts.
    await eventually(async () => (await ping(rotated)).status === 200, 20_000);
    expect(verdicts[verdicts.length - 1]).toBeNull();
    expect(await pinnedAtEpsilon()).toEqual([first.keyId, rotated.keyId].sort());
    expect((await ping(first)).status).toBe(200);
    expect((await aliceSends('after rotation')).status).toBe(200);
    await eventually(() => bobGot('after rotation') === 1, 10_000);
  });

  it('refuses (401) a changed key without rotation, however often delta presents it, and pins nothing', async () => {
    const refusedBefore = verdicts.length;
    // delta loses its keys and generates a fresh one at start: not signed by any key epsilon pinned.
    await restartDelta(() => {
      for (const name of keyFiles()) rmSync(join(delta.gatewayConfig.keysDir, name));
    });
    const fresh = readSigningKey(delta);
    expect([first.keyId, rotated.keyId]).not.toContain(fresh.keyId);
    expect(await publishedKeyIds()).toEqual([fresh.keyId]);

    // Keep presenting the new key until epsilon has fetched and judged delta's new document.
    const answers: number[] = [];
    await eventually(async () => {
      const answer = await ping(fresh);
      answers.push(answer.status);
      expect(answer.body).toEqual({
        error: 'invalid_signature',
        message: expect.stringContaining(`unknown key delta.test#${fresh.keyId}`),
      });
      return verdicts.length > refusedBefore;
    }, 20_000);
    expect(new Set(answers)).toEqual(new Set([401]));
    expect(verdicts.slice(refusedBefore)).toEqual([expect.stringMatching(/no valid rotation/)]);
    expect(await pinnedAtEpsilon()).toEqual([first.keyId, rotated.keyId].sort());
    expect((await ping(fresh)).status).toBe(401);

    // alice's send through delta's gateway reaches nobody while epsilon refuses delta's key; delta keeps
    // it in its outbox (a whole-request 401 is retried, since an operator can fix the keys) — not dropped.
    const sent = await aliceSends('with an unpinned key');
    expect(sent.status).toBe(200);
    expect(await outboxRows(deltaDb, 'epsilon.test', alice.accountId)).toBe(1);
    await keepsHolding(() => bobGot('with an unpinned key') === 0, 1500, 'nothing delivered under a refused key');
    expect(await outboxRows(deltaDb, 'epsilon.test', alice.accountId)).toBe(1);
  });

  it('the reset endpoint needs the admin token and a server name', async () => {
    expect((await call('POST', `${epsilon.gatewayUrl}/admin/federation/reset/delta.test`)).status).toBe(401);
    expect((await call('POST', `${epsilon.gatewayUrl}/admin/federation/reset/delta.test`, { token: 'nope' })).status).toBe(401);
    expect((await call('POST', `${epsilon.gatewayUrl}/admin/federation/reset/not a server!`, { token: ADMIN_TOKEN })).status).toBe(400);
    expect(await pinnedAtEpsilon()).toHaveLength(2);
  });

  it("after POST /admin/federation/reset/delta.test on epsilon, the new key is pinned and delta's requests and sends work again", async () => {
    const fresh = readSigningKey(delta);
    const reset = await call('POST', `${epsilon.gatewayUrl}/admin/federation/reset/delta.test`, { token: ADMIN_TOKEN });
    expect([200, 201]).toContain(reset.status);
    expect(reset.body).toEqual({ forgottenKeys: 2 });
    expect((await ping(fresh)).status).toBe(200);
    expect(await pinnedAtEpsilon()).toEqual([fresh.keyId]);
    expect((await aliceSends('after reset')).status).toBe(200);
    // The send kept in delta's outbox while the key was refused is delivered too, once.
    await eventually(() => bobGot('after reset') === 1 && bobGot('with an unpinned key') === 1, 15_000);
    await eventually(async () => (await outboxRows(deltaDb, 'epsilon.test')) === 0, 10_000);
    await keepsHolding(() => bobGot('with an unpinned key') === 1, 500, 'a single copy');
  });

  it('refuses (401) new bytes under an already pinned key id, until a reset', async () => {
    const pinned = readSigningKey(delta);
    await restartDelta(() => {
      const file = join(delta.gatewayConfig.keysDir, `ed25519-${pinned.keyId}.json`);
      const replacement = { ...newKeyFile(delta.gatewayConfig.serverKeyValiditySeconds), keyId: pinned.keyId };
      writeFileSync(file, JSON.stringify(replacement, null, 2), { mode: 0o600 });
    });
    const impostor = readSigningKey(delta);
    expect(impostor.keyId).toBe(pinned.keyId);
    expect(impostor.secretKey.equals(pinned.secretKey)).toBe(false);
    const refused = await ping(impostor);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'invalid_signature', message: expect.stringMatching(/does not verify/) });
    expect((await aliceSends('sent under the impostor key')).status).toBe(200);
    await keepsHolding(() => bobGot('sent under the impostor key') === 0, 1500, 'nothing delivered under a refused key');
    expect(await outboxRows(deltaDb, 'epsilon.test', alice.accountId)).toBe(1);

    const reset = await call('POST', `${epsilon.gatewayUrl}/admin/federation/reset/delta.test`, { token: ADMIN_TOKEN });
    expect(reset.body).toEqual({ forgottenKeys: 1 });
    expect((await ping(impostor)).status).toBe(200);
    expect((await aliceSends('after second reset')).status).toBe(200);
    await eventually(() => bobGot('after second reset') === 1 && bobGot('sent under the impostor key') === 1, 15_000);
    await eventually(async () => (await outboxRows(deltaDb, 'epsilon.test')) === 0, 10_000);
  });
});
