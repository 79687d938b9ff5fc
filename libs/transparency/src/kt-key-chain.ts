import { canonicalJson, verifyEd25519 } from '@sealpost/crypto';

/**
 * The directory's tree-head keys, oldest first. Each key after the first carries an endorsement:
 * the previous key's Ed25519 signature over `ktKeyEndorsementBytes`. Someone who trusts one key
 * (pinned from discovery at first sight) can so follow a rotation without trusting the server's
 * word for the new key, and can still check old heads signed by an older key.
 */
export interface KtKeyEntry {
  keyId: string;
  /** Ed25519 public key, base64. */
  publicKey: string;
  /** The key that endorsed this one; absent on the first key. */
  endorsedBy?: string;
  /** base64 Ed25519 signature by `endorsedBy` over `ktKeyEndorsementBytes(server, keyId, publicKey)`. */
  endorsement?: string;
}

export interface KtKeysDocument {
  server: string;
  keys: KtKeyEntry[];
}

const DOMAIN = 'sealpost-kt-key-v1\n';

export function ktKeyEndorsementBytes(server: string, keyId: string, publicKey: string): Buffer {
  return Buffer.from(DOMAIN + canonicalJson({ server, keyId, publicKey }), 'utf8');
}

/**
 * The keys of `doc` that someone trusting `trustedPublicKey` may trust: that key itself, and every
 * later key endorsed by a key already trusted, in order. A key whose endorsement does not verify
 * ends the chain (nothing after it is trusted). Returns keyId → public key; empty when the trusted
 * key is not in the document.
 */
export function trustedKtKeys(doc: KtKeysDocument, trustedPublicKey: string): Map<string, Buffer> {
  const trusted = new Map<string, Buffer>();
  if (!doc || !Array.isArray(doc.keys)) return trusted;
  const start = doc.keys.findIndex((k) => k?.publicKey === trustedPublicKey);
  if (start < 0) return trusted;
  trusted.set(doc.keys[start].keyId, Buffer.from(trustedPublicKey, 'base64'));
  for (const key of doc.keys.slice(start + 1)) {
    const endorser = typeof key?.endorsedBy === 'string' ? trusted.get(key.endorsedBy) : undefined;
    if (!endorser || typeof key.endorsement !== 'string' || typeof key.publicKey !== 'string' || typeof key.keyId !== 'string') break;
    if (!verifyEd25519(endorser, ktKeyEndorsementBytes(doc.server, key.keyId, key.publicKey), Buffer.from(key.endorsement, 'base64')))
      break;
    trusted.set(key.keyId, Buffer.from(key.publicKey, 'base64'));
  }
  return trusted;
}
