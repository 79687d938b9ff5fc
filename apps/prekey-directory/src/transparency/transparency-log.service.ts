import { Inject, Injectable } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { Queryable } from '@sealpost/db';
import {
  KtRecord,
  NodeKey,
  appendLeaves,
  appendNodes,
  consistencyNodes,
  consistencyPath,
  encodeKtRecord,
  inclusionNodes,
  inclusionPath,
  leafHash,
  rootHash,
  rootNodes,
} from '@sealpost/transparency';
import { DevicesRepository } from '../devices/devices.repository';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KtLogRepository } from './kt-log.repository';

/**
 * The key-transparency log of this directory. Every change of an account's identity key or
 * device list appends that account's new device-list record, in the same transaction as the
 * change itself. Roots and proofs are computed from stored perfect-subtree hashes: O(log n) rows
 * read in one query, whatever the size of the log.
 */
@Injectable()
export class TransparencyLog {
  constructor(
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    private readonly log: KtLogRepository,
    private readonly devices: DevicesRepository,
  ) {}

  /** Appends the account's current device list as its next record. Call inside the changing transaction. */
  async appendDeviceList(accountId: string, tx: Queryable): Promise<{ leafIndex: number; version: number }> {
    const size = await this.log.lockTreeSize(tx);
    const account = await this.devices.deviceListOfAccount(accountId, tx);
    if (!account) throw new Error('account vanished while appending to the transparency log');
    const address = `${account.localpart}@${this.config.serverName}`;
    const previous = await this.log.lastRecord(address, tx);
    const record: KtRecord = {
      address,
      version: (previous?.version ?? 0) + 1,
      identityKey: account.identityKey.toString('base64'),
      devices: account.devices,
      prevHash: previous ? previous.leafHash.toString('base64') : null,
      timestamp: Date.now(),
    };
    await this.appendRecords([record], size, tx);
    return { leafIndex: size, version: record.version };
  }

  /** Appends records at the end of a log of `size` leaves (the caller holds the lock). */
  async appendRecords(records: KtRecord[], size: number, tx: Queryable): Promise<void> {
    const encoded = records.map((r) => encodeKtRecord(r));
    const hashes = encoded.map((bytes) => leafHash(bytes));
    const needed = appendNodes(size, records.length);
    const stored = await this.log.readNodes(needed, tx);
    const created = appendLeaves(size, hashes, (key) => lookupIn(stored, key));
    await this.log.insertLeaves(
      records.map((r, i) => ({ leafIndex: size + i, address: r.address, version: r.version, record: encoded[i], leafHash: hashes[i] })),
      tx,
    );
    await this.log.insertNodes(
      [...created.entries()].map(([k, hash]) => {
        const [level, index] = k.split(':').map(Number);
        return { level, index, hash };
      }),
      tx,
    );
    await this.log.setTreeSize(size + records.length, tx);
  }

  /** The committed tree size (inside `db`'s transaction when one is given). */
  async treeSize(db?: Queryable): Promise<number> {
    return this.log.treeSize(db);
  }

  async root(treeSize: number): Promise<Buffer> {
    const nodes = await this.log.readNodes(rootNodes(treeSize));
    return rootHash(treeSize, (key) => lookupIn(nodes, key));
  }

  async inclusion(leafIndex: number, treeSize: number): Promise<Buffer[]> {
    const nodes = await this.log.readNodes(inclusionNodes(leafIndex, treeSize));
    return inclusionPath(leafIndex, treeSize, (key) => lookupIn(nodes, key));
  }

  async consistency(fromSize: number, toSize: number): Promise<Buffer[]> {
    const nodes = await this.log.readNodes(consistencyNodes(fromSize, toSize));
    return consistencyPath(fromSize, toSize, (key) => lookupIn(nodes, key));
  }
}

function lookupIn(nodes: Map<string, Buffer>, key: NodeKey): Buffer {
  const hash = nodes.get(`${key.level}:${key.index}`);
  if (!hash) throw new Error(`transparency log node ${key.level}:${key.index} missing`);
  return hash;
}
