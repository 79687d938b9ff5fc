import { HASH_SIZE, leafHash, nodeHash } from './merkle-hash.util';
import { appendLeaves, nodesCompletedByAppend } from './merkle-append.util';
import { consistencyPath, inclusionPath, rootHash } from './merkle-proof.util';
import { nodeKeyId, nodeLookupFromMap, type NodeKey, type NodeLookup } from './node-key.util';
import { assertCount } from './tree-math.util';

/**
 * In-memory reference log: a Map of perfect-subtree node hashes, maintained and queried with
 * exactly the functions a database-backed log uses (`nodesCompletedByAppend`, `appendLeaves`,
 * `rootHash`, `inclusionPath`, `consistencyPath`). Answers for any past size ≤ `size`.
 * Returned hashes are copies; mutating them does not affect the log.
 */
export class MemoryMerkleLog {
  private readonly nodes = new Map<string, Buffer>();
  private leafCount = 0;

  /** Throws `MissingNodeError` for nodes not (yet) stored. Returns the stored Buffers themselves. */
  readonly lookup: NodeLookup = nodeLookupFromMap(this.nodes);

  /** Number of leaves. */
  get size(): number {
    return this.leafCount;
  }

  /** Number of stored nodes (all levels); 2n − popcount(n) for n leaves. */
  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Appends one entry; returns its leaf index. */
  append(data: Uint8Array): number {
    return this.appendLeafHash(leafHash(data));
  }

  /** Appends one already-hashed leaf (`leafHash(data)`); returns its leaf index. */
  appendLeafHash(hash: Buffer): number {
    if (!Buffer.isBuffer(hash) || hash.length !== HASH_SIZE) throw new TypeError(`leaf hash must be a ${HASH_SIZE}-byte Buffer`);
    const index = this.leafCount;
    this.nodes.set(nodeKeyId({ level: 0, index }), Buffer.from(hash));
    for (const node of nodesCompletedByAppend(index)) {
      const left = this.lookup({ level: node.level - 1, index: node.index * 2 });
      const right = this.lookup({ level: node.level - 1, index: node.index * 2 + 1 });
      this.nodes.set(nodeKeyId(node), nodeHash(left, right));
    }
    this.leafCount = index + 1;
    return index;
  }

  /** Appends entries in one batch via `appendLeaves`; returns the first new leaf index. */
  appendAll(entries: readonly Uint8Array[]): number {
    const first = this.leafCount;
    const created = appendLeaves(first, entries.map(leafHash), this.lookup);
    for (const [id, hash] of created) this.nodes.set(id, hash);
    this.leafCount = first + entries.length;
    return first;
  }

  /** The stored hash of one node, or undefined. */
  node(key: NodeKey): Buffer | undefined {
    const hash = this.nodes.get(nodeKeyId(key));
    return hash === undefined ? undefined : Buffer.from(hash);
  }

  /** Snapshot of every stored node, keyed `${level}:${index}` (copies). */
  entries(): Map<string, Buffer> {
    return new Map([...this.nodes].map(([id, hash]) => [id, Buffer.from(hash)]));
  }

  /** The hash of leaf `index`. */
  leafHash(index: number): Buffer {
    assertCount('index', index);
    if (index >= this.leafCount) throw new RangeError(`index ${index} is not below log size ${this.leafCount}`);
    return Buffer.from(this.lookup({ level: 0, index }));
  }

  root(size: number = this.leafCount): Buffer {
    this.assertSize('size', size);
    return Buffer.from(rootHash(size, this.lookup));
  }

  inclusionPath(index: number, size: number = this.leafCount): Buffer[] {
    this.assertSize('size', size);
    return inclusionPath(index, size, this.lookup).map((h) => Buffer.from(h));
  }

  consistencyPath(from: number, to: number = this.leafCount): Buffer[] {
    this.assertSize('to', to);
    return consistencyPath(from, to, this.lookup).map((h) => Buffer.from(h));
  }

  /** An independent copy (e.g. to fork a log in a test double). */
  clone(): MemoryMerkleLog {
    const copy = new MemoryMerkleLog();
    for (const [id, hash] of this.nodes) copy.nodes.set(id, Buffer.from(hash));
    copy.leafCount = this.leafCount;
    return copy;
  }

  private assertSize(name: string, size: number): void {
    assertCount(name, size);
    if (size > this.leafCount) throw new RangeError(`${name} ${size} exceeds log size ${this.leafCount}`);
  }
}
