import { verifyEd25519 } from '@sealpost/crypto';
import { KtRecord, SignedTreeHead, decodeKtRecord, ktHeadSigningBytes, leafHash, verifyConsistency, verifyInclusion } from '@sealpost/transparency';
import { KtVerificationError } from './kt-errors';
import { KtStateStore } from './kt-state.store';

export type FetchJson = (url: string) => Promise<unknown>;

export interface KtDirectory {
  server: string;
  directoryUrl: string;
  /** The directory's tree-head key, from discovery (`ktPublicKey`), base64. */
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
  constructor(private readonly directory: KtDirectory, private readonly store: KtStateStore, private readonly fetchJson: FetchJson) {}

  /** The directory's current head, signature checked and consistent with the last one kept (then kept). */
  async verifiedHead(): Promise<SignedTreeHead> {
    const head = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/head`)) as SignedTreeHead;
    this.checkSignature(head);
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

  private checkSignature(head: SignedTreeHead): void {
    const ok = head.server === this.directory.server && Number.isInteger(head.treeSize) &&
      verifyEd25519(b64(this.directory.ktPublicKey), ktHeadSigningBytes(head), b64(head.signature));
    if (!ok) throw new KtVerificationError('bad-head-signature', `tree head of ${head.server} is not signed by the published key`);
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
