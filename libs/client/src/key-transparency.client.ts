import { verifyEd25519 } from '@sealpost/crypto';
import {
  KtKeysDocument, KtRecord, SignedTreeHead, decodeKtRecord, ktHeadSigningBytes, leafHash, trustedKtKeys, verifyConsistency, verifyInclusion,
} from '@sealpost/transparency';
import { KtVerificationError } from './kt-errors';
import { KtStateStore } from './kt-state.store';

export type FetchJson = (url: string) => Promise<unknown>;

export interface KtDirectory {
  server: string;
  directoryUrl: string;
  /**
   * The tree-head key this client trusts, base64: `ktPublicKey` from discovery, pinned at first
   * sight. Heads signed by a later key are accepted when `/v1/kt/keys` shows that key endorsed,
   * step by step, starting from this one.
   */
  ktPublicKey: string;
}

export interface VerifiedRecord { record: KtRecord; leafIndex: number; head: SignedTreeHead }

/** A bundle as the directory answers `GET /v1/keys/{address}/…`. */
export interface BundleToCheck { address: string; identityKey: string; devices: { deviceId: number; registrationId: number }[] }

const b64 = (s: string) => Buffer.from(s, 'base64');

/**
 * The client side of key transparency: verifies signed tree heads and their consistency with the
 * last head this client kept, and that the identity key and devices it is about to encrypt to are
 * in the log at a verified head. Throws KtVerificationError otherwise.
 */
export class KeyTransparencyClient {
  /** Keys trusted through endorsements from the pinned one, by keyId (filled when a head needs one). */
  private endorsedKeys = new Map<string, Buffer>();

  constructor(private readonly directory: KtDirectory, private readonly store: KtStateStore, private readonly fetchJson: FetchJson) {}

  /** The directory's current head, signature checked and consistent with the last one kept (then kept). */
  async verifiedHead(): Promise<SignedTreeHead> {
    const head = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/head`)) as SignedTreeHead;
    await this.checkSignature(head);
    const last = await this.store.lastHead(this.directory.server);
    if (last) await this.checkConsistency(last, head);
    if (!last || head.treeSize >= last.treeSize) await this.store.saveHead(head);
    return last && last.treeSize > head.treeSize ? last : head;
  }

  /** The record of `address` at `version`, proven included in a verified head. */
  async verifiedRecord(address: string, version: number, head?: SignedTreeHead): Promise<VerifiedRecord> {
    const at = head ?? (await this.verifiedHead());
    const proof = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/inclusion?address=${encodeURIComponent(address)}&version=${version}&treeSize=${at.treeSize}`)) as {
      leaf: string; leafIndex: number; treeSize: number; auditPath: string[];
    };
    const record = decodeKtRecord(b64(proof.leaf));
    if (!record || record.address !== address || record.version !== version) throw new KtVerificationError('bad-inclusion-proof', 'the served record does not match the request');
    const ok = proof.treeSize === at.treeSize && verifyInclusion(leafHash(b64(proof.leaf)), proof.leafIndex, at.treeSize, proof.auditPath.map(b64), b64(at.rootHash));
    if (!ok) throw new KtVerificationError('bad-inclusion-proof', `record ${address} v${version} is not in the tree of size ${at.treeSize}`);
    return { record, leafIndex: proof.leafIndex, head: at };
  }

  /** All records of `address` in the log, each proven included, oldest first. */
  async verifiedHistory(address: string): Promise<VerifiedRecord[]> {
    const head = await this.verifiedHead();
    const history = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/history/${encodeURIComponent(address)}`)) as { records: { version: number }[] };
    const out: VerifiedRecord[] = [];
    for (const { version } of history.records) out.push(await this.verifiedRecord(address, version, head));
    return out;
  }

  /**
   * Before encrypting to a bundle: its identity key and every device in it must be in the
   * latest logged record of the address. A device the log does not show is a ghost: refused.
   */
  async verifyBundle(bundle: BundleToCheck): Promise<VerifiedRecord> {
    const history = await this.verifiedHistory(bundle.address);
    const latest = history[history.length - 1];
    if (!latest) throw new KtVerificationError('not-in-log', `${bundle.address} has no record in the log`);
    if (latest.record.identityKey !== bundle.identityKey) {
      throw new KtVerificationError('identity-key-mismatch', `the served identity key of ${bundle.address} is not the logged one`);
    }
    for (const device of bundle.devices) {
      const logged = latest.record.devices.find((d) => d.deviceId === device.deviceId && d.registrationId === device.registrationId);
      if (!logged) throw new KtVerificationError('ghost-device', `device ${device.deviceId} of ${bundle.address} is not in the log`);
    }
    return latest;
  }

  private async checkSignature(head: SignedTreeHead): Promise<void> {
    if (head?.server !== this.directory.server || !Number.isInteger(head.treeSize) || typeof head.signature !== 'string') {
      throw new KtVerificationError('bad-head-signature', `not a tree head of ${this.directory.server}`);
    }
    const signedBy = (key: Buffer) => verifyEd25519(key, ktHeadSigningBytes(head), b64(head.signature));
    if (signedBy(b64(this.directory.ktPublicKey))) return;
    // Signed by another key: trusted only if endorsed, step by step, from the pinned one.
    if (!this.endorsedKeys.has(head.keyId)) {
      const doc = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/keys`)) as KtKeysDocument;
      this.endorsedKeys = doc?.server === this.directory.server ? trustedKtKeys(doc, this.directory.ktPublicKey) : new Map();
    }
    const key = this.endorsedKeys.get(head.keyId);
    if (!key || !signedBy(key)) {
      throw new KtVerificationError('bad-head-signature', `tree head of ${head.server} is not signed by the pinned key or one it endorsed`);
    }
  }

  private async checkConsistency(a: SignedTreeHead, b: SignedTreeHead): Promise<void> {
    const [older, newer] = a.treeSize <= b.treeSize ? [a, b] : [b, a];
    if (older.treeSize === newer.treeSize) {
      if (older.rootHash !== newer.rootHash) throw new KtVerificationError('inconsistent-head', `two different roots for size ${older.treeSize}`);
      return;
    }
    if (older.treeSize === 0) return;
    const proof = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/consistency?from=${older.treeSize}&to=${newer.treeSize}`)) as { proof: string[] };
    if (!verifyConsistency(older.treeSize, newer.treeSize, b64(older.rootHash), b64(newer.rootHash), proof.proof.map(b64))) {
      throw new KtVerificationError('inconsistent-head', `head ${newer.treeSize} does not extend head ${older.treeSize}`);
    }
  }
}
