import { Pool } from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKtStateStore, KeyTransparencyClient, KtVerificationError, MemoryKtStateStore, OwnerMonitor } from '../../libs/client/src';
import { sha256 } from '../../libs/crypto/src';
import { withTransaction } from '../../libs/db/src';
import { TransparencyLog } from '../../apps/prekey-directory/src/transparency/transparency-log.service';
import { KtHeadSigner } from '../../apps/prekey-directory/src/transparency/kt-head-signer.service';
import { KtSigningKey } from '../../apps/prekey-directory/src/transparency/kt-signing-key.service';
import { RunningHomeserver, startHomeserver } from '../support/homeserver-harness';
import { TestAccount, registerAccount } from '../support/accounts';
import { call, fetchJson } from '../support/http';

/**
 * A directory that is hacked or compelled: it writes a "ghost" device into an account's stored
 * device list — once without appending a log record, once with one. The owner's monitor and a
 * sender's client must catch both.
 */
describe('key transparency against a malicious directory', () => {
  let hs: RunningHomeserver;
  let pool: Pool;
  let ktPublicKey: string;
  beforeAll(async () => {
    hs = await startHomeserver({ env: { KT_EPOCH_SECONDS: '0.5' } });
    pool = new Pool({ connectionString: process.env.TEST_DATABASE_URL });
    ktPublicKey = hs.directory.get(KtSigningKey).publicKey.toString('base64');
  });
  afterAll(async () => {
    await pool.end();
    await hs.close();
  });

  const clientFor = () =>
    new KeyTransparencyClient({ server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey }, new MemoryKtStateStore(), fetchJson);
  const nextEpoch = () => hs.directory.get(KtHeadSigner).signNow();

  /** The test double: what a compromised server does to the stored device list. */
  async function addGhostDevice(account: TestAccount, opts: { logged: boolean }): Promise<void> {
    await withTransaction(pool, async (tx) => {
      await tx.query(`INSERT INTO directory.devices (account_id, device_id, registration_id, token_hash) VALUES ($1, 66, 6666, $2)`, [
        account.accountId,
        sha256(`ghost-${account.accountId}`),
      ]);
      const spk = account.identity.signedPreKey(660);
      const pq = account.identity.pqPreKey(661);
      for (const [kind, key] of [
        [1, spk],
        [2, pq],
      ] as const) {
        await tx.query(
          `INSERT INTO directory.signed_prekeys (account_id, device_id, kind, key_id, public_key, signature) VALUES ($1, 66, $2, $3, $4, $5)`,
          [account.accountId, kind, key.keyId, Buffer.from(key.publicKey, 'base64'), Buffer.from(key.signature, 'base64')],
        );
      }
      if (opts.logged) await hs.directory.get(TransparencyLog).appendDeviceList(account.accountId, tx);
    });
  }

  it('logs every registration, link and removal, each provable against a signed head', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const code = await call('POST', `${hs.directoryUrl}/v1/devices/link-codes`, { token: bob.token });
    const linked = await call('POST', `${hs.directoryUrl}/v1/devices`, {
      body: {
        code: code.body.code,
        registrationId: 99,
        signedPreKey: bob.identity.signedPreKey(2),
        pqLastResortPreKey: bob.identity.pqPreKey(2999),
      },
    });
    expect(linked.status).toBe(201);
    expect((await call('DELETE', `${hs.directoryUrl}/v1/devices/2`, { token: bob.token })).status).toBe(204);
    await nextEpoch();
    const history = await clientFor().verifiedHistory(bob.address);
    expect(history.map((h) => h.record.devices.map((d) => d.deviceId))).toEqual([[1], [1, 2], [1]]);
    expect(history.map((h) => h.record.version)).toEqual([1, 2, 3]);
    expect(history[1].record.prevHash).not.toBeNull();
  });

  it('a ghost device written without a log record: the sender refuses to encrypt to it, the owner is alerted', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const alice = await registerAccount(hs.directoryUrl);
    const owner = new OwnerMonitor(clientFor(), new MemoryKtStateStore(), bob.address, {
      identityKey: bob.identity.identityKeyBase64,
      devices: [{ deviceId: 1, registrationId: bob.registrationId }],
    });
    await nextEpoch();
    expect(await owner.check()).toEqual([]);

    await addGhostDevice(bob, { logged: false });
    const bundle = await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token });
    expect(bundle.body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, 66]);
    await expect(clientFor().verifyBundle(bundle.body)).rejects.toMatchObject({ kind: 'ghost-device' });

    const served = await call('GET', `${hs.directoryUrl}/v1/devices`, { token: bob.token });
    const alerts = await owner.check(served.body.devices);
    expect(alerts).toEqual([{ kind: 'unlogged-device', deviceId: 66, registrationId: 6666 }]);
  });

  it("a ghost device written with a log record: the owner's monitor raises an alert within one epoch", async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const owner = new OwnerMonitor(clientFor(), new MemoryKtStateStore(), bob.address, {
      identityKey: bob.identity.identityKeyBase64,
      devices: [{ deviceId: 1, registrationId: bob.registrationId }],
    });
    await nextEpoch();
    expect(await owner.check()).toEqual([]);
    await addGhostDevice(bob, { logged: true });
    await nextEpoch();
    const alerts = await owner.check();
    expect(alerts).toEqual([{ kind: 'unknown-device', version: 2, deviceId: 66, registrationId: 6666 }]);
    // A device the owner linked itself is no alert.
    expect(await owner.check()).toEqual([]);
  });

  it('a ghost shown as "logged, not yet covered" (pending) is never encrypted to by default, and is a ghost once the client\'s bound passes', async () => {
    const bob = await registerAccount(hs.directoryUrl);
    const alice = await registerAccount(hs.directoryUrl);
    await nextEpoch();
    await addGhostDevice(bob, { logged: false });
    const bundle = await call('GET', `${hs.directoryUrl}/v1/keys/${bob.address}/*`, { token: alice.token });
    // The double claims a record with the ghost is logged just after the head, and never signs a head covering it.
    const { encodeKtRecord, leafHash } = await import('../../libs/transparency/src');
    const honest = await clientFor().verifiedHistory(bob.address);
    const fake = {
      ...honest[0].record,
      version: 2,
      prevHash: leafHash(Buffer.from(honest[0].leaf, 'base64')).toString('base64'),
      timestamp: Date.now(),
      devices: [...honest[0].record.devices, { deviceId: 66, registrationId: 6666 }],
    };
    const lyingFetch = async (url: string) => {
      const answer = (await fetchJson(url)) as { head?: { treeSize: number } };
      if (!url.includes('/v1/kt/history/')) return answer;
      return {
        ...answer,
        pending: [{ leafIndex: answer.head!.treeSize + 5, version: 2, leaf: encodeKtRecord(fake).toString('base64') }],
        retryAfterMs: 100,
      };
    };
    const store = new MemoryKtStateStore();
    const client = new KeyTransparencyClient({ server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey }, store, lyingFetch, {
      pendingWaitMs: 300,
      maxPendingMs: 1500,
    });
    // Default: waits for the covering head, then refuses to vouch for it (record-pending, with a retry time) — never "verified".
    await expect(client.verifyBundle(bundle.body)).rejects.toMatchObject({ kind: 'record-pending', retryAfterMs: 100 });
    // A caller that opts in sees it as pending, never as verified.
    expect(await client.checkBundle(bundle.body, { waitMs: 0 })).toMatchObject({ status: 'pending', record: { version: 2 } });
    // The bound runs on the client's clock from its first sighting; fresh pending claims do not reset it.
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await expect(client.verifyBundle(bundle.body)).rejects.toMatchObject({ kind: 'ghost-device' });
    await expect(client.checkBundle(bundle.body, { waitMs: 0 })).rejects.toMatchObject({ kind: 'ghost-device' });
    // A pending claim that does not chain onto the proven history is no pending at all: a ghost at once.
    const brokenChain = async (url: string) => {
      const answer = (await fetchJson(url)) as { head?: { treeSize: number } };
      if (!url.includes('/v1/kt/history/')) return answer;
      return {
        ...answer,
        pending: [{ leafIndex: answer.head!.treeSize, version: 2, leaf: encodeKtRecord({ ...fake, prevHash: null }).toString('base64') }],
      };
    };
    const fresh = new KeyTransparencyClient(
      { server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey },
      new MemoryKtStateStore(),
      brokenChain,
      { pendingWaitMs: 0 },
    );
    await expect(fresh.verifyBundle(bundle.body)).rejects.toMatchObject({ kind: 'ghost-device' });
    // The owner: a served ghost in a pending record is no alert within the bound, unlogged-device after it.
    const ownerClient = new KeyTransparencyClient(
      { server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey },
      new MemoryKtStateStore(),
      lyingFetch,
      { pendingWaitMs: 0, maxPendingMs: 500 },
    );
    const owner = new OwnerMonitor(ownerClient, new MemoryKtStateStore(), bob.address, {
      identityKey: bob.identity.identityKeyBase64,
      devices: [{ deviceId: 1, registrationId: bob.registrationId }],
    });
    const served = (await call('GET', `${hs.directoryUrl}/v1/devices`, { token: bob.token })).body.devices;
    expect(await owner.checkDetailed(served)).toMatchObject({ alerts: [], pending: [{ deviceId: 66, registrationId: 6666 }] });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await owner.check(served)).toEqual([{ kind: 'unlogged-device', deviceId: 66, registrationId: 6666 }]);
  });

  it('a client that kept a head refuses a later head that does not extend it (a forked log)', async () => {
    const client = clientFor();
    await registerAccount(hs.directoryUrl);
    const kept = await client.verifiedHead();
    // The double: a head of a larger tree whose root is not an extension of the kept one.
    const signer = hs.directory.get(KtSigningKey);
    const { ktHeadSigningBytes } = await import('../../libs/transparency/src');
    const forged = {
      server: 'alpha.test',
      treeSize: kept.treeSize + 1,
      rootHash: sha256('forged').toString('base64'),
      timestamp: Date.now(),
    };
    const head = { ...forged, keyId: signer.keyId, signature: signer.sign(ktHeadSigningBytes(forged)).toString('base64') };
    const forkedClient = new KeyTransparencyClient(
      { server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey },
      {
        lastHead: async () => kept,
        saveHead: async () => undefined,
        lastCheckedVersion: async () => 0,
        saveCheckedVersion: async () => undefined,
      },
      async (url) => (url.endsWith('/v1/kt/head') ? head : fetchJson(url)),
    );
    await registerAccount(hs.directoryUrl);
    await expect(forkedClient.verifiedHead()).rejects.toBeInstanceOf(KtVerificationError);
    await expect(forkedClient.verifiedHead()).rejects.toMatchObject({ kind: 'inconsistent-head' });
  });

  it('a client restarted with its FileKtStateStore still refuses a head that does not extend the one it kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-kt-client-'));
    try {
      const statePath = join(dir, 'kt-state.json');
      const directory = { server: 'alpha.test', directoryUrl: hs.directoryUrl, ktPublicKey };
      await registerAccount(hs.directoryUrl);
      await nextEpoch();
      const kept = await new KeyTransparencyClient(directory, new FileKtStateStore(statePath), fetchJson).verifiedHead();

      // After the restart the directory serves a head of a bigger tree that does not extend the kept one.
      const signer = hs.directory.get(KtSigningKey);
      const { ktHeadSigningBytes } = await import('../../libs/transparency/src');
      const forged = {
        server: 'alpha.test',
        treeSize: kept.treeSize + 1,
        rootHash: sha256('forked-after-restart').toString('base64'),
        timestamp: Date.now(),
      };
      const head = { ...forged, keyId: signer.keyId, signature: signer.sign(ktHeadSigningBytes(forged)).toString('base64') };
      await registerAccount(hs.directoryUrl);
      const restarted = new KeyTransparencyClient(directory, new FileKtStateStore(statePath), async (url) =>
        url.endsWith('/v1/kt/head') ? head : fetchJson(url),
      );
      await expect(restarted.verifiedHead()).rejects.toMatchObject({ kind: 'inconsistent-head' });

      // The honest head still verifies after the restart, and becomes the kept one.
      await nextEpoch();
      const honest = await new KeyTransparencyClient(directory, new FileKtStateStore(statePath), fetchJson).verifiedHead();
      expect(honest.treeSize).toBeGreaterThan(kept.treeSize);
      expect(await new FileKtStateStore(statePath).lastHead('alpha.test')).toEqual(honest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
