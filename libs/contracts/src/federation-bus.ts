import type { RemoteDelivery } from './federation-api';

/** Request/response patterns answered by the federation gateway. */
export const FederationPattern = {
  /** ClaimBundlesRequest → ClaimBundlesReply: a bundle of a user on another homeserver. */
  ClaimRemoteBundles: 'federation.claim-remote-bundles',
  /** OutboundDeliveryRequest → DeliveryReply: deliver now, or keep in the durable outbox (202). */
  Deliver: 'federation.deliver',
  /**
   * VetDestinationRequest → VetDestinationReply: may sends to this server go on? Asked by the
   * relay before it ships envelopes to a server it has no recent verdict for, so a refused
   * destination costs a few bytes on the bus, not the envelopes.
   */
  VetDestination: 'federation.vet-destination',
} as const;

/** Request/response patterns answered by the relay. */
export const RelayPattern = {
  /** InboundDeliveryRequest → DeliveryReply: envelopes arriving from another homeserver. */
  DeliverInbound: 'relay.deliver-inbound',
  /** DeliveryNoticeRequest → {stored: boolean}: a server notice to a local device (e.g. delivery failed). */
  DeliverNotice: 'relay.deliver-notice',
} as const;

export interface OutboundDeliveryRequest {
  destination: string;
  delivery: RemoteDelivery;
  /** The local sending device, told if delivery finally fails (absent for sealed sends). */
  sender?: { accountId: string; deviceId: number };
}

export interface VetDestinationRequest {
  /** A server name, as in an address after `@`. */
  destination: string;
}

/**
 * `refusal` null: sends to the destination may go on (the gateway still vets each delivery).
 * Else the answer to give the sender, which holds for `refusalForMs` (its Retry-After, or the
 * gateway's negative TTL): sends to it until then are refused the same way.
 */
export interface VetDestinationReply {
  refusal: DeliveryReply | null;
  refusalForMs: number;
}

export interface InboundDeliveryRequest {
  origin: string;
  delivery: RemoteDelivery;
}

/** status 200 delivered, 202 kept in the outbox, else the destination's 4xx answer (body as given). */
export interface DeliveryReply {
  status: number;
  body: Record<string, unknown>;
}

export interface DeliveryNoticeRequest {
  accountId: string;
  deviceId: number;
  notice: { notice: 'delivery-failed'; deliveryId: string; address: string; reason: string };
}
