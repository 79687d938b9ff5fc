import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import {
  ClientStore,
  FileClientStore,
  KtVerificationError,
  MemoryClientStore,
  OwnerAlert,
  PreparedSend,
  ReceivedMessage,
  SealpostClient,
} from '../../libs/client/src';
import { libsignal } from '../../libs/crypto/src';
import { withTransaction } from '../../libs/db/src';
import { sha256 } from '../../libs/crypto/src';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { eventually } from '../support/bus-listener';
import { serverPool } from '../support/federation-testkit';
import { TransparencyLog } from '../../apps/prekey-directory/src/transparency/transparency-log.service';

const ALPHA = 'alpha.test';
const BETA = 'beta.test';
let run = 0;
const unique = (stem: string) => `${stem}${process.pid % 10000}x${++run}`;

/** A device whose received messages are collected; `handler` may be replaced to make it fail. */
class Inbox {
  readonly messages: ReceivedMessage[] = [];
  handler = async (message: ReceivedMessage) => {
    this.messages.push(message);
  };
  readonly receive = (message: ReceivedMessage) => this.handler(message);
  texts = () => this.messages.map((m) => m.text);
}

describe('client SDK on libsignal: two federated homeservers', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let servers: Record<string, string>;
  const clients: SealpostClient[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    await freshFederationServers([ALPHA, BETA]);
    [alpha, beta] = await startFederation([ALPHA, BETA], {
      [ALPHA]: { KT_EPOCH_SECONDS: '1' },
      [BETA]: { KT_EPOCH_SECONDS: '1' },
    });
    servers = { [ALPHA]: alpha.gatewayUrl, [BETA]: beta.gatewayUrl };
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await alpha?.close();
    await beta?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function register(server: string, stem: string, store: ClientStore = new MemoryClientStore()): Promise<SealpostClient> {
    const client = await SealpostClient.register({ store, servers, server, localpart: unique(stem), preKeyBatch: 5 });
    clients.push(client);
    return client;
  }

  async function listening(client: SealpostClient): Promise<Inbox> {
    const inbox = new Inbox();
    await client.connect(inbox.receive);
    return inbox;
  }

  it('alice@alpha and bob@beta talk both ways: PQXDH sessions, first message identified, then sealed sender both ways', async () => {
    const alice = await register(ALPHA, 'alice');
    const bob = await register(BETA, 'bob');
    const [aliceInbox, bobInbox] = [await listening(alice), await listening(bob)];

    const first = await alice.send(bob.account.address, 'hello bob');
    expect(first).toMatchObject({ devices: [1], sealed: false });
    await eventually(() => bobInbox.messages.length === 1, 15_000);
    expect(bobInbox.messages[0]).toMatchObject({ text: 'hello bob', from: alice.account.address, fromDevice: 1, sealed: false });

    const reply = await bob.send(alice.account.address, 'hello alice');
    expect(reply.sealed).toBe(true);
    await eventually(() => aliceInbox.messages.length === 1, 15_000);
    expect(aliceInbox.messages[0]).toMatchObject({ text: 'hello alice', from: bob.account.address, sealed: true });

    const again = await alice.send(bob.account.address, 'sealed now');
    expect(again.sealed).toBe(true);
    await eventually(() => bobInbox.messages.length === 2, 15_000);
    expect(bobInbox.messages[1]).toMatchObject({ text: 'sealed now', sealed: true });
  }, 60_000);

  it('offline delivery: bob connects later and receives what was sent meanwhile, in order, each once', async () => {
    const alice = await register(ALPHA, 'alice');
    const bob = await register(BETA, 'bob');
    for (const text of ['one', 'two', 'three']) await alice.send(bob.account.address, text);
    const bobInbox = await listening(bob);
    await eventually(() => bobInbox.messages.length === 3, 15_000);
    expect(bobInbox.texts()).toEqual(['one', 'two', 'three']);
  }, 60_000);

  it('prepareSend seals now for a later send (a bench pool): sent out of order, sealed or identified, each is decrypted once', async () => {
    const alice = await register(ALPHA, 'alice');
    const bob = await register(BETA, 'bob');
    const bobInbox = await listening(bob);
    const pool: PreparedSend[] = [];
    for (const text of ['p1', 'p2', 'p3']) pool.push(await alice.prepareSend(bob.account.address, text));
    expect(pool.every((p) => p.address === bob.account.address && p.messages.length === 1 && p.messages[0].type === 6)).toBe(true);
    expect(bobInbox.messages).toHaveLength(0);
    const send = (p: PreparedSend, sealed: boolean) =>
      alice.api.send(
        p.address,
        { timestamp: p.timestamp, messages: p.messages },
        sealed ? { kind: 'sealed', accessKey: bob.account.accessKey } : { kind: 'device' },
      );
    await send(pool[2], true);
    await send(pool[0], false);
    await send(pool[1], true);
    await eventually(() => bobInbox.messages.length === 3, 15_000);
    expect(bobInbox.texts().sort()).toEqual(['p1', 'p2', 'p3']);
    expect(bobInbox.messages.every((m) => m.from === alice.account.address)).toBe(true);
  }, 60_000);

  it('a message whose handler fails is not acked: it comes again on the next connection, decrypted once', async () => {
    const alice = await register(ALPHA, 'alice');
    const bob = await register(BETA, 'bob');
    const inbox = new Inbox();
    let failures = 0;
    inbox.handler = async () => {
      failures++;
      throw new Error('application storage is full');
    };
    await bob.connect(inbox.receive);
    await alice.send(bob.account.address, 'keep me');
    await eventually(() => failures === 1, 15_000);
    await bob.disconnect();
    inbox.handler = async (message) => {
      inbox.messages.push(message);
    };
    await bob.connect(inbox.receive);
    await eventually(() => inbox.messages.length === 1, 15_000);
    expect(inbox.texts()).toEqual(['keep me']);
  }, 60_000);

  it('a restarted client (file store) continues the same sessions both ways', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-client-'));
    dirs.push(dir);
    const alice = await register(ALPHA, 'alice', await FileClientStore.open(dir));
    const bob = await register(BETA, 'bob');
    const bobInbox = await listening(bob);
    await alice.send(bob.account.address, 'before restart');
    await eventually(() => bobInbox.messages.length === 1, 15_000);
    await bob.send(alice.account.address, 'while alice is away');
    await alice.close();

    const restarted = await SealpostClient.open({ store: await FileClientStore.open(dir), servers });
    clients.push(restarted);
    expect(restarted.account.address).toBe(alice.account.address);
    const aliceInbox = await listening(restarted);
    await eventually(() => aliceInbox.messages.length === 1, 15_000);
    expect(aliceInbox.messages[0]).toMatchObject({ text: 'while alice is away', from: bob.account.address, sealed: true });
    expect((await restarted.send(bob.account.address, 'after restart')).sealed).toBe(true);
    await eventually(() => bobInbox.messages.length === 2, 15_000);
    expect(bobInbox.texts()).toEqual(['before restart', 'after restart']);
  }, 60_000);

  it('a ghost device written behind the log’s back: send refuses with a typed KT error and encrypts nothing to it', async () => {
    const bob = await register(BETA, 'bob');
    const carol = await register(ALPHA, 'carol');
    // bob's registration is covered by a signed head first (verify waits for it): what follows is a ghost, not a pending record
    expect((await (await register(ALPHA, 'dave')).verify(bob.account.address)).kt).toBe('verified');
    const bobIdentity = libsignal().IdentityKeyPair.deserialize(Buffer.from(bob.account.identityKeyPair, 'base64'));
    const pool = serverPool(beta);
    try {
      await withTransaction(pool, async (tx) => {
        await tx.query(`INSERT INTO directory.devices (account_id, device_id, registration_id, token_hash) VALUES ($1, 66, 6666, $2)`, [
          bob.account.accountId,
          sha256(`ghost-${bob.account.accountId}`),
        ]);
        const ec = libsignal().PrivateKey.generate().getPublicKey().serialize();
        const kem = libsignal().KEMKeyPair.generate().getPublicKey().serialize();
        for (const [kind, keyId, key] of [
          [1, 660, ec],
          [2, 661, kem],
        ] as const) {
          await tx.query(
            `INSERT INTO directory.signed_prekeys (account_id, device_id, kind, key_id, public_key, signature) VALUES ($1, 66, $2, $3, $4, $5)`,
            [bob.account.accountId, kind, keyId, Buffer.from(key), Buffer.from(bobIdentity.privateKey.sign(key))],
          );
        }
      });
    } finally {
      await pool.end();
    }
    const refusal = await carol.send(bob.account.address, 'for bob only').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(KtVerificationError);
    expect(refusal).toMatchObject({ kind: 'ghost-device' });
  }, 60_000);

  it('an identity-key change of a contact surfaces as an event, after the new key was verified in the log', async () => {
    const alice = await register(ALPHA, 'alice');
    const bob = await register(BETA, 'bob');
    await alice.send(bob.account.address, 'hi');
    const localpart = bob.account.address.split('@')[0];
    // bob re-installs: the account is deleted and registered again under the same address with a new identity key
    const deleted = await fetch(`${bob.api.info.directory}/v1/accounts/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${bob.account.token}` },
    });
    expect(deleted.status).toBe(204);
    const reinstalled = await SealpostClient.register({ store: new MemoryClientStore(), servers, server: BETA, localpart, preKeyBatch: 5 });
    clients.push(reinstalled);
    const changes: { address: string; previous: string; next: string }[] = [];
    alice.on('identity-changed', (change) => changes.push(change));
    const inbox = await listening(reinstalled);
    await alice.send(bob.account.address, 'are you still bob?');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ address: bob.account.address, previous: expect.any(String), next: expect.any(String) });
    expect(changes[0].previous).not.toBe(changes[0].next);
    await eventually(() => inbox.messages.length === 1, 15_000);
    expect(inbox.texts()).toEqual(['are you still bob?']);
  }, 60_000);
  it('bob links a second device through the sealed provisioning exchange: both receive, the linked one replies (sync copy to the first), a removed device stops receiving', async () => {
    const alice = await register(ALPHA, 'alice');
    const bob = await register(BETA, 'bob');
    const linkedStore = new MemoryClientStore();
    const laptopPromise = SealpostClient.link({
      store: linkedStore,
      servers,
      server: BETA,
      preKeyBatch: 5,
      onLinkCode: (code) => {
        expect(code).toMatch(/^sealpost-link:v1:beta\.test:/);
        void bob.approveLink(code);
      },
    });
    const laptop = await laptopPromise;
    clients.push(laptop);
    expect(laptop.account).toMatchObject({ address: bob.account.address, accountId: bob.account.accountId, deviceId: 2 });
    expect(laptop.account.identityKeyPair).toBe(bob.account.identityKeyPair);
    const [phoneInbox, laptopInbox, aliceInbox] = [await listening(bob), await listening(laptop), await listening(alice)];

    const sent = await alice.send(bob.account.address, 'to both of you');
    expect(sent.devices).toEqual([1, 2]);
    await eventually(() => phoneInbox.messages.length === 1 && laptopInbox.messages.length === 1, 15_000);
    expect(laptopInbox.messages[0]).toMatchObject({ text: 'to both of you', from: alice.account.address });
    expect(laptopInbox.messages[0].messageId).toBe(phoneInbox.messages[0].messageId);

    const reply = await laptop.send(alice.account.address, 'from the laptop');
    expect(reply.syncedDevices).toEqual([1]);
    await eventually(() => aliceInbox.messages.length === 1 && phoneInbox.messages.length === 2, 15_000);
    expect(aliceInbox.messages[0]).toMatchObject({ text: 'from the laptop', from: bob.account.address, fromDevice: 2 });
    expect(phoneInbox.messages[1]).toMatchObject({
      text: 'from the laptop',
      from: bob.account.address,
      fromDevice: 2,
      syncTo: alice.account.address,
    });

    await bob.removeDevice(2);
    const after = await alice.send(bob.account.address, 'only the phone now');
    expect(after.devices).toEqual([1]);
    await eventually(() => phoneInbox.messages.length === 3, 15_000);
    expect(laptopInbox.texts()).toEqual(['to both of you']);
  }, 60_000);
  it("a device the directory logs behind the owner's back is a kt-alert event on the owner's next connect", async () => {
    const bob = await register(BETA, 'bob');
    const alerts: OwnerAlert[] = [];
    bob.on('kt-alert', (alert) => alerts.push(alert));
    const pool = serverPool(beta);
    try {
      await withTransaction(pool, async (tx) => {
        await tx.query(`INSERT INTO directory.devices (account_id, device_id, registration_id, token_hash) VALUES ($1, 67, 6767, $2)`, [
          bob.account.accountId,
          sha256(`ghost-${bob.account.accountId}`),
        ]);
        await beta.directory.get(TransparencyLog).appendDeviceList(bob.account.accountId, tx);
      });
    } finally {
      await pool.end();
    }
    await listening(bob);
    await eventually(() => alerts.length > 0, 15_000);
    expect(alerts).toContainEqual(expect.objectContaining({ kind: 'unknown-device', deviceId: 67, registrationId: 6767 }));
  }, 60_000);
});
