import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import {
  DeliveryNoticeRequest,
  DeliveryReply,
  InboundDeliveryRequest,
  RelayPattern,
  ValidationError,
  parseRemoteDelivery,
} from '@sealpost/contracts';
import type { RelayConfig } from '@sealpost/config';
import { errorAnswer } from '@sealpost/http';
import { DeliveryNotifier } from '../delivery/delivery-notifier.service';
import { RELAY_CONFIG } from '../relay.tokens';
import { EnvelopePersister } from './envelope-persister.service';
import { MessageIntake } from './message-intake.service';

/** Envelope type of a server notice (not sealed: server-made metadata about the device's own sends). */
export const SERVER_NOTICE_TYPE = 0;

/** What the federation gateway asks of the relay over the bus. */
@Controller()
export class RelayBusController {
  constructor(
    private readonly intake: MessageIntake,
    private readonly persister: EnvelopePersister,
    private readonly notifier: DeliveryNotifier,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  /** Envelopes from another homeserver: the same checks and the same content cap as a local send. */
  @MessagePattern(RelayPattern.DeliverInbound)
  async deliverInbound(@Payload() request: InboundDeliveryRequest): Promise<DeliveryReply> {
    try {
      const delivery = parseRemoteDelivery(request?.delivery, 'delivery', this.config.maxContentBytes);
      if (typeof request.origin !== 'string') throw new ValidationError('origin', 'is required');
      return { status: 200, body: { ...(await this.intake.deliverInbound(request.origin, delivery)) } };
    } catch (error) {
      const answer = errorAnswer(error);
      if (!answer) throw error;
      return answer;
    }
  }

  /** Queues a server notice for one local device (e.g. a federated delivery failed for good). */
  @MessagePattern(RelayPattern.DeliverNotice)
  async deliverNotice(@Payload() request: DeliveryNoticeRequest): Promise<{ stored: boolean }> {
    if (typeof request?.accountId !== 'string' || typeof request.deviceId !== 'number') return { stored: false };
    const now = Date.now();
    const envelope = {
      accountId: request.accountId,
      deviceId: request.deviceId,
      id: randomUUID(),
      type: SERVER_NOTICE_TYPE,
      source: null,
      sourceDevice: null,
      clientTimestamp: now,
      serverTimestamp: now,
      content: Buffer.from(JSON.stringify(request.notice)),
    };
    const result = await this.persister.persist({ envelopes: [envelope], response: {} });
    if (result.stored) this.notifier.stored(request.accountId, [{ ...envelope, seq: result.seqs[0] }]);
    return { stored: result.stored };
  }
}
