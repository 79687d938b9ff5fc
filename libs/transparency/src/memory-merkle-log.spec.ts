import { EMPTY_ROOT, leafHash } from './merkle-hash.util';
import { rootHash } from './merkle-proof.util';
import { verifyConsistency, verifyInclusion } from './merkle-verify.util';
import { MemoryMerkleLog } from './memory-merkle-log';
import { MissingNodeError, nodeKeyId, parseNodeKeyId } from './node-key.util';
import { naiveRoot, randomEntries } from './testing/naive-merkle';

describe('MemoryMerkleLog', () => {
  const entries = randomEntries(40, 3);

  it('starts empty and appends with consecutive indices', () => {
    const log = new MemoryMerkleLog();
    expect(log.size).toBe(0);
    expect(log.root()).toEqual(EMPTY_ROOT);
    expect(log.nodeCount).toBe(0);
    entries.forEach((entry, i) => expect(log.append(entry)).toBe(i));
    expect(log.size).toBe(40);
    expect(log.nodeCount).toBe(2 * 40 - 2);
    expect(log.root()).toEqual(naiveRoot(entries));
    expect(log.leafHash(17)).toEqual(leafHash(entries[17]));
    expect(log.appendAll(entries.slice(0, 3))).toBe(40);
    expect(log.size).toBe(43);
    expect(log.root()).toEqual(naiveRoot([...entries, ...entries.slice(0, 3)]));
  });

  it('answers for past sizes and its proofs verify against its own roots', () => {
    const log = new MemoryMerkleLog();
    entries.forEach((entry) => log.append(entry));
    for (let n = 1; n <= 40; n += 3) {
      for (let i = 0; i < n; i += 2) {
        expect(verifyInclusion(leafHash(entries[i]), i, n, log.inclusionPath(i, n), log.root(n))).toBe(true);
      }
      for (let m = 1; m <= n; m += 4) {
        expect(verifyConsistency(m, n, log.root(m), log.root(n), log.consistencyPath(m, n))).toBe(true);
      }
    }
    expect(log.inclusionPath(5)).toEqual(log.inclusionPath(5, 40));
    expect(log.consistencyPath(9)).toEqual(log.consistencyPath(9, 40));
    expect(rootHash(23, log.lookup)).toEqual(log.root(23));
  });

  it('refuses sizes beyond what it holds', () => {
    const log = new MemoryMerkleLog();
    entries.slice(0, 5).forEach((entry) => log.append(entry));
    expect(() => log.root(6)).toThrow(RangeError);
    expect(() => log.inclusionPath(5)).toThrow(RangeError);
    expect(() => log.inclusionPath(0, 6)).toThrow(RangeError);
    expect(() => log.consistencyPath(2, 6)).toThrow(RangeError);
    expect(() => log.consistencyPath(0, 5)).toThrow(RangeError);
    expect(() => log.leafHash(5)).toThrow(RangeError);
    expect(() => log.lookup({ level: 0, index: 5 })).toThrow(MissingNodeError);
    expect(() => log.appendLeafHash(Buffer.alloc(16))).toThrow(TypeError);
  });

  it('hands out copies, and clones are independent (e.g. to fork a log)', () => {
    const log = new MemoryMerkleLog();
    entries.slice(0, 8).forEach((entry) => log.append(entry));
    const root = log.root();
    log.root()[0] ^= 1;
    log.inclusionPath(3)[0][0] ^= 1;
    (log.node({ level: 3, index: 0 }) as Buffer)[0] ^= 1;
    for (const hash of log.entries().values()) hash[0] ^= 1;
    expect(log.root()).toEqual(root);

    const fork = log.clone();
    fork.append(Buffer.from('ghost device'));
    log.append(entries[8]);
    expect(fork.root(8)).toEqual(log.root(8));
    expect(fork.root(9).equals(log.root(9))).toBe(false);
    expect(verifyConsistency(8, 9, log.root(8), fork.root(9), fork.consistencyPath(8, 9))).toBe(true);
    expect(verifyConsistency(9, 9, log.root(9), fork.root(9), [])).toBe(false);
  });
});

describe('node keys', () => {
  it('round-trips ids and rejects malformed ones', () => {
    expect(nodeKeyId({ level: 3, index: 12 })).toBe('3:12');
    expect(parseNodeKeyId('3:12')).toEqual({ level: 3, index: 12 });
    expect(parseNodeKeyId(nodeKeyId({ level: 0, index: 2 ** 50 }))).toEqual({ level: 0, index: 2 ** 50 });
    for (const bad of ['', '3', '3:', ':1', '-1:2', '1:02', '1.5:2', '1:2:3', 'a:b']) {
      expect(() => parseNodeKeyId(bad)).toThrow(RangeError);
    }
  });
});
