import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { PROVISIONING_ADDRESS_PATTERN } from '@sealpost/contracts';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { call } from '../../../../test/support/http';
import { sample, scrape } from '../../../../test/support/metrics-scrape';
import { OutputTap } from '../../../../test/support/output-tap';
import { ProvisioningSocket, putProvisioningMessage } from '../../../../test/support/provisioning-socket';
import { dumpHomeserverKeys } from '../../../../test/support/redis-dump';
import { holdsFor, primary, send } from '../../../../test/support/relay-testkit';
import { ProvisioningDelivery } from './provisioning-delivery.service';
import { ProvisioningSockets } from './provisioning-sockets.service';

const sealed = (text: string) => Buffer.from(`sealed:${text}:${randomBytes(8).toString('hex')}`);
const bodyOf = (frame: { [field: string]: unknown }) => Buffer.from(String(frame.body), 'base64').toString();
const unknownAddress = () => randomBytes(16).toString('base64url');

/**
 * DESIGN §8, linking a device: a new device's unauthenticated provisioning socket is given an
 * unguessable, single-use, short-lived address; a primary device's `PUT /v1/provisioning/{P}`
 * reaches it on whichever relay replica holds it (over Redis), 204 only once the socket took it.
 * P never appears in Redis, on its channels, in a log line or a metric.
 */
describe('relay: provisioning a linked device', () => {
  let hs: RunningHomeserver;
  let relayA: string;
  let relayB: string;
  let tap: OutputTap;
  let redis: Redis;
  let monitor: Redis;
  const published: string[] = [];
  const opened: ProvisioningSocket[] = [];
  const open = async (url: string) => {
    const socket = await ProvisioningSocket.open(url);
    opened.push(socket);
    return socket;
  };

  beforeAll(async () => {
    tap = new OutputTap();
    hs = await startHomeserver({ relays: 2, env: { LOG_LEVEL: 'debug' } });
    [relayA, relayB] = hs.relayUrls;
    redis = new Redis(process.env.TEST_REDIS_URL!);
    monitor = new Redis(process.env.TEST_REDIS_URL!);
    monitor.on('pmessage', (_pattern: string, channel: string, message: string) => published.push(`${channel} ${message}`));
    await monitor.psubscribe(`${hs.relayConfig.redisPrefix}*`);
  });
  afterEach(() => {
    for (const socket of opened.splice(0)) socket.terminate();
  });
  afterAll(async () => {
    await monitor.quit();
    await redis.quit();
    await hs.close();
    tap.close();
  });

  it('the socket is told an address of 128 random bits, base64url, different every time', async () => {
    const [one, two] = [await open(relayA), await open(relayA)];
    expect(one.frames).toEqual([{ type: 'provisioning-address', address: one.address }]);
    expect(one.address).toMatch(PROVISIONING_ADDRESS_PATTERN);
    expect(Buffer.from(one.address, 'base64url')).toHaveLength(16);
    expect(two.address).not.toBe(one.address);
    expect(one.isOpen).toBe(true);
  });

  it('a PUT by an authenticated device delivers the body once (204), the socket is closed 1000; a second PUT is 404', async () => {
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-primary' });
    const newDevice = await open(relayA);
    const body = sealed('identity key pair and link code');

    const first = await putProvisioningMessage(relayA, newDevice.address, body, primaryDevice.token);
    expect(first.status).toBe(204);
    await newDevice.waitClosed();
    expect(newDevice.closeCode).toBe(1000);
    expect(newDevice.frames.map((f) => f.type)).toEqual(['provisioning-address', 'provisioning-message']);
    expect(bodyOf(newDevice.messages[0])).toBe(body.toString());

    const second = await putProvisioningMessage(relayA, newDevice.address, sealed('again'), primaryDevice.token);
    expect(second.status).toBe(404);
    expect(second.body).toEqual({ error: 'not_found', message: expect.any(String) });
    const onB = await putProvisioningMessage(relayB, newDevice.address, sealed('again, elsewhere'), primaryDevice.token);
    expect(onB.status).toBe(404);
  });

  it('socket on replica A, PUT on replica B: delivered across replicas over Redis; again from A is 404', async () => {
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-cross' });
    const newDevice = await open(relayA);
    const body = sealed('across replicas');
    const answer = await putProvisioningMessage(relayB, newDevice.address, body, primaryDevice.token);
    expect(answer.status).toBe(204);
    await newDevice.waitClosed();
    expect(newDevice.closeCode).toBe(1000);
    expect(newDevice.messages.map(bodyOf)).toEqual([body.toString()]);
    expect((await putProvisioningMessage(relayA, newDevice.address, sealed('late'), primaryDevice.token)).status).toBe(404);
  });

  it('two PUTs racing for one address on both replicas: exactly one is 204, and the socket gets one message', async () => {
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-race' });
    for (let round = 0; round < 5; round++) {
      const newDevice = await open(round % 2 === 0 ? relayA : relayB);
      const answers = await Promise.all([
        putProvisioningMessage(relayA, newDevice.address, sealed('via A'), primaryDevice.token),
        putProvisioningMessage(relayB, newDevice.address, sealed('via B'), primaryDevice.token),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([204, 404]);
      await newDevice.waitClosed();
      expect(newDevice.messages).toHaveLength(1);
    }
  });

  it('two deliveries to one socket in the same tick (what racing PUTs come down to on its replica): one is taken, one message is sent', async () => {
    const newDevice = await open(relayA);
    const sockets = hs.relays[0].get(ProvisioningSockets);
    const pseudonym = hs.relays[0].get(ProvisioningDelivery).pseudonymOf(newDevice.address);
    const taken = await Promise.all([sockets.take(pseudonym, sealed('first')), sockets.take(pseudonym, sealed('second'))]);
    expect(taken).toEqual([true, false]);
    await newDevice.waitClosed();
    expect(newDevice.messages).toHaveLength(1);
    expect(bodyOf(newDevice.messages[0])).toMatch(/^sealed:first:/);
  });

  it('an unknown address is 404 at once from either replica; a malformed one 400; no or a bad token 401', async () => {
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-bad' });
    for (const relay of [relayA, relayB]) {
      const started = Date.now();
      const unknown = await putProvisioningMessage(relay, unknownAddress(), sealed('nobody'), primaryDevice.token);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('not_found');
      expect(Date.now() - started).toBeLessThan(1000); // no holder: no wait for a confirmation
    }
    const newDevice = await open(relayA);
    const malformed = await putProvisioningMessage(relayA, 'not-an-address', sealed('x'), primaryDevice.token);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: 'invalid_request', message: expect.stringContaining('address') });

    const anonymous = await putProvisioningMessage(relayA, newDevice.address, sealed('anonymous'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('unauthorized');
    const wrongToken = await putProvisioningMessage(relayA, newDevice.address, sealed('x'), randomBytes(32).toString('base64'));
    expect(wrongToken.status).toBe(401);

    const url = `${relayA}/v1/provisioning/${newDevice.address}`;
    const notBase64 = await call('PUT', url, { token: primaryDevice.token, body: { body: 'not base64!' } });
    expect(notBase64.status).toBe(400);
    expect(notBase64.body.error).toBe('invalid_request');
    const extraField = await call('PUT', url, { token: primaryDevice.token, body: { body: 'AAAA', to: 'x' } });
    expect(extraField.status).toBe(400);
    const empty = await call('PUT', url, { token: primaryDevice.token, body: { body: '' } });
    expect(empty.status).toBe(400);
    const tooBig = await putProvisioningMessage(relayA, newDevice.address, Buffer.alloc(64 * 1024 + 1), primaryDevice.token);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toBe('payload_too_large');
    // None of these reached the socket: it still takes its one message.
    expect(newDevice.messages).toHaveLength(0);
    const exactlyCap = await putProvisioningMessage(relayA, newDevice.address, Buffer.alloc(64 * 1024, 1), primaryDevice.token);
    expect(exactlyCap.status).toBe(204);
  });

  it('the socket answers client frames with invalid_frame, never gets envelopes, and is not counted as a device socket', async () => {
    const sender = await registerAccount(hs.directoryUrl, { stem: 'prov-sender' });
    const recipient = await registerAccount(hs.directoryUrl, { stem: 'prov-recipient' });
    const before = sample(await scrape(relayA), 'sealpost_relay_websockets');
    const newDevice = await open(relayA);
    newDevice.socket.send(JSON.stringify({ type: 'ack', ids: ['x'] }));
    await eventually(() => newDevice.frames.length === 2);
    expect(newDevice.frames[1]).toEqual({ type: 'error', error: 'invalid_frame', message: expect.any(String) });
    const text = await scrape(relayA);
    expect(sample(text, 'sealpost_relay_websockets')).toBe(before);
    expect(sample(text, 'sealpost_relay_provisioning_websockets')).toBeGreaterThanOrEqual(1);
    // A send stored meanwhile on this replica pushes nothing to a provisioning socket.
    expect((await send(relayA, recipient.address, [primary(recipient)], 'not for provisioning', { token: sender.token })).status).toBe(200);
    await holdsFor(() => newDevice.frames.length === 2 && newDevice.isOpen, 300, 'no frame');
  });

  it('a socket sending frames past the budget is closed 4429; a frame over 4 KiB closes it 1009; its address is then 404', async () => {
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-frames' });
    const flooding = await open(relayA);
    for (let i = 0; i < hs.relayConfig.wsFrameBurst + 50 && flooding.isOpen; i++) flooding.socket.send('{}');
    await flooding.waitClosed();
    expect(flooding.closeCode).toBe(4429);
    const oversized = await open(relayB);
    oversized.socket.send('x'.repeat(4 * 1024 + 1));
    await oversized.waitClosed();
    expect(oversized.closeCode).toBe(1009);
    for (const gone of [flooding, oversized]) {
      expect((await putProvisioningMessage(relayA, gone.address, sealed('gone'), primaryDevice.token)).status).toBe(404);
    }
  });

  it('P appears in no Redis key or value, no channel name or message, no log line and no metric', async () => {
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-leak' });
    const delivered = await open(relayA);
    const waiting = await open(relayB);
    const body = sealed('leak check');
    expect((await putProvisioningMessage(relayB, delivered.address, body, primaryDevice.token)).status).toBe(204);
    expect((await putProvisioningMessage(relayA, unknownAddress(), body, primaryDevice.token)).status).toBe(404);
    await delivered.waitClosed();

    const keys = await dumpHomeserverKeys(redis, hs.relayConfig.redisPrefix);
    // Not vacuous: the waiting socket's route and both buckets are there, and a message crossed replicas.
    expect(keys.filter((k) => k.key.includes('provisioning:{'))).toHaveLength(1);
    expect(keys.some((k) => k.key.includes('rl:provisioning-socket:'))).toBe(true);
    expect(keys.some((k) => k.key.includes('rl:provisioning-put:'))).toBe(true);
    await eventually(() => published.some((p) => p.includes('relay:provisioning:') && p.includes(body.toString('base64'))));
    const metrics = (await scrape(relayA)) + (await scrape(relayB));
    expect(sample(metrics, 'sealpost_relay_provisioning_messages_total', 'outcome="delivered"')).toBeGreaterThanOrEqual(1);

    expect(tap.matching(/ProvisioningSockets|RoutesResolver|Mapped/).length).toBeGreaterThan(0); // the tap did see the relays' debug logs
    for (const address of [delivered.address, waiting.address]) {
      const variants = [address, Buffer.from(address, 'base64url').toString('base64'), Buffer.from(address, 'base64url').toString('hex')];
      for (const needle of variants) {
        expect(keys.filter((k) => k.key.includes(needle) || k.values.some((v) => v.includes(Buffer.from(needle))))).toEqual([]);
        expect(published.filter((p) => p.includes(needle))).toEqual([]);
        expect(tap.matching(new RegExp(needle.replace(/[-+/]/g, '\\$&')))).toEqual([]);
        expect(metrics.includes(needle)).toBe(false);
      }
    }
  });
});

describe('relay: provisioning lifetime and limits', () => {
  let hs: RunningHomeserver;
  const opened: ProvisioningSocket[] = [];
  beforeAll(async () => {
    hs = await startHomeserver({
      env: {
        PROVISIONING_TTL_SECONDS: '2',
        PROVISIONING_SOCKET_RATE_BURST: '4',
        PROVISIONING_SOCKET_RATE_PER_MINUTE: '0.01',
        PROVISIONING_PUT_RATE_BURST: '3',
        PROVISIONING_PUT_RATE_PER_MINUTE: '0.01',
      },
    });
  });
  afterEach(() => {
    for (const socket of opened.splice(0)) socket.terminate();
  });
  afterAll(async () => {
    await hs.close();
  });

  it('the socket is closed with 4408 after PROVISIONING_TTL_SECONDS and its address is 404 from then on', async () => {
    const primaryDevice = await registerAccount(hs.directoryUrl, { stem: 'prov-ttl' });
    const started = Date.now();
    const newDevice = await ProvisioningSocket.open(hs.relayUrl);
    opened.push(newDevice);
    await newDevice.waitClosed(6000);
    expect(newDevice.closeCode).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(newDevice.messages).toHaveLength(0);
    expect((await putProvisioningMessage(hs.relayUrl, newDevice.address, sealed('too late'), primaryDevice.token)).status).toBe(404);
  });

  it('PUTs are budgeted per device (429 with Retry-After past PROVISIONING_PUT_RATE_BURST); another device is not affected', async () => {
    const sprayer = await registerAccount(hs.directoryUrl, { stem: 'prov-spray' });
    const other = await registerAccount(hs.directoryUrl, { stem: 'prov-other' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await putProvisioningMessage(hs.relayUrl, unknownAddress(), sealed('guess'), sprayer.token)).status);
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    const refused = await putProvisioningMessage(hs.relayUrl, unknownAddress(), sealed('guess'), sprayer.token);
    expect(refused.body).toEqual({ error: 'rate_limited', message: expect.any(String), retryAfter: expect.any(Number) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await putProvisioningMessage(hs.relayUrl, unknownAddress(), sealed('guess'), other.token)).status).toBe(404);
    expect(sample(await scrape(hs.relayUrl), 'sealpost_relay_provisioning_messages_total', 'outcome="rate_limited"')).toBe(3);
  });

  it('upgrades are budgeted per client address: past PROVISIONING_SOCKET_RATE_BURST a JSON 429, counted without the address', async () => {
    // The TTL spec above opened one socket from this address already.
    for (let i = 0; i < 3; i++) opened.push(await ProvisioningSocket.open(hs.relayUrl));
    await expect(ProvisioningSocket.open(hs.relayUrl)).rejects.toThrow('upgrade refused: 429');
    const text = await scrape(hs.relayUrl);
    expect(sample(text, 'sealpost_relay_provisioning_upgrades_total', 'outcome="opened"')).toBe(4);
    expect(sample(text, 'sealpost_relay_provisioning_upgrades_total', 'outcome="rate_limited"')).toBe(1);
    expect(text).not.toMatch(/127\.0\.0\.1/);
  });
});
