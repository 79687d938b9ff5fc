import { Controller, Get, Param, Query } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DirectoryPattern, ValidationError, parseAddress } from '@sealpost/contracts';
import { ApiError, busErrorFrom, notFound } from '@sealpost/http';
import { KtKeysDocument, SignedTreeHead, decodeKtRecord } from '@sealpost/transparency';
import { KtHeadSigner } from './kt-head-signer.service';
import { KtLogRepository, LeafRow } from './kt-log.repository';
import { KtSigningKey } from './kt-signing-key.service';
import { TransparencyLog } from './transparency-log.service';

/** A pending record asks for a covering head at once; signing one takes milliseconds (bench:kt), so ask again soon. */
const PENDING_RETRY_AFTER_MS = 250;

const b64 = (hashes: Buffer[]) => hashes.map((h) => h.toString('base64'));

function positiveInt(value: unknown, field: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9]{1,15}$/.test(value) || Number(value) < min)
    throw new ValidationError(field, `must be an integer ≥ ${min}`);
  return Number(value);
}

/** The public, unauthenticated key-transparency API: anyone may audit the log. */
@Controller('v1/kt')
export class KtController {
  constructor(
    private readonly log: TransparencyLog,
    private readonly leaves: KtLogRepository,
    private readonly heads: KtHeadSigner,
    private readonly key: KtSigningKey,
  ) {}

  @Get('head')
  head(): Promise<SignedTreeHead> {
    return this.heads.latest();
  }

  /** The tree-head keys, oldest first, each later one endorsed by the one before. */
  @Get('keys')
  keys(): KtKeysDocument {
    return this.key.keysDocument();
  }

  /** `?address=&version=[&treeSize=]`: the record, its leaf index and audit path against a signed head. */
  @Get('inclusion')
  async inclusion(@Query('address') rawAddress: unknown, @Query('version') rawVersion: unknown, @Query('treeSize') rawSize: unknown) {
    const address = parseAddress(rawAddress);
    const version = positiveInt(rawVersion, 'version', 1);
    if (version === undefined) throw new ValidationError('version', 'is required');
    const head = await this.headAt(positiveInt(rawSize, 'treeSize', 1));
    const leaf = await this.leaves.leafByVersion(`${address.localpart}@${address.server}`, version);
    if (!leaf) throw notFound('record');
    if (leaf.leafIndex >= head.treeSize)
      throw new ApiError(404, 'not_in_tree', `record is at leaf ${leaf.leafIndex}, after tree size ${head.treeSize}`);
    return {
      record: decodeKtRecord(leaf.record),
      leaf: leaf.record.toString('base64'),
      leafIndex: leaf.leafIndex,
      treeSize: head.treeSize,
      auditPath: b64(await this.log.inclusion(leaf.leafIndex, head.treeSize)),
      head,
    };
  }

  @Get('consistency')
  async consistency(@Query('from') rawFrom: unknown, @Query('to') rawTo: unknown) {
    const from = positiveInt(rawFrom, 'from', 1);
    const to = positiveInt(rawTo, 'to', 1);
    if (from === undefined || to === undefined) throw new ValidationError('from', 'from and to are required');
    if (from > to) throw new ValidationError('from', 'must not exceed to');
    if (to > (await this.log.treeSize())) throw new ApiError(404, 'not_in_tree', `the log has fewer than ${to} leaves`);
    return { from, to, proof: b64(await this.log.consistency(from, to)) };
  }

  /**
   * Every record of an address in the latest signed head, oldest first, with leaf indexes; and in
   * `pending` the records already logged but not yet covered by that head (unproven until a later
   * head covers them — clients treat them as pending, never as proven). A pending record makes
   * this replica sign a covering head now; `retryAfterMs` says when to ask again.
   */
  @Get('history/:address')
  async history(@Param('address') rawAddress: string) {
    const address = parseAddress(rawAddress);
    const name = `${address.localpart}@${address.server}`;
    const head = await this.heads.latest();
    const rows = await this.leaves.history(name, head.treeSize);
    const uncovered = await this.leaves.uncovered(name, head.treeSize);
    if (uncovered.length > 0) this.heads.requestCover();
    const asJson = (r: LeafRow) => ({
      leafIndex: r.leafIndex,
      version: r.version,
      leaf: r.record.toString('base64'),
      record: decodeKtRecord(r.record),
    });
    return {
      address: name,
      head,
      records: rows.map(asJson),
      ...(uncovered.length > 0 ? { pending: uncovered.map(asJson), retryAfterMs: PENDING_RETRY_AFTER_MS } : {}),
    };
  }

  @MessagePattern(DirectoryPattern.KtHead)
  busHead(): Promise<SignedTreeHead> {
    return this.heads.latest();
  }

  @MessagePattern(DirectoryPattern.KtConsistency)
  async busConsistency(
    @Payload() request: { from?: number; to?: number },
  ): Promise<{ proof: string[] } | { error: string; message: string; status: number }> {
    const { from, to } = request ?? {};
    if (
      !Number.isInteger(from) ||
      !Number.isInteger(to) ||
      (from as number) < 1 ||
      (from as number) > (to as number) ||
      (to as number) > (await this.log.treeSize())
    ) {
      return { status: 400, error: 'invalid_request', message: 'from/to out of range' };
    }
    return { proof: b64(await this.log.consistency(from as number, to as number)) };
  }

  @MessagePattern(DirectoryPattern.KtInclusion)
  async busInclusion(@Payload() request: { address?: unknown; version?: unknown; treeSize?: unknown }) {
    try {
      return await this.inclusion(
        request?.address,
        request?.version === undefined ? undefined : String(request.version),
        request?.treeSize === undefined ? undefined : String(request.treeSize),
      );
    } catch (error) {
      return busErrorFrom(error);
    }
  }

  @MessagePattern(DirectoryPattern.KtKeys)
  busKeys(): KtKeysDocument {
    return this.key.keysDocument();
  }

  @MessagePattern(DirectoryPattern.KtPublicKey)
  busPublicKey(): { keyId: string; publicKey: string } {
    return { keyId: this.key.keyId, publicKey: this.key.publicKey.toString('base64') };
  }

  private async headAt(treeSize: number | undefined): Promise<SignedTreeHead> {
    if (treeSize === undefined) return this.heads.latest();
    const head = await this.heads.bySize(treeSize);
    if (!head) throw new ApiError(404, 'no_such_head', `no signed tree head of size ${treeSize}`);
    return head;
  }
}
