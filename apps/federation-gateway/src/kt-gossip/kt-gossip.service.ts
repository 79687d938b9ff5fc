import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { verifyEd25519 } from '@sealpost/crypto';
import { KtKeysDocument, SignedTreeHead, ktHeadSigningBytes, trustedKtKeys, verifyConsistency } from '@sealpost/transparency';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { FederationHttpClient } from '../peers/federation-http.client';
import { PeerHttp } from '../peers/peer-http';
import { PeerResolver } from '../peers/peer-resolver.service';
import { ProvenPeers } from '../peers/proven-peers.service';
import { KtObservationsRepository } from './kt-observations.repository';
import { GatewayMetrics } from '../gateway.metrics';

const CONTACT_GOSSIP_MIN_INTERVAL_MS = 10_000;
const UNANSWERED = Symbol('unanswered');
const b64 = (s: string) => Buffer.from(s, 'base64');

export type GossipOutcome = 'consistent' | 'first-seen' | 'evidence' | 'refused' | 'unreachable';

/**
 * Key-transparency gossip: fetches each peer's signed tree head periodically and on federation
 * contact (peers: the static map and ProvenPeers), checks its signature with the peer's pinned tree-head key and its consistency with the
 * largest head kept for that peer (a consistency proof from the peer), and keeps any pair of
 * signed heads that cannot both be true as evidence of equivocation.
 */
@Injectable()
export class KtGossip implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KtGossip.name);
  private readonly lastContact = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly observations: KtObservationsRepository,
    private readonly client: FederationHttpClient,
    private readonly resolver: PeerResolver,
    private readonly proven: ProvenPeers,
    private readonly http: PeerHttp,
    private readonly metrics: GatewayMetrics,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.gossipAll(), this.config.ktGossipIntervalSeconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** A peer contacted us: gossip with it soon (at most every 10 s per peer). */
  contact(server: string): void {
    const last = this.lastContact.get(server) ?? 0;
    if (Date.now() - last < CONTACT_GOSSIP_MIN_INTERVAL_MS) return;
    this.lastContact.set(server, Date.now());
    void this.gossipWith(server).catch(() => undefined);
  }

  /**
   * One round with every gossip peer: the static peer map and the proven peers (ProvenPeers) —
   * never a server that was merely named as a destination (anyone can name one in a sealed send).
   */
  async gossipAll(): Promise<void> {
    let proven: string[];
    try {
      proven = await this.proven.all();
    } catch (error) {
      this.logger.warn(`kt gossip round with static peers only: ${(error as Error).message}`);
      proven = [];
    }
    const peers = new Set([...this.config.peers.keys(), ...proven]);
    peers.delete(this.config.serverName);
    for (const server of peers)
      await this.gossipWith(server).catch((error: Error) => this.logger.warn(`kt gossip with ${server}: ${error.message}`));
  }

  async gossipWith(server: string): Promise<GossipOutcome> {
    const outcome = await this.gossipOnce(server);
    this.metrics.gossip.inc({ peer: server, outcome });
    return outcome;
  }

  private async gossipOnce(server: string): Promise<GossipOutcome> {
    const key = await this.treeHeadKey(server);
    if (!key) return 'unreachable';
    let head: SignedTreeHead;
    try {
      const answer = await this.client.request<SignedTreeHead>(server, 'GET', '/federation/v1/kt/head');
      if (answer.status !== 200) return 'unreachable';
      head = answer.body;
    } catch {
      return 'unreachable';
    }
    if (head?.server !== server || !(await this.signedByTrustedKey(server, key, head))) {
      this.logger.warn(`refused a tree head of ${server}: not signed by its pinned key or one it endorsed`);
      return 'refused';
    }
    const kept = await this.observations.largest(server);
    if (!kept) {
      await this.observations.observe(head, true);
      return 'first-seen';
    }
    const problem = await this.inconsistency(server, kept, head);
    // Not knowing is not evidence: a peer that did not answer is asked again next round.
    if (problem === UNANSWERED) return 'unreachable';
    await this.observations.observe(head, !problem);
    if (!problem) return 'consistent';
    await this.observations.addEvidence(server, kept, head, problem);
    this.logger.error(`EQUIVOCATION by ${server}: ${problem} (kept as evidence)`);
    return 'evidence';
  }

  /**
   * Null when `a` and `b` can both be true; otherwise why not. A peer that answers the proof
   * request with a refusal (4xx: e.g. "the log has fewer leaves" than its own signed head) or with
   * a proof that does not verify has equivocated; one that fails to answer (network, 5xx, 429) is
   * UNANSWERED.
   */
  private async inconsistency(server: string, a: SignedTreeHead, b: SignedTreeHead): Promise<string | typeof UNANSWERED | null> {
    const [older, newer] = a.treeSize <= b.treeSize ? [a, b] : [b, a];
    if (older.treeSize === newer.treeSize) return older.rootHash === newer.rootHash ? null : `two roots for tree size ${older.treeSize}`;
    if (older.treeSize === 0) return null;
    const answer = await this.client
      .request<{ proof?: string[] }>(server, 'GET', `/federation/v1/kt/consistency?from=${older.treeSize}&to=${newer.treeSize}`)
      .catch(() => null);
    if (!answer || answer.status >= 500 || answer.status === 429 || answer.status === 401) return UNANSWERED;
    if (answer.status !== 200 || !Array.isArray(answer.body?.proof))
      return `no consistency proof from ${older.treeSize} to ${newer.treeSize} (HTTP ${answer.status})`;
    const ok = verifyConsistency(older.treeSize, newer.treeSize, b64(older.rootHash), b64(newer.rootHash), answer.body.proof.map(b64));
    return ok ? null : `head ${newer.treeSize} does not extend head ${older.treeSize}`;
  }

  /**
   * Signed by the pinned key, or by a later key of the peer that `/federation/v1/kt/keys` shows
   * endorsed, step by step, from the pinned one (the peer rotated its tree-head key).
   */
  private async signedByTrustedKey(server: string, pinned: Buffer, head: SignedTreeHead): Promise<boolean> {
    const signedBy = (key: Buffer) => verifyEd25519(key, ktHeadSigningBytes(head), b64(head.signature ?? ''));
    if (signedBy(pinned)) return true;
    const answer = await this.client.request<KtKeysDocument>(server, 'GET', '/federation/v1/kt/keys').catch(() => null);
    if (!answer || answer.status !== 200 || answer.body?.server !== server) return false;
    const key = trustedKtKeys(answer.body, pinned.toString('base64')).get(head.keyId);
    return key !== undefined && signedBy(key);
  }

  /** The peer's tree-head key, pinned at first sight from its discovery document. */
  private async treeHeadKey(server: string): Promise<Buffer | null> {
    const pinned = await this.observations.pinnedKey(server);
    if (pinned) return pinned.publicKey;
    try {
      const base = await this.resolver.federationUrl(server);
      const answer = await this.http.fetch(`${base}/.well-known/sealpost`);
      const doc = JSON.parse(answer.body.toString('utf8')) as { server?: string; ktPublicKey?: string };
      if (doc.server !== server || typeof doc.ktPublicKey !== 'string' || b64(doc.ktPublicKey).length !== 32) return null;
      await this.observations.pinKey(server, 'discovery', b64(doc.ktPublicKey));
      return b64(doc.ktPublicKey);
    } catch {
      return null;
    }
  }
}
