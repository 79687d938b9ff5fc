import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKtStateStore } from './file-kt-state.store';

const head = (server: string, treeSize: number) => ({
  server,
  treeSize,
  rootHash: 'cm9vdA==',
  timestamp: 1_700_000_000_000 + treeSize,
  keyId: 'k1',
  signature: 'c2ln',
});

describe('FileKtStateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-kt-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty when there is no file, and keeps heads and checked versions across instances', async () => {
    const path = join(dir, 'nested', 'kt-state.json');
    const first = new FileKtStateStore(path);
    expect(await first.lastHead('alpha.test')).toBeNull();
    expect(await first.lastCheckedVersion('bob@alpha.test')).toBe(0);
    await first.saveHead(head('alpha.test', 7));
    await first.saveHead(head('beta.test', 3));
    await first.saveCheckedVersion('bob@alpha.test', 4);

    const afterRestart = new FileKtStateStore(path);
    expect(await afterRestart.lastHead('alpha.test')).toEqual(head('alpha.test', 7));
    expect(await afterRestart.lastHead('beta.test')).toEqual(head('beta.test', 3));
    expect(await afterRestart.lastCheckedVersion('bob@alpha.test')).toBe(4);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('serialises concurrent saves: the file ends with every one of them and no temporary file is left', async () => {
    const path = join(dir, 'kt-state.json');
    const store = new FileKtStateStore(path);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 ? store.saveHead(head(`s${i}.test`, i)) : store.saveCheckedVersion(`u${i}@alpha.test`, i),
      ),
    );
    const onDisk = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(onDisk.heads)).toHaveLength(20);
    expect(Object.keys(onDisk.checkedVersions)).toHaveLength(20);
    expect(readdirSync(dir)).toEqual(['kt-state.json']);
  });

  it('refuses a broken or foreign file instead of silently forgetting the kept heads', async () => {
    const path = join(dir, 'kt-state.json');
    writeFileSync(path, '{"format":1,"heads":');
    await expect(new FileKtStateStore(path).lastHead('alpha.test')).rejects.toThrow(/not valid JSON/);
    writeFileSync(path, '{"something":"else"}');
    await expect(new FileKtStateStore(path).lastHead('alpha.test')).rejects.toThrow(/expected format/);
  });
});
