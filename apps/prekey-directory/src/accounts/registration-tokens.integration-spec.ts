import { Pool } from 'pg';
import { newSecretCode } from '../../../../libs/crypto/src';
import { DeviceKeyMaterial } from '../../../../libs/client/src';
import { RunningDirectory, startDirectory } from '../../../../test/support/directory-harness';
import { call } from '../../../../test/support/http';
import { registrationBody, uniqueLocalpart } from '../../../../test/support/accounts';
import { RegistrationTokensRepository } from './registration-tokens.repository';

describe('registration tokens (closed registration, the default)', () => {
  let dir: RunningDirectory;
  let pool: Pool;
  let tokens: RegistrationTokensRepository;

  beforeAll(async () => {
    dir = await startDirectory({ OPEN_REGISTRATION: 'false' });
    pool = new Pool({ connectionString: process.env.TEST_DATABASE_URL });
    tokens = new RegistrationTokensRepository(pool);
  });
  afterAll(async () => {
    await dir.close();
    await pool.end();
  });

  const newToken = async (uses: number, expiresAt: Date | null = null) => {
    const { code, hash } = newSecretCode(16);
    await tokens.insert(hash, uses, expiresAt);
    return code;
  };
  const register = (registrationToken?: string, localpart = uniqueLocalpart()) =>
    call('POST', `${dir.url}/v1/accounts`, {
      body: {
        ...registrationBody(DeviceKeyMaterial.generate({ reuseKemKey: true }), localpart),
        ...(registrationToken ? { registrationToken } : {}),
      },
    });

  it('refuses registration without a token with 403', async () => {
    const res = await register();
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('registration_token_required');
  });

  it('refuses an unknown token with 403', async () => {
    const res = await register('not-a-real-token-123');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('invalid_registration_token');
  });

  it('accepts a token exactly as many times as it has uses', async () => {
    const token = await newToken(2);
    expect((await register(token)).status).toBe(201);
    expect((await register(token)).status).toBe(201);
    const third = await register(token);
    expect(third.status).toBe(403);
    expect(third.body.error).toBe('invalid_registration_token');
  });

  it('refuses an expired token', async () => {
    const token = await newToken(5, new Date(Date.now() - 1000));
    expect((await register(token)).status).toBe(403);
  });

  it('does not use up a token on a refused (taken localpart) registration', async () => {
    const token = await newToken(1);
    const other = await newToken(1);
    const localpart = uniqueLocalpart();
    expect((await register(other, localpart)).status).toBe(201);
    expect((await register(token, localpart)).status).toBe(409);
    expect((await register(token)).status).toBe(201);
  });

  it('stores only a hash of the token', async () => {
    const token = await newToken(1);
    const { rows } = await pool.query('SELECT token_hash FROM directory.registration_tokens');
    const stored = rows.map((r: { token_hash: Buffer }) => r.token_hash.toString('latin1'));
    expect(stored.some((s: string) => s.includes(token))).toBe(false);
  });
});

describe('REGISTRATION_TOKEN (a fixed token for demos and tests)', () => {
  let dir: RunningDirectory;
  beforeAll(async () => {
    dir = await startDirectory({ OPEN_REGISTRATION: 'false', REGISTRATION_TOKEN: 'fixed-demo-token-1' });
  });
  afterAll(async () => {
    await dir.close();
  });

  it('is accepted any number of times, while other tokens are still checked', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await call('POST', `${dir.url}/v1/accounts`, {
        body: {
          ...registrationBody(DeviceKeyMaterial.generate({ reuseKemKey: true }), uniqueLocalpart()),
          registrationToken: 'fixed-demo-token-1',
        },
      });
      expect(res.status).toBe(201);
    }
    const other = await call('POST', `${dir.url}/v1/accounts`, {
      body: {
        ...registrationBody(DeviceKeyMaterial.generate({ reuseKemKey: true }), uniqueLocalpart()),
        registrationToken: 'fixed-demo-token-2',
      },
    });
    expect(other.status).toBe(403);
  });
});
