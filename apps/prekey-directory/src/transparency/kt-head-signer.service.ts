import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { SignedTreeHead, ktHeadSigningBytes } from '@sealpost/transparency';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KtHeadsRepository, StoredHead } from './kt-heads.repository';
import { KtSigningKey } from './kt-signing-key.service';
import { DirectoryMetrics } from '../directory.metrics';
import { TransparencyLog } from './transparency-log.service';

/**
 * Signs a tree head `{treeSize, rootHash, timestamp}` at least once per epoch (KT_EPOCH_SECONDS):
 * a new head when the log grew, a re-signed one with a fresh timestamp otherwise.
 */
@Injectable()
export class KtHeadSigner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KtHeadSigner.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    private readonly log: TransparencyLog,
    private readonly heads: KtHeadsRepository,
    private readonly key: KtSigningKey,
    private readonly metrics: DirectoryMetrics,
  ) {}

  /** After every module has initialised (the signing key is loaded by then). */
  async onApplicationBootstrap(): Promise<void> {
    await this.signNow().catch((error: Error) => this.logger.warn(`could not sign a tree head: ${error.message}`));
    this.timer = setInterval(() => void this.signNow().catch((error: Error) => this.logger.warn(`could not sign a tree head: ${error.message}`)), this.config.ktEpochSeconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Signs and stores a head of the current log. */
  async signNow(): Promise<SignedTreeHead> {
    const treeSize = await this.log.treeSize();
    const rootHash = (await this.log.root(treeSize)).toString('base64');
    const body = { server: this.config.serverName, treeSize, rootHash, timestamp: Date.now() };
    const signature = this.key.sign(ktHeadSigningBytes(body));
    await this.heads.save({ treeSize, rootHash: Buffer.from(rootHash, 'base64'), timestamp: body.timestamp, signature, keyId: this.key.keyId });
    this.metrics.ktHeadsSigned.inc();
    return { ...body, keyId: this.key.keyId, signature: signature.toString('base64') };
  }

  async latest(): Promise<SignedTreeHead> {
    const head = await this.heads.latest();
    return head ? this.toJson(head) : this.signNow();
  }

  async bySize(treeSize: number): Promise<SignedTreeHead | null> {
    const head = await this.heads.bySize(treeSize);
    return head && this.toJson(head);
  }

  private toJson(head: StoredHead): SignedTreeHead {
    return {
      server: this.config.serverName, treeSize: head.treeSize, rootHash: head.rootHash.toString('base64'),
      timestamp: head.timestamp, keyId: head.keyId, signature: head.signature.toString('base64'),
    };
  }
}
