import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { AtRestCipher } from './at-rest-cipher';
import { MetadataPseudonyms } from './metadata-pseudonyms';
import { SERVER_SECRET_FILE, ServerSecret } from './server-secret';

describe('ServerSecret, MetadataPseudonyms and AtRestCipher', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replicas starting together create one secret (file 0600) and all derive the same pseudonyms from it', async () => {
    const secrets = await Promise.all(Array.from({ length: 8 }, () => ServerSecret.loadOrCreate(dir)));
    expect(statSync(join(dir, SERVER_SECRET_FILE)).mode & 0o777).toBe(0o600);
    const names = new Set(secrets.map((s) => new MetadataPseudonyms(s).of('rl:claim', 'a@alpha.test', 'b@alpha.test')));
    expect(names.size).toBe(1);
  });

  it('never shows the secret when logged or serialised', async () => {
    const secret = await ServerSecret.loadOrCreate(dir);
    const fileText = readFileSync(join(dir, SERVER_SECRET_FILE), 'utf8').trim();
    for (const shown of [inspect(secret, { showHidden: true, depth: 5 }), JSON.stringify({ secret }), String(secret)]) {
      expect(shown).not.toContain(fileText);
    }
  });

  it('refuses a damaged secret file without printing its contents', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, SERVER_SECRET_FILE), 'not-a-secret');
    await expect(ServerSecret.loadOrCreate(dir)).rejects.toThrow(/is not 32 bytes of base64/);
    await expect(ServerSecret.loadOrCreate(dir)).rejects.not.toThrow(/not-a-secret/);
  });

  it('pseudonyms are valid Redis Cluster hash tags, differ by purpose, by part boundaries and by secret', async () => {
    const pseudonyms = new MetadataPseudonyms(await ServerSecret.loadOrCreate(dir));
    const other = mkdtempSync(join(tmpdir(), 'sealpost-secret-other-'));
    try {
      const stranger = new MetadataPseudonyms(await ServerSecret.loadOrCreate(other));
      const name = pseudonyms.of('rl:register', '203.0.113.7');
      expect(name).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(pseudonyms.of('rl:register', '203.0.113.7')).toBe(name);
      expect(pseudonyms.of('rl:send', '203.0.113.7')).not.toBe(name);
      expect(stranger.of('rl:register', '203.0.113.7')).not.toBe(name);
      expect(pseudonyms.of('x', 'ab', 'c')).not.toBe(pseudonyms.of('x', 'a', 'bc'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a sealed value opens only with the same secret, purpose and context, and not after tampering', async () => {
    const secret = await ServerSecret.loadOrCreate(dir);
    const cipher = new AtRestCipher(secret, 'test/v1');
    const plain = Buffer.from('0123456789abcdef');
    const sealed = cipher.seal(plain, 'alice');
    expect(sealed.includes(plain)).toBe(false);
    expect(cipher.open(sealed, 'alice')).toEqual(plain);
    expect(cipher.open(sealed, 'bob')).toBeNull();
    expect(new AtRestCipher(secret, 'other/v1').open(sealed, 'alice')).toBeNull();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 20] ^= 1;
    expect(cipher.open(tampered, 'alice')).toBeNull();
    expect(cipher.open(sealed.subarray(0, 10), 'alice')).toBeNull();
  });
});
