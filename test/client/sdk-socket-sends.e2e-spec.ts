import { ApiErrors, HomeserverApi, MemoryClientStore, ReceivedMessage, SealpostClient, SealpostClientOptions } from '../../libs/client/src';
import { UnidentifiedSendSocket } from '../../libs/client/src/api/unidentified-send-socket';
import { SocketFirstTransport } from '../../libs/client/src/messaging/send-transport';
import { eventually } from '../support/bus-listener';
import { freshFederationServers } from '../support/federation-databases';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { metric } from '../support/metrics-scrape';

const ALPHA = 'alpha.test';
let run = 0;
const unique = (stem: string) => `${stem}${process.pid % 10000}s${++run}`;

/**
 * The SDK's `sendOverSocket` (DESIGN §8): identified sends go as send frames on the device's own
 * socket while it is connected, sealed sends on a lazily opened `/v1/websocket/unidentified`,
 * HTTP otherwise; the messages arrive the same either way. Counted by the relay's
 * `sealpost_relay_sends_total{transport}`.
 */
describe('client SDK: sends over the socket', () => {
  let alpha: FederatedHomeserver;
  let servers: Record<string, string>;
  const clients: SealpostClient[] = [];

  beforeAll(async () => {
    await freshFederationServers([ALPHA]);
    [alpha] = await startFederation([ALPHA]);
    servers = { [ALPHA]: alpha.gatewayUrl };
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await alpha?.close();
  });

  async function register(stem: string, options: Partial<SealpostClientOptions> = {}): Promise<SealpostClient> {
    const client = await SealpostClient.register({
      store: new MemoryClientStore(),
      servers,
      server: ALPHA,
      localpart: unique(stem),
      preKeyBatch: 5,
      ...options,
    });
    clients.push(client);
    return client;
  }

  async function listening(client: SealpostClient): Promise<ReceivedMessage[]> {
    const inbox: ReceivedMessage[] = [];
    await client.connect((message) => {
      inbox.push(message);
    });
    return inbox;
  }

  const sends = async () => ({
    http: await metric(alpha.relayUrl, 'sealpost_relay_sends_total', 'transport="http",status="200"'),
    websocket: await metric(alpha.relayUrl, 'sealpost_relay_sends_total', 'transport="websocket",status="200"'),
  });

  it('identified sends use the connected device socket, sealed ones the unidentified socket; without a socket, HTTP', async () => {
    const alice = await register('alice', { sendOverSocket: true });
    const bob = await register('bob');
    const [aliceInbox, bobInbox] = [await listening(alice), await listening(bob)];

    let before = await sends();
    const first = await alice.send(bob.account.address, 'hello bob');
    expect(first.sealed).toBe(false);
    await eventually(() => bobInbox.length === 1, 15_000);
    expect(bobInbox[0]).toMatchObject({ text: 'hello bob', from: alice.account.address, sealed: false });
    expect(await sends()).toEqual({ http: before.http, websocket: before.websocket + 1 });

    // bob has no sendOverSocket: HTTP, as before. His message tells alice his access key.
    before = await sends();
    await bob.send(alice.account.address, 'hello alice');
    await eventually(() => aliceInbox.length === 1, 15_000);
    expect(await sends()).toEqual({ http: before.http + 1, websocket: before.websocket });

    before = await sends();
    const sealed = await alice.send(bob.account.address, 'sealed now');
    expect(sealed.sealed).toBe(true);
    await eventually(() => bobInbox.length === 2, 15_000);
    expect(bobInbox[1]).toMatchObject({ text: 'sealed now', sealed: true });
    expect(await sends()).toEqual({ http: before.http, websocket: before.websocket + 1 });
    expect(await metric(alpha.relayUrl, 'sealpost_relay_unidentified_websockets')).toBe(1);

    // Disconnected: identified sends fall back to HTTP; sealed ones keep the unidentified socket.
    await alice.disconnect();
    before = await sends();
    await alice.send(bob.account.address, 'identified, no socket', { sealed: false });
    await alice.send(bob.account.address, 'sealed, still a socket');
    await eventually(() => bobInbox.length === 4, 15_000);
    expect(bobInbox.slice(2).map((m) => m.text)).toEqual(['identified, no socket', 'sealed, still a socket']);
    expect(await sends()).toEqual({ http: before.http + 1, websocket: before.websocket + 1 });
  }, 60_000);

  it("the socket's refusals are HTTP's typed errors: a sealed send with a wrong key is UnauthorizedError over both", async () => {
    const bob = await register('bob');
    const api = new HomeserverApi(bob.api.info);
    const unidentified = new UnidentifiedSendSocket(api.relaySocketUrl('/v1/websocket/unidentified'));
    const overSocket = new SocketFirstTransport(api, () => undefined, unidentified);
    const message = { timestamp: Date.now(), messages: [{ deviceId: 1, registrationId: 1, type: 6, content: 'eA==' }] };
    const wrongKey = { kind: 'sealed', accessKey: Buffer.alloc(16, 7).toString('base64') } as const;
    try {
      const before = await sends();
      const viaSocket = await overSocket.send(bob.account.address, message, wrongKey, 'k-socket').catch((e: unknown) => e);
      const viaHttp = await api.send(bob.account.address, message, wrongKey, 'k-http').catch((e: unknown) => e);
      expect(viaSocket).toBeInstanceOf(ApiErrors.UnauthorizedError);
      expect(viaHttp).toBeInstanceOf(ApiErrors.UnauthorizedError);
      expect({ ...(viaSocket as object), stack: undefined }).toEqual({ ...(viaHttp as object), stack: undefined });
      const refused = (transport: string) => metric(alpha.relayUrl, 'sealpost_relay_sends_total', `transport="${transport}",status="401"`);
      expect(await refused('websocket')).toBeGreaterThanOrEqual(1);
      expect(await refused('http')).toBeGreaterThanOrEqual(1);
      expect(await sends()).toEqual(before);
    } finally {
      await unidentified.close();
    }
  }, 60_000);

  it('close() closes the unidentified socket too', async () => {
    const alice = await register('alice', { sendOverSocket: true });
    const bob = await register('bob');
    const bobInbox = await listening(bob);
    const aliceInbox = await listening(alice);
    await alice.send(bob.account.address, 'one');
    await eventually(() => bobInbox.length === 1, 15_000);
    await bob.send(alice.account.address, 'my key');
    await eventually(() => aliceInbox.length === 1, 15_000);
    const before = await metric(alpha.relayUrl, 'sealpost_relay_unidentified_websockets');
    expect((await alice.send(bob.account.address, 'sealed')).sealed).toBe(true);
    await eventually(async () => (await metric(alpha.relayUrl, 'sealpost_relay_unidentified_websockets')) === before + 1);
    await alice.close();
    clients.splice(clients.indexOf(alice), 1);
    await eventually(async () => (await metric(alpha.relayUrl, 'sealpost_relay_unidentified_websockets')) === before);
  }, 60_000);
});
