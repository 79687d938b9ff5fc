import { ConfigError } from './env-reader';
import { loadDirectoryConfig } from './directory.config';

describe('loadDirectoryConfig', () => {
  it('applies defaults when the environment is empty', () => {
    const config = loadDirectoryConfig({});
    expect(config.serverName).toBe('localhost');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/sealpost');
    expect(config.openRegistration).toBe(false);
    expect(config.port).toBe(8081);
  });

  it('reads TRUST_PROXY as off, a hop count or a list of proxies, and refuses anything else', () => {
    expect(loadDirectoryConfig({}).trustProxy).toBe(false);
    expect(loadDirectoryConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadDirectoryConfig({ TRUST_PROXY: '10.0.0.0/8,127.0.0.1,::1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(() => loadDirectoryConfig({ TRUST_PROXY: 'yes please' })).toThrow(/TRUST_PROXY/);
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      loadDirectoryConfig({ SERVER_NAME: 'Not A Name', DIRECTORY_PORT: '99999', OPEN_REGISTRATION: 'maybe', REDIS_URL: 'http://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/SERVER_NAME/);
    expect(problems.join('\n')).toMatch(/DIRECTORY_PORT/);
    expect(problems.join('\n')).toMatch(/OPEN_REGISTRATION/);
    expect(problems.join('\n')).toMatch(/REDIS_URL/);
  });

  it('never prints the value of a secret variable', () => {
    try {
      loadDirectoryConfig({ DATABASE_URL: 'not-a-url-with-secret-hunter2' });
      throw new Error('expected failure');
    } catch (e) {
      expect((e as Error).message).toMatch(/DATABASE_URL/);
      expect((e as Error).message).not.toMatch(/hunter2/);
    }
  });
});
