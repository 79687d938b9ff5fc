import type { RemoteDelivery } from '@sealpost/contracts';

/** JSON of one message besides its base64 content, and of one delivery besides its messages (generous). */
const MESSAGE_OVERHEAD_BYTES = 256;
const DELIVERY_OVERHEAD_BYTES = 1024;

export interface RequestSizeLimits {
  maxEnvelopesPerRequest: number;
  maxBatchBodyBytes: number;
}

/**
 * Splits deliveries, keeping their order, into parts that a peer with these limits accepts as
 * one `PUT /federation/v1/messages` (≤ maxEnvelopesPerRequest messages and ≤ maxBatchBodyBytes
 * of JSON each), so a batch of multi-device deliveries is never refused 413 as a whole. A
 * delivery alone over the limits still goes alone (the peer judges it). Peers are assumed to run
 * the same limits as this server (the defaults, unless an operator changed them on both sides).
 */
export function requestSizedParts(deliveries: RemoteDelivery[], limits: RequestSizeLimits): RemoteDelivery[][] {
  const parts: RemoteDelivery[][] = [];
  let part: RemoteDelivery[] = [];
  let envelopes = 0;
  let bytes = 0;
  for (const delivery of deliveries) {
    const deliveryEnvelopes = delivery.messages.length;
    const deliveryBytes = delivery.messages.reduce((n, m) => n + m.content.length + MESSAGE_OVERHEAD_BYTES, DELIVERY_OVERHEAD_BYTES);
    const fits = envelopes + deliveryEnvelopes <= limits.maxEnvelopesPerRequest && bytes + deliveryBytes <= limits.maxBatchBodyBytes;
    if (part.length > 0 && !fits) {
      parts.push(part);
      part = [];
      envelopes = 0;
      bytes = 0;
    }
    part.push(delivery);
    envelopes += deliveryEnvelopes;
    bytes += deliveryBytes;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}
