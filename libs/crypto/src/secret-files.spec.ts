import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretFile } from './secret-files';
import { addKeyGeneration, listKeyGenerations } from './key-generations';

describe('secret files in KEYS_DIR', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'sealpost-secrets-')), 'keys');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('of many concurrent creates of one name exactly one wins, whole, mode 0600, and no temporary file is left', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createSecretFile(dir, 'k.json', `secret-${i}-${'x'.repeat(10_000)}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(readFileSync(join(dir, 'k.json'), 'utf8')).toBe(`secret-${winner}-${'x'.repeat(10_000)}`);
    expect(statSync(join(dir, 'k.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['k.json']);
  });

  it('key generations: concurrent rotations each get a generation of their own, listed in order', async () => {
    await addKeyGeneration(dir, 'kt-ed25519', 'json', () => 'g');
    const added = await Promise.all(
      Array.from({ length: 5 }, (_, i) => addKeyGeneration(dir, 'kt-ed25519', 'json', (g) => `made as ${g} by ${i}`)),
    );
    expect([...added].sort()).toEqual([2, 3, 4, 5, 6]);
    const listed = await listKeyGenerations(dir, 'kt-ed25519', 'json');
    expect(listed.map((g) => g.generation)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const g of listed.slice(1)) expect(g.contents).toMatch(new RegExp(`^made as ${g.generation} by `));
    expect(readdirSync(dir).sort()).toEqual([
      'kt-ed25519.2.json',
      'kt-ed25519.3.json',
      'kt-ed25519.4.json',
      'kt-ed25519.5.json',
      'kt-ed25519.6.json',
      'kt-ed25519.json',
    ]);
    // Names that only look similar are not generations.
    expect(await listKeyGenerations(dir, 'kt', 'json')).toEqual([]);
  });
});
