import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import type { RelayConfig } from '@sealpost/config';
import { BUS_CLIENT, NoBusReceiverError } from '@sealpost/bus';
import { DeliveryReply, FederationPattern, OutboundDeliveryRequest, VetDestinationReply } from '@sealpost/contracts';
import { ApiError } from '@sealpost/http';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';

const RETRY_AFTER = { 'retry-after': '1' };

/**
 * The relay's calls to the federation gateway: hand over envelopes for another homeserver, and
 * ask first whether sends to a server may go on at all (`vetDestination`, no envelopes).
 *
 * What a failed hand-off may claim depends on what the relay knows:
 * - the request reached no gateway (`PUBLISH` counted no subscriber): nothing was stored,
 *   503 `federation_unavailable`;
 * - the gateway got it but did not answer in time, or failed while handling it: it may have
 *   kept the envelopes in its outbox or delivered them already, so the outcome is unknown
 *   (504 / 503 `outcome_unknown`). A retry with the same Idempotency-Key stores nothing twice:
 *   the delivery id is derived from that key (MessageIntake), the gateway's outbox is keyed on it
 *   and the peer dedupes on it.
 */
@Injectable()
export class FederationClient {
  constructor(
    @Inject(BUS_CLIENT) private readonly bus: ClientProxy,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly metrics: RelayMetrics,
  ) {}

  /** `idempotent`: the delivery id was derived from the sender's Idempotency-Key (a retry with it stores nothing twice). */
  async deliver(request: OutboundDeliveryRequest, idempotent: boolean): Promise<DeliveryReply> {
    try {
      const reply = await firstValueFrom(
        this.bus.send<DeliveryReply>(FederationPattern.Deliver, request).pipe(timeout(this.config.federationHandoffTimeoutMs)),
      );
      this.metrics.handoffs.inc({ outcome: 'answered' });
      return reply;
    } catch (error) {
      throw this.failure(error, idempotent);
    }
  }

  /**
   * The gateway's verdict on `destination` (DestinationVerdicts), or null when no gateway could
   * give one: nobody listens for the question (an older gateway during an upgrade — or no gateway
   * at all, which the delivery then answers 503 `federation_unavailable`), or the gateway failed
   * on it. The send then goes on and the gateway vets its delivery, as before. No answer in time
   * is 503 `federation_unavailable`: nothing is stored by asking.
   */
  async vetDestination(destination: string): Promise<VetDestinationReply | null> {
    try {
      return await firstValueFrom(
        this.bus
          .send<VetDestinationReply>(FederationPattern.VetDestination, { destination })
          .pipe(timeout(this.config.federationHandoffTimeoutMs)),
      );
    } catch (error) {
      if (error instanceof TimeoutError) {
        this.metrics.handoffs.inc({ outcome: 'vet_timed_out' });
        throw new ApiError(
          503,
          'federation_unavailable',
          'the federation gateway did not answer in time; nothing was stored, retry later',
          {},
          RETRY_AFTER,
        );
      }
      return null;
    }
  }

  private failure(error: unknown, idempotent: boolean): ApiError {
    if (error instanceof NoBusReceiverError) {
      this.metrics.handoffs.inc({ outcome: 'no_gateway' });
      return new ApiError(
        503,
        'federation_unavailable',
        'no federation gateway is running; nothing was stored, retry later',
        {},
        RETRY_AFTER,
      );
    }
    const timedOut = error instanceof TimeoutError;
    this.metrics.handoffs.inc({ outcome: timedOut ? 'timed_out' : 'gateway_failed' });
    const what = timedOut ? 'the federation gateway did not answer in time' : 'the federation gateway failed while taking the envelopes';
    const retry = idempotent
      ? 'retry with the same Idempotency-Key, which stores nothing twice'
      : 'a retry may deliver them twice; send with an Idempotency-Key and retry with the same Idempotency-Key';
    return new ApiError(timedOut ? 504 : 503, 'outcome_unknown', `${what}; the envelopes may have been stored; ${retry}`, {}, RETRY_AFTER);
  }
}
