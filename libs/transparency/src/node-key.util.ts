import { HASH_SIZE } from './merkle-hash.util';
import { assertCount } from './tree-math.util';

/**
 * A perfect subtree of the log: node (level, index) is the hash of leaves
 * [index·2^level, (index+1)·2^level). Level 0 nodes are leaf hashes. A node is stored once it is
 * complete, i.e. once the log holds at least (index+1)·2^level leaves, and never changes after.
 */
export interface NodeKey {
  level: number;
  index: number;
}

/** Reads one stored node hash. Must throw (never return undefined) when the node is not stored. */
export type NodeLookup = (key: NodeKey) => Buffer;

/** Thrown by lookups when a node that the tree math needs is not available. */
export class MissingNodeError extends Error {
  constructor(readonly key: NodeKey) {
    super(`Merkle node ${nodeKeyId(key)} (level ${key.level}, index ${key.index}) is not stored`);
    this.name = 'MissingNodeError';
  }
}

/** Canonical string form `${level}:${index}`, used as a Map key. */
export function nodeKeyId(key: NodeKey): string {
  return `${key.level}:${key.index}`;
}

export function parseNodeKeyId(id: string): NodeKey {
  const match = /^(0|[1-9]\d*):(0|[1-9]\d*)$/.exec(id);
  if (!match) throw new RangeError(`not a node key id: ${JSON.stringify(id)}`);
  const key = { level: Number(match[1]), index: Number(match[2]) };
  assertCount('level', key.level);
  assertCount('index', key.index);
  return key;
}

/** First leaf covered by the node. */
export function nodeStart(key: NodeKey): number {
  return key.index * 2 ** key.level;
}

/** One past the last leaf covered by the node: the tree size at which the node becomes complete. */
export function nodeEnd(key: NodeKey): number {
  return (key.index + 1) * 2 ** key.level;
}

/** A lookup over a Map keyed by `nodeKeyId`, throwing `MissingNodeError` for absent nodes. */
export function nodeLookupFromMap(nodes: ReadonlyMap<string, Buffer>): NodeLookup {
  return (key) => {
    const hash = nodes.get(nodeKeyId(key));
    if (hash === undefined) throw new MissingNodeError(key);
    return hash;
  };
}

/** Wraps a caller's lookup so a missing or malformed hash fails loudly instead of corrupting a proof. */
export function checkedLookup(lookup: NodeLookup): NodeLookup {
  return (key) => {
    const hash = lookup(key) as Buffer | undefined | null;
    if (hash === undefined || hash === null) throw new MissingNodeError(key);
    if (!Buffer.isBuffer(hash) || hash.length !== HASH_SIZE) {
      throw new TypeError(`Merkle node ${nodeKeyId(key)} is not a ${HASH_SIZE}-byte Buffer`);
    }
    return hash;
  };
}
