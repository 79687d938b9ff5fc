import { parseAddress } from './address';
import { parseSendMessagesRequest } from './relay-api';
import { ValidationError, optional, rejectUnknownFields, requireArray, requireInt, requireObject, requireString } from './validation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * One send to a user of another homeserver, as it crosses federation: the origin's id (the
 * destination is idempotent on it), the recipient, the envelopes per device, and either the
 * identified sender (`source`, whose server must be the origin) or, for sealed sender, the
 * SHA-256 of the unidentified-access key the sender presented (the key itself never leaves the
 * origin relay; the recipient's homeserver compares it with the hash it holds).
 */
export interface RemoteDelivery {
  id: string;
  address: string;
  timestamp: number;
  urgent: boolean;
  messages: { deviceId: number; registrationId: number; type: number; content: string }[];
  source?: string;
  sourceDevice?: number;
  unidentifiedAccessKeyHash?: string;
}

export const MAX_DELIVERIES_PER_REQUEST = 1000;
/**
 * Content cap the gateways apply to deliveries in transit; the recipient's relay then applies its
 * operator's own MAX_ENVELOPE_BYTES.
 */
export const FEDERATION_MAX_CONTENT_BYTES = 64 * 1024 * 1024;

export function parseRemoteDelivery(value: unknown, field: string, maxContentBytes: number, address?: string): RemoteDelivery {
  const obj = requireObject(value, field);
  rejectUnknownFields(
    obj,
    ['id', 'address', 'timestamp', 'urgent', 'messages', 'source', 'sourceDevice', 'unidentifiedAccessKeyHash'],
    field,
  );
  const id = requireString(obj.id, `${field}.id`, UUID, 'a lower-case UUID');
  const target = address ?? requireString(obj.address, `${field}.address`, /^.{3,320}$/, 'an address');
  parseAddress(target, `${field}.address`);
  // Reuse the client-API rules for timestamp / messages / content size.
  const parsed = parseSendMessagesRequest({ timestamp: obj.timestamp, urgent: obj.urgent, messages: obj.messages }, maxContentBytes);
  const source = optional(obj.source, (v) => requireString(v, `${field}.source`, /^.{3,320}$/, 'an address'));
  if (source !== undefined) parseAddress(source, `${field}.source`);
  const sourceDevice = optional(obj.sourceDevice, (v) => requireInt(v, `${field}.sourceDevice`, 1, 127));
  const unidentifiedAccessKeyHash = optional(obj.unidentifiedAccessKeyHash, (v) =>
    requireString(v, `${field}.unidentifiedAccessKeyHash`, /^[A-Za-z0-9+/]{43}=$/, 'base64 of a SHA-256'),
  );
  if ((source === undefined) === (unidentifiedAccessKeyHash === undefined)) {
    throw new ValidationError(field, 'must carry either source (identified) or unidentifiedAccessKeyHash (sealed sender)');
  }
  if ((source === undefined) !== (sourceDevice === undefined)) throw new ValidationError(field, 'source and sourceDevice go together');
  return {
    id,
    address: target,
    timestamp: parsed.timestamp,
    urgent: parsed.urgent,
    messages: parsed.messages.map((m) => ({
      deviceId: m.deviceId,
      registrationId: m.registrationId,
      type: m.type,
      content: m.content.toString('base64'),
    })),
    source,
    sourceDevice,
    unidentifiedAccessKeyHash,
  };
}

export function parseDeliveryBatch(body: unknown, maxContentBytes: number): RemoteDelivery[] {
  const obj = requireObject(body, 'body');
  rejectUnknownFields(obj, ['deliveries'], '');
  const list = requireArray(obj.deliveries, 'deliveries', MAX_DELIVERIES_PER_REQUEST);
  return list.map((d, i) => parseRemoteDelivery(d, `deliveries[${i}]`, maxContentBytes));
}

/** The outcome of one delivery: the status the recipient's homeserver gave, and its body. */
export interface DeliveryResult {
  id: string;
  status: number;
  body: Record<string, unknown>;
}
