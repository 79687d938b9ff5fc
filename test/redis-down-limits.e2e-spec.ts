import { TestAccount, registerAccount, registrationBody, uniqueLocalpart } from './support/accounts';
import { DeviceKeyMaterial } from '../libs/client/src';
import { FederatedHomeserver, startFederation } from './support/federation-harness';
import { readSigningKey, signedCall } from './support/federation-testkit';
import { JsonAnswer, call } from './support/http';
import { PrivateRedis } from './support/redis-server';
import { sleep } from './support/send-stream';

/**
 * Issue 9, defect 5: while Redis (which holds the rate-limit buckets) is down, registration and
 * bundle claims fail closed — 503 `unavailable` with Retry-After, answered at once instead of
 * waiting in ioredis's offline queue (47 s and 27 s before) — and a signed federation request is
 * answered without a 500. Alpha runs on a private redis-server that the spec stops.
 */
const PROMPT_MS = 3000;

/** The answer, or 'stalled' when none came within PROMPT_MS (a bounded wait, far below the old stalls). */
async function promptly(request: Promise<JsonAnswer>): Promise<JsonAnswer | 'stalled'> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setTimeout(() => resolve('stalled'), PROMPT_MS);
  });
  try {
    return await Promise.race([request, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function expectUnavailable(answer: JsonAnswer | 'stalled'): void {
  expect(answer === 'stalled' ? 'stalled' : { status: answer.status, body: answer.body }).toEqual({
    status: 503,
    body: { error: 'unavailable', message: expect.any(String) },
  });
  expect(Number((answer as JsonAnswer).headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

describe('rate limits while Redis is down (private redis-server)', () => {
  let redis: PrivateRedis;
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let requester: TestAccount;
  let target: TestAccount;

  const register = () => {
    const identity = DeviceKeyMaterial.generate({ reuseKemKey: true });
    return call('POST', `${alpha.directoryUrl}/v1/accounts`, { body: registrationBody(identity, uniqueLocalpart('redis-down')) });
  };
  const claim = () => call('GET', `${alpha.directoryUrl}/v1/keys/${target.address}/*`, { token: requester.token });
  const federatedClaim = () =>
    signedCall({
      method: 'GET',
      baseUrl: alpha.gatewayUrl,
      path: `/federation/v1/keys/${target.address}/*`,
      key: readSigningKey(beta),
      destination: 'alpha.test',
    });

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    [alpha, beta] = await startFederation(['alpha.test', 'beta.test'], { 'alpha.test': { REDIS_URL: redis.url } });
    requester = await registerAccount(alpha.directoryUrl, { preKeys: 20 });
    target = await registerAccount(alpha.directoryUrl, { preKeys: 20 });
    // With Redis up everything answers (and alpha pins beta's server key).
    expect((await claim()).status).toBe(200);
    expect((await federatedClaim()).status).toBe(200);
    await redis.stop();
  });
  afterAll(async () => {
    await redis?.start().catch(() => undefined);
    // Let alpha's services finish reconnecting (bus, queues) to the emptied Redis before closing them.
    const ready = async (url: string) => (await fetch(`${url}/healthz`).catch(() => null))?.status === 200;
    for (const url of alpha ? [alpha.directoryUrl, alpha.relayUrl, alpha.gatewayUrl] : []) {
      for (let i = 0; i < 150 && !(await ready(url)); i++) await sleep(100);
    }
    for (const hs of [alpha, beta]) await hs?.close();
    await redis?.stop();
  }, 120_000);

  it('a registration is refused at once with 503 unavailable and Retry-After (fails closed)', async () => {
    expectUnavailable(await promptly(register()));
  });

  it('a bundle claim is refused at once with 503 unavailable and Retry-After (fails closed)', async () => {
    expectUnavailable(await promptly(claim()));
  });

  it('a signed federation request is answered at once, and not with a 500', async () => {
    const answer = await promptly(federatedClaim());
    expect(answer).not.toBe('stalled');
    const { status } = answer as JsonAnswer;
    expect({ status, refusedOrUnavailable: status === 503 || (status >= 400 && status < 500) }).toEqual({
      status,
      refusedOrUnavailable: true,
    });
    expect((answer as JsonAnswer).body).toEqual({ error: expect.any(String), message: expect.any(String) });
  });

  it('once Redis is back, registration works again', async () => {
    await redis.start();
    let answer = await register();
    for (let i = 0; i < 100 && answer.status !== 201; i++) {
      await sleep(100);
      answer = await register();
    }
    expect(answer.status).toBe(201);
  });
});
