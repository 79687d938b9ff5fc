import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  FEDERATION_MAX_CONTENT_BYTES,
  ClaimBundlesReply,
  DeliveryReply,
  FederationPattern,
  OutboundDeliveryRequest,
  SERVER_PATTERN,
  VetDestinationReply,
  VetDestinationRequest,
  parseAddress,
  parseDeviceSelector,
  parseRemoteDelivery,
} from '@sealpost/contracts';
import { busErrorFrom, errorAnswer } from '@sealpost/http';
import { FederationHttpClient } from '../peers/federation-http.client';
import { PeerUnreachable } from '../peers/peer-resolver.service';
import { PeerAddressRefused } from '../peers/ssrf-guard';
import { DestinationVetting } from './destination-vetting.service';
import { OutboundDelivery } from './outbound-delivery.service';

/** What the directory and the relay of this homeserver ask of the gateway over the bus. */
@Controller()
export class FederationBusController {
  constructor(
    private readonly client: FederationHttpClient,
    private readonly delivery: OutboundDelivery,
    private readonly vetting: DestinationVetting,
  ) {}

  @MessagePattern(FederationPattern.ClaimRemoteBundles)
  async claimRemoteBundles(@Payload() request: { address?: unknown; deviceId?: unknown }): Promise<ClaimBundlesReply> {
    try {
      const address = parseAddress(request?.address);
      const deviceId = parseDeviceSelector(String(request?.deviceId));
      const answer = await this.client.request<ClaimBundlesReply>(
        address.server,
        'GET',
        `/federation/v1/keys/${encodeURIComponent(`${address.localpart}@${address.server}`)}/${deviceId}`,
      );
      if (answer.status === 200) return answer.body;
      const body = (answer.body ?? {}) as { error?: string; message?: string };
      if (answer.status === 404) return { status: 404, error: 'not_found', message: body.message ?? 'no such account or device' };
      if (answer.status === 429) return { status: 429, error: 'rate_limited', message: `${address.server} is rate limiting bundle claims` };
      return { status: 502, error: 'remote_refused', message: `${address.server} answered ${answer.status}` };
    } catch (error) {
      if (error instanceof PeerUnreachable || error instanceof PeerAddressRefused)
        return { status: 503, error: 'remote_unavailable', message: error.message };
      return busErrorFrom(error);
    }
  }

  @MessagePattern(FederationPattern.Deliver)
  async deliver(@Payload() request: OutboundDeliveryRequest): Promise<DeliveryReply> {
    try {
      const delivery = parseRemoteDelivery(request?.delivery, 'delivery', FEDERATION_MAX_CONTENT_BYTES);
      const destination = parseAddress(delivery.address).server;
      return await this.delivery.deliver({ destination, delivery, sender: request.sender });
    } catch (error) {
      const answer = errorAnswer(error);
      if (!answer) throw error;
      return answer;
    }
  }

  /** Asked before envelopes are shipped: a destination never heard from is checked (DestinationVetting) without them. */
  @MessagePattern(FederationPattern.VetDestination)
  async vetDestination(@Payload() request: VetDestinationRequest): Promise<VetDestinationReply> {
    const destination = request?.destination;
    if (typeof destination !== 'string' || !SERVER_PATTERN.test(destination)) {
      return {
        refusal: { status: 400, body: { error: 'invalid_request', message: 'destination: must be a server name' } },
        refusalForMs: 0,
      };
    }
    return this.vetting.verdict(destination);
  }
}
