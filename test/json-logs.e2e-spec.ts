import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, builtServiceEnv, freePort, startServiceProcess } from './support/service-process';
import { registerAccount } from './support/accounts';

/** LOG_FORMAT=json: every log line a service writes is one JSON object a log collector can parse. */
describe('LOG_FORMAT=json', () => {
  let directory: ServiceProcess;
  let keysDir: string;
  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'sealpost-json-logs-'));
    const port = await freePort();
    directory = await startServiceProcess(
      'apps/prekey-directory/src/main.js',
      builtServiceEnv({ LOG_LEVEL: 'log', LOG_FORMAT: 'json', KEYS_DIR: keysDir, DIRECTORY_PORT: String(port) }),
      port,
    );
  });
  afterAll(async () => {
    await directory?.stop();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('writes start-up, key generation and shutdown as JSON lines with level, context and message', async () => {
    const account = await registerAccount(directory.url);
    await directory.stop('SIGTERM');
    const lines = directory
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const entries = lines.map((line) => JSON.parse(line) as { level: string; context?: string; message: unknown });
    for (const entry of entries)
      expect(entry).toMatchObject({ level: expect.stringMatching(/^(log|warn|error)$/), message: expect.anything() });
    expect(entries.some((e) => e.context === 'SealedSenderKeys')).toBe(true);
    expect(entries.some((e) => String(e.message).includes('listening on'))).toBe(true);
    expect(lines.join('\n')).not.toContain(account.token);
  });
});
