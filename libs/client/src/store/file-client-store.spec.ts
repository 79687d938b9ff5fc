import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryClientStore } from './client-store';
import { FileClientStore } from './file-client-store';

describe('client stores: a transaction is kept whole or not at all', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([['memory'], ['file']])('%s: a transaction that throws leaves nothing behind; one that succeeds is read back', async (kind) => {
    const store = kind === 'memory' ? new MemoryClientStore() : await FileClientStore.open(dir);
    await store.set('session', 'a.1', 'first');
    await expect(
      store.atomically(async () => {
        await store.set('session', 'a.1', 'second');
        await store.set('prekey', '7', 'used');
        expect(await store.get('session', 'a.1')).toBe('second');
        throw new Error('decryption failed half-way');
      }),
    ).rejects.toThrow('half-way');
    expect(await store.get('session', 'a.1')).toBe('first');
    expect(await store.get('prekey', '7')).toBeUndefined();
    await store.atomically(async () => {
      await store.set('session', 'a.1', 'third');
      await store.delete('session', 'a.1');
      await store.set('session', 'b.2', 'kept');
    });
    expect(await store.keys('session')).toEqual(['b.2']);
  });

  it('a plain write made while a transaction runs (as libsignal makes them from native callbacks) joins that transaction', async () => {
    const store = new MemoryClientStore();
    let release!: () => void;
    const running = store.atomically(
      () =>
        new Promise<void>((resolve, reject) => {
          release = () => reject(new Error('rolled back'));
          setImmediate(() => void store.set('identity', 'x', 'from a lost async context'));
        }),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await store.get('identity', 'x')).toBe('from a lost async context');
    release();
    await expect(running).rejects.toThrow('rolled back');
    expect(await store.get('identity', 'x')).toBeUndefined();
  });

  it('file: survives a reopen, is written mode 0600, and a damaged file is refused rather than started afresh', async () => {
    const store = await FileClientStore.open(dir);
    await store.set('account', 'self', '{"token":"t"}');
    await store.close();
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    const reopened = await FileClientStore.open(dir);
    expect(await reopened.get('account', 'self')).toBe('{"token":"t"}');
    writeFileSync(join(dir, 'state.json'), readFileSync(join(dir, 'state.json'), 'utf8').slice(0, 10));
    await expect(FileClientStore.open(dir)).rejects.toThrow(/not valid JSON; refusing to start afresh/);
  });
});
