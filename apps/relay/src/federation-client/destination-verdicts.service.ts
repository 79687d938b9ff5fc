import { Injectable } from '@nestjs/common';
import type { DeliveryReply } from '@sealpost/contracts';
import { ApiError } from '@sealpost/http';
import { ExpiringCache } from '../directory-client/expiring-cache';
import { RelayMetrics } from '../relay.metrics';
import { FederationClient } from './federation-client.service';

/**
 * A destination the gateway let sends go to (or that took a delivery) is not asked about again
 * for this long: sends to known peers pay no extra bus round trip. The gateway still vets every
 * delivery, so a stale "go on" costs only the shipping of one send's envelopes.
 */
const ACCEPTED_FOR_MS = 10 * 60_000;
/** A refusal is kept for as long as the gateway says it holds, but never longer than this. */
const MAX_REFUSAL_MS = 60 * 60_000;
/** Destinations remembered each way (per relay replica); the oldest go first. */
const MAX_ENTRIES = 10_000;

interface KeptRefusal {
  reply: DeliveryReply;
  until: number;
}

/**
 * What this relay knows of other homeservers as destinations of sends, so that envelopes for a
 * server the gateway refuses (one never heard from that does not resolve or answer, issue 9) are
 * never parsed into a delivery, put on the bus nor parsed again by the gateway:
 * - `refusalFor` answers from memory only (used before a request's body is read);
 * - `admit` asks the gateway (`federation.vet-destination`, a few bytes) about a destination it
 *   has no verdict for, one question per destination at a time, and throws the refusal;
 * - a refusal is kept until its Retry-After / the gateway's negative TTL, a "go on" for
 *   ACCEPTED_FOR_MS, each in a bounded map.
 * Order and durability of accepted sends are the delivery's, unchanged: a verdict only decides
 * whether the envelopes are handed over at all.
 */
@Injectable()
export class DestinationVerdicts {
  private readonly accepted = new ExpiringCache<string, true>(ACCEPTED_FOR_MS, MAX_ENTRIES);
  private readonly refused = new ExpiringCache<string, KeptRefusal>(MAX_REFUSAL_MS, MAX_ENTRIES);
  private readonly asking = new Map<string, Promise<void>>();

  constructor(
    private readonly federation: FederationClient,
    private readonly metrics: RelayMetrics,
  ) {}

  /** The refusal to answer a send to `destination` with, if one is remembered (no I/O). */
  refusalFor(destination: string): ApiError | null {
    const kept = this.refused.get(destination);
    if (!kept) return null;
    if (kept.until <= Date.now()) {
      this.refused.delete(destination);
      return null;
    }
    this.metrics.destinationVerdicts.inc({ outcome: 'refused_from_memory' });
    return refusalError(kept.reply, kept.until);
  }

  /** Returns when sends to `destination` may be handed to the gateway; throws its refusal otherwise. */
  async admit(destination: string): Promise<void> {
    const remembered = this.refusalFor(destination);
    if (remembered) throw remembered;
    if (this.accepted.get(destination)) return;
    let asking = this.asking.get(destination);
    if (!asking) {
      asking = this.ask(destination).finally(() => this.asking.delete(destination));
      this.asking.set(destination, asking);
    }
    await asking;
    const refusal = this.refusalFor(destination);
    if (refusal) throw refusal;
  }

  /** The gateway took a delivery for `destination` (200 or 202): not asked about again for a while. */
  delivered(destination: string): void {
    this.refused.delete(destination);
    this.accepted.set(destination, true);
  }

  /**
   * The gateway refused a delivery itself (its own vet, e.g. after a "go on" here went stale):
   * kept like a refusal to a question, when it says for how long.
   */
  deliveryRefused(destination: string, reply: DeliveryReply): void {
    const retryAfter = (reply.body as { retryAfter?: unknown }).retryAfter;
    if ((reply.body as { error?: unknown }).error !== 'unknown_server' || typeof retryAfter !== 'number' || retryAfter <= 0) return;
    this.keepRefusal(destination, reply, retryAfter * 1000);
  }

  private async ask(destination: string): Promise<void> {
    const verdict = await this.federation.vetDestination(destination);
    if (!verdict) {
      // A gateway without the question (or that failed on it): deliveries are vetted there, as
      // before; not asked again for a while, so sends pay no extra round trip meanwhile.
      this.metrics.destinationVerdicts.inc({ outcome: 'unasked' });
      this.accepted.set(destination, true);
      return;
    }
    if (!verdict.refusal) {
      this.metrics.destinationVerdicts.inc({ outcome: 'accepted' });
      this.accepted.set(destination, true);
      return;
    }
    this.metrics.destinationVerdicts.inc({ outcome: 'refused' });
    if (verdict.refusalForMs > 0) this.keepRefusal(destination, verdict.refusal, verdict.refusalForMs);
    else throw refusalError(verdict.refusal, Date.now());
  }

  private keepRefusal(destination: string, reply: DeliveryReply, forMs: number): void {
    this.accepted.delete(destination);
    this.refused.set(destination, { reply, until: Date.now() + Math.min(forMs, MAX_REFUSAL_MS) });
  }
}

/**
 * The gateway's answer as the sender's: its status, error and message; a `retryAfter` (seconds)
 * counted down to `until` and passed on as Retry-After.
 */
export function refusalError(reply: DeliveryReply, until: number): ApiError {
  const { error, message, ...extra } = reply.body as { error?: string; message?: string; retryAfter?: unknown };
  if (typeof extra.retryAfter === 'number' && extra.retryAfter > 0 && until > Date.now())
    extra.retryAfter = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  const retryAfter: Record<string, string> =
    typeof extra.retryAfter === 'number' && extra.retryAfter > 0 ? { 'retry-after': String(extra.retryAfter) } : {};
  return new ApiError(
    reply.status,
    String(error ?? 'federation_refused'),
    String(message ?? `the recipient's homeserver answered ${reply.status}`),
    extra,
    retryAfter,
  );
}
