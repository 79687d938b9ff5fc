import { KtRecord, SignedTreeHead, encodeKtRecord, leafHash } from '@sealpost/transparency';
import { MemoryKtStateStore } from './kt-state.store';
import { PendingWindow, ServedLeaf, continuingPendingRecords } from './pending-records';

const ADDRESS = 'bob@alpha.test';
const head = (treeSize: number): SignedTreeHead => ({
  server: 'alpha.test',
  treeSize,
  rootHash: 'cm9vdA==',
  timestamp: 1,
  keyId: 'k1',
  signature: 'c2ln',
});

/** A chain of records of ADDRESS, each `prevHash` the leaf hash of the one before, as the directory logs them. */
function chain(length: number): { record: KtRecord; leaf: string }[] {
  const out: { record: KtRecord; leaf: string }[] = [];
  for (let version = 1; version <= length; version++) {
    const prev = out.at(-1);
    const record: KtRecord = {
      address: ADDRESS,
      version,
      identityKey: 'aWRlbnRpdHk=',
      devices: Array.from({ length: version }, (_, i) => ({ deviceId: i + 1, registrationId: 100 + i })),
      prevHash: prev ? leafHash(Buffer.from(prev.leaf, 'base64')).toString('base64') : null,
      timestamp: 1_700_000_000_000 + version,
    };
    out.push({ record, leaf: encodeKtRecord(record).toString('base64') });
  }
  return out;
}
const served = (entry: { record: KtRecord; leaf: string }, leafIndex: number): ServedLeaf => ({
  leafIndex,
  version: entry.record.version,
  leaf: entry.leaf,
});

describe('continuingPendingRecords', () => {
  const [v1, v2, v3] = chain(3);

  it('accepts records past the head that continue the proven history version by version and hash by hash', () => {
    const pending = continuingPendingRecords(ADDRESS, head(10), v1, [served(v2, 10), served(v3, 14)]);
    expect(pending.map((p) => [p.record.version, p.leafIndex])).toEqual([
      [2, 10],
      [3, 14],
    ]);
    expect(pending[1].record.devices).toHaveLength(3);
  });

  it('accepts a first record (no proven history) only as version 1 with no prevHash', () => {
    expect(continuingPendingRecords(ADDRESS, head(4), undefined, [served(v1, 7)]).map((p) => p.record.version)).toEqual([1]);
    expect(continuingPendingRecords(ADDRESS, head(4), undefined, [served(v2, 7)])).toEqual([]);
  });

  it('has nothing pending when the directory serves nothing', () => {
    expect(continuingPendingRecords(ADDRESS, head(10), v1, undefined)).toEqual([]);
    expect(continuingPendingRecords(ADDRESS, head(10), v1, [])).toEqual([]);
  });

  it('gives no benefit of the doubt: one record that does not continue the chain voids them all', () => {
    const otherChain = chain(2)[1];
    const forged = { ...otherChain, record: { ...otherChain.record, prevHash: null } };
    const forgedLeaf = { record: forged.record, leaf: encodeKtRecord(forged.record).toString('base64') };
    const cases: [string, ServedLeaf[]][] = [
      ['a version that skips one', [served(v3, 10)]],
      ['a prevHash that does not chain', [served(forgedLeaf, 10)]],
      ['a leaf the head already covers', [served(v2, 9)]],
      ['leaf indexes that do not increase', [served(v2, 12), served(v3, 12)]],
      ['a valid record followed by a broken one', [served(v2, 10), served(v2, 11)]],
      [
        'a record of another address',
        [
          served(
            {
              record: { ...v2.record, address: 'eve@alpha.test' },
              leaf: encodeKtRecord({ ...v2.record, address: 'eve@alpha.test' }).toString('base64'),
            },
            10,
          ),
        ],
      ],
      ['bytes that are not a record', [{ leafIndex: 10, version: 2, leaf: Buffer.from('not json').toString('base64') }]],
      ['a leaf that is not a string', [{ leafIndex: 10, version: 2, leaf: 42 as unknown as string }]],
      ['a leaf index that is not an integer', [{ leafIndex: 10.5, version: 2, leaf: v2.leaf }]],
    ];
    for (const [why, entries] of cases) {
      expect({ why, pending: continuingPendingRecords(ADDRESS, head(10), v1, entries) }).toEqual({ why, pending: [] });
    }
  });
});

describe('PendingWindow', () => {
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('admits a pending version for maxPendingMs from its first sighting on this client, then refuses it', async () => {
    const window = new PendingWindow(new MemoryKtStateStore(), 120_000, now);
    expect(await window.admit(ADDRESS, 2)).toEqual({ admitted: true, sinceMs: 1_000_000 });
    clock += 120_000;
    expect(await window.admit(ADDRESS, 2)).toEqual({ admitted: true, sinceMs: 1_000_000 });
    clock += 1;
    expect(await window.admit(ADDRESS, 2)).toEqual({ admitted: false, sinceMs: 1_000_000 });
  });

  it('cannot be reset by the directory adding later pending versions: the episode is keyed by the first unproven one', async () => {
    const window = new PendingWindow(new MemoryKtStateStore(), 1_000, now);
    await window.admit(ADDRESS, 2);
    clock += 1_500;
    // Versions 3, 4 … pending behind version 2: still the same episode, still since the first sighting.
    expect(await window.admit(ADDRESS, 2)).toEqual({ admitted: false, sinceMs: 1_000_000 });
  });

  it('starts a fresh episode when a later version is the first unproven one, or after clear()', async () => {
    const window = new PendingWindow(new MemoryKtStateStore(), 1_000, now);
    await window.admit(ADDRESS, 2);
    clock += 5_000;
    expect(await window.admit(ADDRESS, 3)).toEqual({ admitted: true, sinceMs: 1_005_000 });
    await window.clear(ADDRESS);
    clock += 5_000;
    expect(await window.admit(ADDRESS, 3)).toEqual({ admitted: true, sinceMs: 1_010_000 });
  });

  it('keeps its marks in the state store when it can (they survive a client restart), else in memory per address', async () => {
    const store = new MemoryKtStateStore();
    await new PendingWindow(store, 1_000, now).admit(ADDRESS, 2);
    expect(await store.pendingSince(ADDRESS)).toEqual({ version: 2, sinceMs: 1_000_000 });
    clock += 2_000;
    expect(await new PendingWindow(store, 1_000, now).admit(ADDRESS, 2)).toEqual({ admitted: false, sinceMs: 1_000_000 });

    const bare = {
      lastHead: store.lastHead.bind(store),
      saveHead: store.saveHead.bind(store),
      lastCheckedVersion: store.lastCheckedVersion.bind(store),
      saveCheckedVersion: store.saveCheckedVersion.bind(store),
    };
    const inMemory = new PendingWindow(bare, 1_000, now);
    await inMemory.admit(ADDRESS, 2);
    await inMemory.admit('carol@alpha.test', 1);
    clock += 2_000;
    expect(await inMemory.admit(ADDRESS, 2)).toEqual({ admitted: false, sinceMs: 1_002_000 });
    await inMemory.clear(ADDRESS);
    expect(await inMemory.admit(ADDRESS, 2)).toEqual({ admitted: true, sinceMs: 1_004_000 });
    expect(await inMemory.admit('carol@alpha.test', 1)).toEqual({ admitted: false, sinceMs: 1_002_000 });
  });
});
