import { canonicalJson } from '@sealpost/crypto';

/** A signed tree head as served: `signature` is Ed25519 over `ktHeadSigningBytes` by the directory's KT key `keyId`. */
export interface SignedTreeHead {
  server: string;
  treeSize: number;
  /** Base64 RFC 9162 root hash. */
  rootHash: string;
  timestamp: number;
  keyId: string;
  signature: string;
}

const DOMAIN = 'sealpost-kt-head-v1\n';

export function ktHeadSigningBytes(head: Pick<SignedTreeHead, 'server' | 'treeSize' | 'rootHash' | 'timestamp'>): Buffer {
  return Buffer.from(
    DOMAIN + canonicalJson({ server: head.server, treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp }),
    'utf8',
  );
}
