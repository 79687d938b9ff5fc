import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { BUS_CLIENT } from '@sealpost/bus';
import { DeliveryReply, FederationPattern, OutboundDeliveryRequest } from '@sealpost/contracts';
import { ApiError } from '@sealpost/http';

/** Longer than the gateway's own attempt: it answers 202 (kept in its outbox) rather than time out. */
const DELIVER_TIMEOUT_MS = 30_000;

/** The relay's one call to the federation gateway: hand over envelopes for another homeserver. */
@Injectable()
export class FederationClient {
  constructor(@Inject(BUS_CLIENT) private readonly bus: ClientProxy) {}

  async deliver(request: OutboundDeliveryRequest): Promise<DeliveryReply> {
    try {
      return await firstValueFrom(this.bus.send<DeliveryReply>(FederationPattern.Deliver, request).pipe(timeout(DELIVER_TIMEOUT_MS)));
    } catch {
      throw new ApiError(503, 'federation_unavailable', 'the federation gateway did not answer; nothing was stored, retry later', {}, { 'retry-after': '1' });
    }
  }
}
