import { randomBytes } from 'node:crypto';
import { TestAccount, registerAccount } from '../support/accounts';
import { eventually } from '../support/bus-listener';
import { DeviceSocket } from '../support/device-socket';
import { freshFederationServers } from '../support/federation-databases';
import { serverPool, storedFor } from '../support/federation-testkit';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { HomeserverProcesses, startHomeserverProcesses } from '../support/homeserver-processes';
import { call } from '../support/http';
import { LinkedDevice, SealedAccount, linkDevice, primary, registerWithAccessKey, send } from '../support/relay-testkit';
import { Finding, Secret, databaseCells, findSecrets, redisEntries } from '../support/secret-scan';
import { freePort } from '../support/service-process';

/**
 * DESIGN §7 "no plaintext, private key, bearer token or registration secret is ever in Postgres,
 * Redis, a log line or a metric label". Two homeservers: ALPHA runs as three built child
 * processes at LOG_LEVEL=debug (so every line they print is captured), BETA in this process.
 * Accounts with known tokens, access keys, a registration token, a link code and identity private
 * keys are set up, and envelopes carrying a canary go through every path (identified, sealed,
 * socket delivery, federation, federation outbox). Then everything is scanned. The canary may
 * appear only as the opaque content of stored envelopes (relay envelopes, gateway outbox).
 */

const ALPHA = 'secrets-a.test';
const BETA = 'secrets-b.test';
const CANARY = `CANARY-${randomBytes(8).toString('hex')}`;
/** Where sealed content is allowed to rest: table → the columns holding the opaque content. */
const ENVELOPE_STORAGE: Record<string, RegExp> = { 'relay.envelopes': /^content$/, 'federation.outbox': /^delivery$/ };

/** The canary sits only in fields named `content` of a cell (a JSON document such as an outbox delivery, or the bare column). */
function canaryOnlyAsContent(text: string): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return true;
  }
  const outside: string[] = [];
  const walk = (value: unknown, key: string): void => {
    if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => walk(v, k));
    else if (key !== 'content' && findSecrets(String(value), '', [{ kind: 'canary', value: CANARY }]).length > 0) outside.push(key);
  };
  walk(doc, 'content');
  return outside.length === 0;
}

describe('secrets stay secret: not in Postgres, Redis, logs or /metrics', () => {
  let alpha: HomeserverProcesses;
  let beta: FederatedHomeserver;
  const registrationToken = `regtok-${randomBytes(12).toString('base64url')}`;
  const adminToken = `admintok-${randomBytes(12).toString('base64url')}`;
  let alice: SealedAccount;
  let aliceLaptop: LinkedDevice;
  let carol: TestAccount;
  let bob: SealedAccount;
  let unusedLinkCode: string;
  let secrets: Secret[];

  beforeAll(async () => {
    await freshFederationServers([ALPHA, BETA]);
    const alphaPort = await freePort();
    [beta] = await startFederation([BETA], { [BETA]: { FEDERATION_PEERS: `${ALPHA}=http://127.0.0.1:${alphaPort}` } });
    alpha = await startHomeserverProcesses(
      ALPHA,
      {
        FEDERATION_PEERS: `${BETA}=${beta.gatewayUrl}`,
        OPEN_REGISTRATION: 'false',
        REGISTRATION_TOKEN: registrationToken,
        ADMIN_TOKEN: adminToken,
        FEDERATION_RETRY_BASE_MS: '200',
        FEDERATION_RETRY_MAX_MS: '1000',
      },
      alphaPort,
    );

    alice = await registerWithAccessKey(alpha.directory.url, 'alice', { registrationToken });
    aliceLaptop = await linkDevice(alpha.directory.url, alice);
    carol = await registerAccount(alpha.directory.url, { stem: 'carol', registrationToken });
    bob = await registerWithAccessKey(beta.directoryUrl, 'bob');
    const code = await call('POST', `${alpha.directory.url}/v1/devices/link-codes`, { token: carol.token });
    expect(code.status).toBe(201);
    unusedLinkCode = code.body.code;

    // Every path a sealed envelope takes, each carrying the canary.
    const aliceDevices = [primary(alice), { deviceId: aliceLaptop.deviceId, registrationId: aliceLaptop.registrationId }];
    expect((await send(alpha.relay.url, alice.address, aliceDevices, `${CANARY} identified`, { token: carol.token })).status).toBe(200);
    expect((await send(alpha.relay.url, alice.address, aliceDevices, `${CANARY} sealed`, { accessKey: alice.accessKey })).status).toBe(200);
    expect((await send(alpha.relay.url, carol.address, [primary(carol)], `${CANARY} delivered`, { token: alice.token })).status).toBe(200);
    const carolSocket = await DeviceSocket.connect(alpha.relay.url, carol.token, true);
    await eventually(() => carolSocket.envelopes.length === 1 && carolSocket.queueEmpty > 0, 10_000);
    await carolSocket.close();
    expect((await send(alpha.relay.url, bob.address, [primary(bob)], `${CANARY} federated`, { token: alice.token })).status).toBe(200);
    const betaPool = serverPool(beta);
    try {
      await eventually(async () => (await storedFor(betaPool, bob.accountId)) === 1, 10_000);
    } finally {
      await betaPool.end();
    }
    await beta.stopGateway();
    expect(
      (await send(alpha.relay.url, bob.address, [primary(bob)], `${CANARY} queued in the outbox`, { token: alice.token })).status,
    ).toBe(200);
    expect((await call('GET', `${alpha.directory.url}/v1/certificate/delivery`, { token: alice.token })).status).toBe(200);
    expect((await call('GET', `${alpha.directory.url}/v1/keys/${carol.address}/*`, { token: aliceLaptop.token })).status).toBe(200);
    expect((await call('GET', `${alpha.gateway.url}/admin/federation/status`, { token: adminToken })).status).toBe(200);

    secrets = [
      { kind: 'alice bearer token', value: alice.token },
      { kind: 'alice laptop bearer token', value: aliceLaptop.token },
      { kind: 'carol bearer token', value: carol.token },
      { kind: 'bob bearer token', value: bob.token },
      { kind: 'alice unidentified-access key', value: alice.accessKey },
      { kind: 'bob unidentified-access key', value: bob.accessKey },
      { kind: 'registration token', value: registrationToken },
      { kind: 'admin token', value: adminToken },
      { kind: 'link code', value: unusedLinkCode },
      ...[alice, carol, bob].map((a) => ({ kind: `${a.localpart} identity private key`, value: a.identity.privateKey.toString('base64') })),
    ];
  }, 180_000);

  afterAll(async () => {
    await alpha?.stop();
    await beta?.close();
  });

  const canary: Secret[] = [{ kind: 'canary', value: CANARY }];
  const report = (findings: Finding[]) => findings.map((f) => `${f.secret} in ${f.where} (${f.form})`);

  it('no token, key, code or private key in any table of either homeserver, and the canary only as envelope content', async () => {
    const findings: Finding[] = [];
    for (const databaseUrl of [alpha.databaseUrl, beta.gatewayConfig.databaseUrl]) {
      const cells = await databaseCells(databaseUrl);
      expect(cells.length).toBeGreaterThan(0);
      for (const cell of cells) {
        const where = `${databaseUrl.replace(/^.*\//, '')} ${cell.table}.${cell.column}`;
        findings.push(...findSecrets(cell.text, where, secrets));
        const allowed = (ENVELOPE_STORAGE[cell.table]?.test(cell.column) ?? false) && canaryOnlyAsContent(cell.text);
        if (!allowed) findings.push(...findSecrets(cell.text, where, canary));
      }
    }
    expect(report(findings)).toEqual([]);
  });

  it('the canary did reach envelope storage (so the scan above could have seen it)', async () => {
    const cells = await databaseCells(alpha.databaseUrl);
    const holding = new Set(cells.filter((c) => findSecrets(c.text, '', canary).length > 0).map((c) => `${c.table}.${c.column}`));
    expect([...holding].some((where) => where.startsWith('relay.envelopes.'))).toBe(true);
    expect([...holding].some((where) => where.startsWith('federation.outbox.'))).toBe(true);
  });

  it('no token, key, code, private key or canary in any Redis key or value of either homeserver', async () => {
    const findings: Finding[] = [];
    for (const prefix of [alpha.redisPrefix, beta.relayConfig.redisPrefix]) {
      const entries = await redisEntries(process.env.TEST_REDIS_URL!, prefix);
      expect(entries.length).toBeGreaterThan(0);
      for (const { key, text } of entries) {
        findings.push(...findSecrets(key, `redis key ${key}`, [...secrets, ...canary]));
        findings.push(...findSecrets(text, `redis value of ${key}`, [...secrets, ...canary]));
      }
    }
    expect(report(findings)).toEqual([]);
  });

  it('no rate-limit key in Redis names an account address or a client IP address (issue 8: they are keyed by hashes)', async () => {
    const identities: Secret[] = [
      ...[alice, carol, bob].map((a) => ({ kind: `address of ${a.localpart}`, value: a.address })),
      { kind: 'client IP address', value: '127.0.0.1' },
    ];
    const findings: Finding[] = [];
    for (const prefix of [alpha.redisPrefix, beta.relayConfig.redisPrefix]) {
      const rateLimitKeys = (await redisEntries(process.env.TEST_REDIS_URL!, prefix)).filter(({ key }) =>
        key.slice(prefix.length).startsWith('rl:'),
      );
      for (const { key } of rateLimitKeys) findings.push(...findSecrets(key, `redis key ${key}`, identities));
    }
    expect(report(findings)).toEqual([]);
  });

  it('no token, key, code, private key or canary in any line the services printed at LOG_LEVEL=debug', async () => {
    const findings: Finding[] = [];
    let lines = 0;
    for (const [name, service] of [
      ['directory', alpha.directory],
      ['relay', alpha.relay],
      ['gateway', alpha.gateway],
    ] as const) {
      for (const line of service.output().split('\n')) {
        lines += 1;
        findings.push(...findSecrets(line, `${name} log: ${line.slice(0, 160)}`, [...secrets, ...canary]));
      }
    }
    expect(lines).toBeGreaterThan(3);
    expect(report(findings)).toEqual([]);
  });

  it('no token, key, code, private key or canary in /metrics of any service', async () => {
    const findings: Finding[] = [];
    const urls = [alpha.directory.url, alpha.relay.url, alpha.gateway.url, beta.directoryUrl, beta.relayUrl];
    for (const url of urls) {
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      findings.push(...findSecrets(await res.text(), `${url}/metrics`, [...secrets, ...canary]));
    }
    expect(report(findings)).toEqual([]);
  });
});
