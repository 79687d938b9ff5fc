import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import type { DeliveryReply, VetDestinationReply } from '@sealpost/contracts';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { GatewayMetrics } from '../gateway.metrics';
import { BoundedCache } from '@sealpost/redis';
import { PeerAnswerTooLarge, PeerHttp, PeerNoAnswer } from '../peers/peer-http';
import { PeerKeysRepository } from '../peers/peer-keys.repository';
import { PeerResolver, PeerUnanswered, PeerUnreachable } from '../peers/peer-resolver.service';
import { ProvenPeersRepository } from '../peers/proven-peers.repository';
import { PeerAddressRefused } from '../peers/ssrf-guard';
import { OutboxRepository } from './outbox.repository';

/** A destination that answered is not checked again for this long (per replica). */
const VETTED_MS = 3600_000;
/** The probe reads the peer's server-keys document, which is small; more is cut off (it answered all the same). */
const PROBE_MAX_ANSWER_BYTES = 64 * 1024;

interface Refusal {
  status: 422 | 503;
  error: 'unknown_server' | 'resolution_busy';
  /** The metric outcome of sealpost_federation_outbound_deliveries_total. */
  outcome: 'unknown_server' | 'unanswered_server' | 'resolution_busy';
  message: string;
  /** When a 503 may be retried (also when a remembered refusal is forgotten). */
  until: number;
}
/** 'known' (or it answered): not checked again for a while; 'unconnectable': a peer that is down, checked again next time. */
type Verdict = Refusal | 'known' | 'unconnectable';

/**
 * The send path's gate for destinations never heard from. A destination with pinned keys, a
 * proven peer or outbox rows is known and passes; any other must show, within
 * FEDERATION_RESOLVE_TIMEOUT_MS, that it resolves (static map or discovery) and that a server
 * answers at its federation URL (`GET …/federation/v1/server-keys`, no envelope sent) before
 * anything is sent to it or queued for it:
 * - it does not resolve (no such name, an invalid discovery document, a private address): 422
 *   `unknown_server`, as before;
 * - no answer within the deadline: 503 `unknown_server` with `retryAfter` — undecidable (it may
 *   be a homeserver that is down), and nothing was sent, so the sender may retry later;
 * - it answered, or refused the connection (a peer that is down): the send goes on as for any
 *   peer (tried at once, else queued).
 * A refusal is remembered per server name for FEDERATION_KEY_DISCOVERY_NEGATIVE_TTL_SECONDS (an
 * LRU of FEDERATION_KEY_CACHE_MAX_ENTRIES), so further sends to it are refused from memory,
 * without a connection. One check per name at a time (concurrent sends share it), at most
 * FEDERATION_RESOLVE_MAX_CONCURRENT at once (503 `resolution_busy` beyond). A check holds no
 * Postgres connection while it waits on the network, and shares no slot, lock or batcher with
 * sends to known peers.
 */
@Injectable()
export class DestinationVetting {
  private readonly vetted: BoundedCache<string, true>;
  private readonly refused: BoundedCache<string, Refusal>;
  private readonly checking = new Map<string, Promise<Verdict>>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly resolver: PeerResolver,
    private readonly http: PeerHttp,
    private readonly peerKeys: PeerKeysRepository,
    private readonly provenPeers: ProvenPeersRepository,
    private readonly outbox: OutboxRepository,
    private readonly metrics: GatewayMetrics,
  ) {
    this.vetted = new BoundedCache(config.federationLimits.keyCacheMaxEntries);
    this.refused = new BoundedCache(config.federationLimits.keyCacheMaxEntries);
  }

  /** Null when a send to `destination` may go on; else the refusal to answer the sender with. */
  async vet(destination: string): Promise<DeliveryReply | null> {
    return (await this.verdict(destination)).refusal;
  }

  /**
   * As `vet`, with how long a refusal holds (the relay keeps it that long and refuses sends to
   * the destination itself, without shipping their envelopes here). `resolution_busy` is about
   * this gateway, not the destination: it holds for 0 ms.
   */
  async verdict(destination: string): Promise<VetDestinationReply> {
    if (this.vetted.get(destination)) return { refusal: null, refusalForMs: 0 };
    const refusal = this.refused.get(destination) ?? (await this.check(destination));
    if (typeof refusal === 'string') return { refusal: null, refusalForMs: 0 };
    this.metrics.outbound.inc({ outcome: refusal.outcome });
    const refusalForMs = refusal.error === 'resolution_busy' ? 0 : Math.max(0, refusal.until - Date.now());
    if (refusal.status === 422) return { refusal: { status: 422, body: { error: refusal.error, message: refusal.message } }, refusalForMs };
    const retryAfter = Math.max(1, Math.ceil((refusal.until - Date.now()) / 1000));
    return { refusal: { status: 503, body: { error: refusal.error, message: refusal.message, retryAfter } }, refusalForMs };
  }

  private check(destination: string): Promise<Verdict> {
    const running = this.checking.get(destination);
    if (running) return running;
    if (this.checking.size >= this.config.federationLimits.resolveMaxConcurrent) {
      const message = 'too many servers never heard from are being looked up; retry shortly';
      return Promise.resolve({ status: 503, error: 'resolution_busy', outcome: 'resolution_busy', message, until: Date.now() + 1000 });
    }
    const checking = this.decide(destination)
      .then((verdict) => {
        if (verdict === 'known') this.vetted.set(destination, true, VETTED_MS);
        else if (typeof verdict !== 'string') this.refused.set(destination, verdict, verdict.until - Date.now());
        return verdict;
      })
      .finally(() => this.checking.delete(destination));
    this.checking.set(destination, checking);
    return checking;
  }

  private async decide(destination: string): Promise<Verdict> {
    if (await this.isKnownPeer(destination)) return 'known';
    const timeoutMs = this.config.federationLimits.resolveTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Refusal>((resolve) => {
      timer = setTimeout(() => resolve(this.unanswered(destination, `${destination} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.answers(destination, Date.now() + timeoutMs), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Pinned keys, a proven peer, or a backlog (perhaps kept by another replica): not a stranger. */
  private async isKnownPeer(destination: string): Promise<boolean> {
    return (
      (await this.peerKeys.list(destination)).length > 0 ||
      (await this.provenPeers.isProven(destination)) ||
      (await this.outbox.hasRows(destination))
    );
  }

  /** Resolves the destination and asks its federation URL for its server keys, by `deadlineAt`. */
  private async answers(destination: string, deadlineAt: number): Promise<Verdict> {
    let base: string;
    try {
      base = await this.resolver.federationUrl(destination);
    } catch (error) {
      if (error instanceof PeerUnanswered) return this.unanswered(destination, error.message);
      if (error instanceof PeerUnreachable || error instanceof PeerAddressRefused) return this.unknown(destination, error.message);
      throw error;
    }
    try {
      await this.http.fetch(`${base}/federation/v1/server-keys`, {
        maxAnswerBytes: PROBE_MAX_ANSWER_BYTES,
        timeoutMs: Math.max(1, deadlineAt - Date.now()),
      });
    } catch (error) {
      if (error instanceof PeerNoAnswer) return this.unanswered(destination, `${destination} did not answer: ${error.message}`);
      if (error instanceof PeerAddressRefused) return this.unknown(destination, error.message);
      if (!(error instanceof PeerAnswerTooLarge)) return 'unconnectable'; // a peer that is down: tried and queued as before
    }
    return 'known';
  }

  private unknown(destination: string, reason: string): Refusal {
    const message = `${destination} does not resolve to a homeserver (${reason})`;
    return { status: 422, error: 'unknown_server', outcome: 'unknown_server', message, until: Date.now() + this.negativeTtlMs() };
  }

  private unanswered(destination: string, reason: string): Refusal {
    const message = `${reason}; nothing was sent or stored, retry later`;
    return { status: 503, error: 'unknown_server', outcome: 'unanswered_server', message, until: Date.now() + this.negativeTtlMs() };
  }

  private negativeTtlMs(): number {
    return this.config.federationLimits.keyDiscoveryNegativeTtlSeconds * 1000;
  }
}
