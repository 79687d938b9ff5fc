import { startServiceProcess, freePort, ServiceProcess } from './support/service-process';
import { testPrefix } from './support/directory-harness';
import { call } from './support/http';
import { TestAccount, registerAccount } from './support/accounts';

/**
 * The one-time take must be atomic across processes: many concurrent claims, spread over two
 * directory processes sharing one Postgres, against a device with few keys.
 */
describe('concurrent bundle claims across two directory processes', () => {
  const EC_KEYS = 20;
  const PQ_KEYS = 15;
  const CLAIMS = 300;
  let directories: ServiceProcess[] = [];

  beforeAll(async () => {
    const prefix = testPrefix();
    const common = {
      SERVER_NAME: 'alpha.test',
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      REDIS_PREFIX: prefix,
      OPEN_REGISTRATION: 'true',
      REGISTRATION_RATE_BURST: '1000000000',
      LOG_LEVEL: 'warn',
      CLAIM_RATE_BURST: '100000',
      CLAIM_RATE_PER_MINUTE: '100000',
      // 300 claims at once from one loopback address.
      HTTP_MAX_REQUESTS_PER_CLIENT: '1000',
    };
    const ports = [await freePort(), await freePort()];
    directories = await Promise.all(
      ports.map((port) => startServiceProcess('apps/prekey-directory/src/main.js', { ...common, DIRECTORY_PORT: String(port) }, port)),
    );
  });
  afterAll(async () => {
    await Promise.all(directories.map((d) => d.stop()));
  });

  it('hands every one-time key out at most once; the rest fall back to no EC key and the PQ last-resort key', async () => {
    const bob = await registerAccount(directories[0].url, { preKeys: EC_KEYS, pqPreKeys: PQ_KEYS });
    const requesters: TestAccount[] = [];
    for (let i = 0; i < 10; i++) requesters.push(await registerAccount(directories[i % 2].url));

    const answers = await Promise.all(
      Array.from({ length: CLAIMS }, (_, i) =>
        call('GET', `${directories[i % 2].url}/v1/keys/${bob.address}/1`, { token: requesters[i % requesters.length].token }),
      ),
    );

    expect(answers.map((a) => a.status).filter((status) => status !== 200)).toEqual([]);
    const devices = answers.map((a) => a.body.devices[0]);
    const ecTaken = devices.map((d) => d.preKey?.keyId).filter((id): id is number => id !== undefined);
    const pqTaken = devices.map((d) => d.pqPreKey.keyId).filter((id: number) => id !== 999);
    expect(new Set(ecTaken).size).toBe(ecTaken.length);
    expect(new Set(pqTaken).size).toBe(pqTaken.length);
    expect(ecTaken.length).toBeLessThanOrEqual(EC_KEYS);
    expect(pqTaken.length).toBeLessThanOrEqual(PQ_KEYS);
    expect(devices.filter((d) => d.preKey === null)).toHaveLength(CLAIMS - ecTaken.length);
    expect(devices.filter((d) => d.pqPreKey.keyId === 999)).toHaveLength(CLAIMS - pqTaken.length);

    // Nothing was lost either: keys not handed out are still stored.
    const counts = await call('GET', `${directories[1].url}/v1/keys`, { token: bob.token });
    expect(counts.body.count + ecTaken.length).toBe(EC_KEYS);
    expect(counts.body.pqCount + pqTaken.length).toBe(PQ_KEYS);
    // Both processes served claims that took keys.
    const served = [0, 1].map((p) => answers.filter((a, i) => i % 2 === p && a.body.devices[0].preKey !== null).length);
    expect(served[0] + served[1]).toBe(ecTaken.length);
  });
});
