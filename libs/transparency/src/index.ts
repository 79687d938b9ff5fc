export { HASH_SIZE, EMPTY_ROOT, leafHash, nodeHash } from './merkle-hash.util';
export { MissingNodeError, nodeKeyId, parseNodeKeyId, nodeStart, nodeEnd, nodeLookupFromMap } from './node-key.util';
export type { NodeKey, NodeLookup } from './node-key.util';
export { rootHash, rootNodes, inclusionPath, inclusionNodes, consistencyPath, consistencyNodes } from './merkle-proof.util';
export { nodesCompletedByAppend, appendLeaves, appendNodes } from './merkle-append.util';
export { verifyInclusion, verifyConsistency } from './merkle-verify.util';
export { MemoryMerkleLog } from './memory-merkle-log';
// Added alongside by the lead (not part of the Merkle core): log record and tree-head encodings.
export { encodeKtRecord, decodeKtRecord } from './kt-record.codec';
export type { KtRecord } from './kt-record.codec';
export { ktHeadSigningBytes } from './kt-head.codec';
export type { SignedTreeHead } from './kt-head.codec';
export { ktKeyEndorsementBytes, trustedKtKeys } from './kt-key-chain';
export type { KtKeyEntry, KtKeysDocument } from './kt-key-chain';
