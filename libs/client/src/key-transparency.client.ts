import { verifyEd25519 } from '@sealpost/crypto';
import {
  KtKeysDocument,
  KtRecord,
  SignedTreeHead,
  decodeKtRecord,
  ktHeadSigningBytes,
  leafHash,
  trustedKtKeys,
  verifyConsistency,
  verifyInclusion,
} from '@sealpost/transparency';
import { KtFailureKind, KtVerificationError } from './kt-errors';
import { KtStateStore } from './kt-state.store';
import { PendingRecord, PendingWindow, ServedLeaf, continuingPendingRecords } from './pending-records';

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

/** A record proven included at `head`; `leaf` is its exact logged bytes, base64. */
export interface VerifiedRecord {
  record: KtRecord;
  leafIndex: number;
  head: SignedTreeHead;
  leaf: string;
}

/** An address's records: `proven` at a verified head, and `pending` (logged, not yet covered; unproven). */
export interface HistoryView {
  head: SignedTreeHead;
  proven: VerifiedRecord[];
  pending: PendingRecord[];
  retryAfterMs: number;
}

/**
 * What a bundle is: `verified` against a signed head, or `pending` — exactly the directory's
 * newest logged record, which no signed head covers yet (appended moments ago). Encrypting to a
 * pending bundle is the caller's choice; `verifyBundle` never does.
 */
export type BundleCheck =
  | { status: 'verified'; verified: VerifiedRecord }
  | { status: 'pending'; record: KtRecord; leafIndex: number; head: SignedTreeHead; retryAfterMs: number; pendingSinceMs: number };

export interface KtClientOptions {
  /** How long `verifyBundle` and `OwnerMonitor` wait for a head to cover a pending record before answering. Default 5 s. */
  pendingWaitMs?: number;
  /**
   * How long (this client's clock, from the first sighting) an address's record may stay logged
   * but uncovered before it counts as hidden: then `ghost-device` / `not-in-log` /
   * `identity-key-mismatch` / `unlogged-device`, as if it were not logged. Default 120 s, two
   * default epochs: an honest directory covers a record within about a second (KT_PROMPT_HEAD_MS)
   * and signs at least once per epoch.
   */
  maxPendingMs?: number;
  now?: () => number;
}

const DEFAULT_PENDING_WAIT_MS = 5_000;
const DEFAULT_MAX_PENDING_MS = 120_000;
const RETRY_FLOOR_MS = 50;
const RETRY_CEILING_MS = 2_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A bundle as the directory answers `GET /v1/keys/{address}/…`. */
export interface BundleToCheck {
  address: string;
  identityKey: string;
  devices: { deviceId: number; registrationId: number }[];
}

const b64 = (s: string) => Buffer.from(s, 'base64');

/**
 * The client side of key transparency: verifies signed tree heads and their consistency with the
 * last head this client kept, and that the identity key and devices it is about to encrypt to are
 * in the log at a verified head. Throws KtVerificationError otherwise.
 */
export class KeyTransparencyClient {
  /** Keys trusted through endorsements from the pinned one, by keyId (filled when a head needs one). */
  private endorsedKeys = new Map<string, Buffer>();
  private readonly pendingWindow: PendingWindow;
  private readonly pendingWaitMs: number;
  private readonly now: () => number;

  constructor(
    private readonly directory: KtDirectory,
    private readonly store: KtStateStore,
    private readonly fetchJson: FetchJson,
    options: KtClientOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.pendingWaitMs = options.pendingWaitMs ?? DEFAULT_PENDING_WAIT_MS;
    this.pendingWindow = new PendingWindow(store, options.maxPendingMs ?? DEFAULT_MAX_PENDING_MS, this.now);
  }

  /** The directory's current head, signature checked and consistent with the last one kept (then kept). */
  async verifiedHead(): Promise<SignedTreeHead> {
    const head = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/head`)) as SignedTreeHead;
    const last = await this.acceptHead(head);
    return last && last.treeSize > head.treeSize ? last : head;
  }

  /**
   * Checks a head the directory served (its signature, and its consistency with the head this
   * client kept), keeps it if it is the larger, and returns the head kept before.
   */
  private async acceptHead(head: SignedTreeHead): Promise<SignedTreeHead | null> {
    await this.checkSignature(head);
    const last = await this.store.lastHead(this.directory.server);
    if (last) await this.checkConsistency(last, head);
    if (!last || head.treeSize >= last.treeSize) await this.store.saveHead(head);
    return last;
  }

  /** The record of `address` at `version`, proven included in a verified head. */
  async verifiedRecord(address: string, version: number, head?: SignedTreeHead): Promise<VerifiedRecord> {
    const at = head ?? (await this.verifiedHead());
    const proof = (await this.fetchJson(
      `${this.directory.directoryUrl}/v1/kt/inclusion?address=${encodeURIComponent(address)}&version=${version}&treeSize=${at.treeSize}`,
    )) as {
      leaf: string;
      leafIndex: number;
      treeSize: number;
      auditPath: string[];
    };
    const record = decodeKtRecord(b64(proof.leaf));
    if (!record || record.address !== address || record.version !== version)
      throw new KtVerificationError('bad-inclusion-proof', 'the served record does not match the request');
    const ok =
      proof.treeSize === at.treeSize &&
      verifyInclusion(leafHash(b64(proof.leaf)), proof.leafIndex, at.treeSize, proof.auditPath.map(b64), b64(at.rootHash));
    if (!ok)
      throw new KtVerificationError('bad-inclusion-proof', `record ${address} v${version} is not in the tree of size ${at.treeSize}`);
    return { record, leafIndex: proof.leafIndex, head: at, leaf: proof.leaf };
  }

  /** All records of `address` in the log, each proven included, oldest first. */
  async verifiedHistory(address: string): Promise<VerifiedRecord[]> {
    return (await this.historyWithPending(address)).proven;
  }

  /**
   * The proven history of `address`, and the records logged after the head that continue it
   * (unproven). Every record is proven against the head the directory listed it under — the `head`
   * of the same history answer, checked as `verifiedHead` checks one — never against a head
   * fetched by another request: replicas sign heads at any moment, so a head fetched before the
   * history may predate records the history lists (their inclusion at it does not exist), and a
   * head fetched after it may cover records the history showed pending.
   */
  async historyWithPending(address: string): Promise<HistoryView> {
    const history = (await this.fetchJson(`${this.directory.directoryUrl}/v1/kt/history/${encodeURIComponent(address)}`)) as {
      head: SignedTreeHead;
      records: { version: number }[];
      pending?: ServedLeaf[];
      retryAfterMs?: number;
    };
    const head = history?.head;
    await this.acceptHead(head);
    const proven: VerifiedRecord[] = [];
    for (const { version } of history.records) proven.push(await this.verifiedRecord(address, version, head));
    const pending = continuingPendingRecords(address, head, proven.at(-1), history.pending);
    const retryAfterMs = Math.min(Math.max(Number(history.retryAfterMs) || RETRY_FLOOR_MS, RETRY_FLOOR_MS), RETRY_CEILING_MS);
    return { head, proven, pending, retryAfterMs };
  }

  /**
   * Before encrypting to a bundle: its identity key and every device in it must be in the
   * latest logged record of the address, proven included at a verified head. A device the log
   * does not show is a ghost: refused. A record logged moments ago waits (up to `pendingWaitMs`)
   * for its covering head; still uncovered, it is `record-pending` (retry later), and past
   * `maxPendingMs` a ghost like any other.
   */
  async verifyBundle(bundle: BundleToCheck): Promise<VerifiedRecord> {
    const outcome = await this.checkBundle(bundle);
    if (outcome.status === 'verified') return outcome.verified;
    throw new KtVerificationError(
      'record-pending',
      `${bundle.address} v${outcome.record.version} is logged at leaf ${outcome.leafIndex} but no signed head covers it yet`,
      outcome.retryAfterMs,
    );
  }

  /** As verifyBundle, but a pending bundle is answered (not thrown) for a caller that opts in to encrypt to it. */
  async checkBundle(bundle: BundleToCheck, options: { waitMs?: number } = {}): Promise<BundleCheck> {
    const deadline = this.now() + (options.waitMs ?? this.pendingWaitMs);
    for (;;) {
      const outcome = await this.checkBundleOnce(bundle);
      const left = deadline - this.now();
      if (outcome.status === 'verified' || left <= 0) return outcome;
      await sleep(Math.min(outcome.retryAfterMs, left));
    }
  }

  /** How long checks wait for a covering head by default (`pendingWaitMs`). */
  get pendingWaitMsDefault(): number {
    return this.pendingWaitMs;
  }

  /**
   * Whether `address` may still have `firstUnprovenVersion` pending (bounded by `maxPendingMs`
   * from this client's first sighting), and since when.
   */
  admitPending(address: string, firstUnprovenVersion: number): Promise<{ admitted: boolean; sinceMs: number }> {
    return this.pendingWindow.admit(address, firstUnprovenVersion);
  }

  /** Every record of `address` the directory served was proven: a later pending episode starts afresh. */
  clearPending(address: string): Promise<void> {
    return this.pendingWindow.clear(address);
  }

  private async checkBundleOnce(bundle: BundleToCheck): Promise<BundleCheck> {
    const view = await this.historyWithPending(bundle.address);
    const latest = view.proven.at(-1);
    const failure = bundleMismatch(bundle, latest?.record);
    if (!failure && latest) {
      if (view.pending.length === 0) await this.pendingWindow.clear(bundle.address);
      return { status: 'verified', verified: latest };
    }
    const newest = view.pending.at(-1);
    const refusal = new KtVerificationError(failure!.kind, failure!.message);
    if (!newest || bundleMismatch(bundle, newest.record)) throw refusal;
    const { admitted, sinceMs } = await this.pendingWindow.admit(bundle.address, view.pending[0].record.version);
    if (!admitted) {
      throw new KtVerificationError(
        failure!.kind,
        `${failure!.message}: shown logged at leaf ${newest.leafIndex} but not covered by a signed head since ${new Date(sinceMs).toISOString()}`,
      );
    }
    return {
      status: 'pending',
      record: newest.record,
      leafIndex: newest.leafIndex,
      head: view.head,
      retryAfterMs: view.retryAfterMs,
      pendingSinceMs: sinceMs,
    };
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
      if (older.rootHash !== newer.rootHash)
        throw new KtVerificationError('inconsistent-head', `two different roots for size ${older.treeSize}`);
      return;
    }
    if (older.treeSize === 0) return;
    const proof = (await this.fetchJson(
      `${this.directory.directoryUrl}/v1/kt/consistency?from=${older.treeSize}&to=${newer.treeSize}`,
    )) as { proof: string[] };
    if (!verifyConsistency(older.treeSize, newer.treeSize, b64(older.rootHash), b64(newer.rootHash), proof.proof.map(b64))) {
      throw new KtVerificationError('inconsistent-head', `head ${newer.treeSize} does not extend head ${older.treeSize}`);
    }
  }
}

/** Why `bundle` is not exactly `record` (identity key, and every device with its registration id), or null. */
function bundleMismatch(bundle: BundleToCheck, record: KtRecord | undefined): { kind: KtFailureKind; message: string } | null {
  if (!record) return { kind: 'not-in-log', message: `${bundle.address} has no record in the log` };
  if (record.identityKey !== bundle.identityKey) {
    return { kind: 'identity-key-mismatch', message: `the served identity key of ${bundle.address} is not the logged one` };
  }
  for (const device of bundle.devices) {
    const logged = record.devices.find((d) => d.deviceId === device.deviceId && d.registrationId === device.registrationId);
    if (!logged) return { kind: 'ghost-device', message: `device ${device.deviceId} of ${bundle.address} is not in the log` };
  }
  return null;
}
