import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import type { DirectoryConfig } from '@sealpost/config';
import { PG_POOL, withTransaction } from '@sealpost/db';
import { SignedTreeHead, ktHeadSigningBytes } from '@sealpost/transparency';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KtHeadsRepository, StoredHead } from './kt-heads.repository';
import { KtSigningKey } from './kt-signing-key.service';
import { DirectoryMetrics } from '../directory.metrics';
import { TransparencyLog } from './transparency-log.service';

type SignReason = 'prompt' | 'epoch';

/**
 * Signs tree heads `{treeSize, rootHash, timestamp}` so that a logged record becomes provable
 * promptly and every head stays append-consistent across replicas:
 * - **prompt**: every KT_PROMPT_HEAD_MS each replica checks whether the log grew past the latest
 *   signed head and, if so, signs one covering it (appends of that interval share one head). A
 *   client that finds a record not yet covered (`GET /v1/kt/history`) also asks for one at once
 *   (`coverLoggedRecords`); concurrent asks share one signing.
 * - **epoch**: at least once per KT_EPOCH_SECONDS a head is signed even when the log did not grow
 *   (a re-signed head with a fresh timestamp), so clients can tell a live log from a frozen one.
 * Every signing holds one Postgres advisory lock (`KtHeadsRepository.lockSigner`) and reads the
 * tree size under it, so replicas sign one at a time and never store a larger tree's head before a
 * smaller one's.
 */
@Injectable()
export class KtHeadSigner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KtHeadSigner.name);
  private epochTimer?: NodeJS.Timeout;
  private promptTimer?: NodeJS.Timeout;
  /** The covering signing not yet started: every caller until it starts shares it. */
  private queuedCover?: Promise<SignedTreeHead>;
  private running: Promise<unknown> = Promise.resolve();
  private failing = false;

  constructor(
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly log: TransparencyLog,
    private readonly heads: KtHeadsRepository,
    private readonly key: KtSigningKey,
    private readonly metrics: DirectoryMetrics,
  ) {}

  /** After every module has initialised (the signing key is loaded by then). */
  async onApplicationBootstrap(): Promise<void> {
    await this.attempt(() => this.signNow());
    this.epochTimer = setInterval(() => void this.attempt(() => this.signNow()), this.config.ktEpochSeconds * 1000);
    this.promptTimer = setInterval(() => void this.attempt(() => this.coverLoggedRecords()), this.config.ktPromptHeadMs);
    this.epochTimer.unref();
    this.promptTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.epochTimer);
    clearInterval(this.promptTimer);
  }

  /** Signs and stores a head of the current log, even if the latest head already covers it (the epoch head). */
  signNow(): Promise<SignedTreeHead> {
    return this.serialised(() => this.sign('epoch'));
  }

  /**
   * A signed head covering every record committed before this call: the latest head if it already
   * does, else a new one. Concurrent callers share one signing.
   */
  coverLoggedRecords(): Promise<SignedTreeHead> {
    this.queuedCover ??= this.serialised(() => {
      this.queuedCover = undefined;
      return this.sign('prompt');
    });
    return this.queuedCover;
  }

  /** `coverLoggedRecords` without waiting for it: a failure is counted and logged as the timer's are. */
  requestCover(): void {
    void this.attempt(() => this.coverLoggedRecords());
  }

  async latest(): Promise<SignedTreeHead> {
    const head = await this.heads.latest();
    return head ? this.toJson(head) : this.signNow();
  }

  async bySize(treeSize: number): Promise<SignedTreeHead | null> {
    const head = await this.heads.bySize(treeSize);
    return head && this.toJson(head);
  }

  /** One signing of this process at a time (the advisory lock orders them across processes). */
  private serialised(sign: () => Promise<SignedTreeHead>): Promise<SignedTreeHead> {
    const next = this.running.then(sign);
    this.running = next.catch(() => undefined);
    return next;
  }

  private sign(reason: SignReason): Promise<SignedTreeHead> {
    return withTransaction(this.pool, async (tx) => {
      await this.heads.lockSigner(tx);
      const treeSize = await this.log.treeSize(tx);
      const latest = await this.heads.latest(tx);
      if (reason === 'prompt' && latest && latest.treeSize >= treeSize) return this.toJson(latest);
      const rootHash = await this.log.root(treeSize);
      // Never older than the head it follows, even if this replica's clock is behind another's.
      const timestamp = Math.max(Date.now(), latest?.timestamp ?? 0);
      const body = { server: this.config.serverName, treeSize, rootHash: rootHash.toString('base64'), timestamp };
      const signature = this.key.sign(ktHeadSigningBytes(body));
      // Only a stored head is ever served: a client proves records at its treeSize (GET /v1/kt/inclusion).
      if (!(await this.heads.save({ treeSize, rootHash, timestamp, signature, keyId: this.key.keyId }, tx))) {
        throw new Error(`a head of size ${treeSize} with another root is already stored; not signing a second one`);
      }
      this.metrics.ktHeadsSigned.inc({ reason });
      return { ...body, keyId: this.key.keyId, signature: signature.toString('base64') };
    });
  }

  /** Timer work: a failure is counted every time and logged once per outage. */
  private async attempt(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
      if (this.failing) this.logger.log('tree heads are signed again');
      this.failing = false;
    } catch (error) {
      this.metrics.ktHeadSignFailures.inc();
      if (!this.failing) this.logger.warn(`could not sign a tree head (logged once until it works again): ${(error as Error).message}`);
      this.failing = true;
    }
  }

  private toJson(head: StoredHead): SignedTreeHead {
    return {
      server: this.config.serverName,
      treeSize: head.treeSize,
      rootHash: head.rootHash.toString('base64'),
      timestamp: head.timestamp,
      keyId: head.keyId,
      signature: head.signature.toString('base64'),
    };
  }
}
