import { DeviceKeyMaterial } from '../../../../libs/client/src';
import { RunningDirectory, startDirectory } from '../../../../test/support/directory-harness';
import { registrationBody, uniqueLocalpart } from '../../../../test/support/accounts';
import { call } from '../../../../test/support/http';

const register = (dir: RunningDirectory, headers: Record<string, string> = {}) =>
  call('POST', `${dir.url}/v1/accounts`, {
    body: registrationBody(DeviceKeyMaterial.generate({ reuseKemKey: true }), uniqueLocalpart('rl')),
    headers,
  });

/**
 * Registration attempts are rate limited per client address (refused attempts count too); behind
 * a trusted proxy the client's own address, from X-Forwarded-For, is the one counted.
 */
describe('registration rate limit per client address', () => {
  it('answers 429 with Retry-After once an address has used its burst, bad attempts included', async () => {
    const dir = await startDirectory({ REGISTRATION_RATE_BURST: '3', REGISTRATION_RATE_PER_HOUR: '1' });
    try {
      expect((await register(dir)).status).toBe(201);
      expect((await call('POST', `${dir.url}/v1/accounts`, { body: { localpart: 'BAD LOCALPART' } })).status).toBe(400);
      expect((await register(dir)).status).toBe(201);
      const limited = await register(dir);
      expect(limited).toMatchObject({ status: 429, body: { error: 'rate_limited', message: expect.any(String) } });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Without TRUST_PROXY a forwarded-for header changes nothing: the TCP peer is the client.
      expect((await register(dir, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429);
    } finally {
      await dir.close();
    }
  });

  it('behind a trusted proxy counts each forwarded client address on its own', async () => {
    const dir = await startDirectory({ REGISTRATION_RATE_BURST: '1', REGISTRATION_RATE_PER_HOUR: '1', TRUST_PROXY: '127.0.0.1' });
    try {
      expect((await register(dir, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(201);
      expect((await register(dir, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
      expect((await register(dir, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(201);
    } finally {
      await dir.close();
    }
  });
});
