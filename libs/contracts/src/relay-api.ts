import { MAX_DEVICE_ID } from './address';
import { MAX_REGISTRATION_ID } from './directory-api';
import { ValidationError, optional, rejectUnknownFields, requireArray, requireBool, requireInt, requireObject } from './validation';

/** One sealed envelope per recipient device, as the sender submits it. */
export interface OutgoingMessage {
  deviceId: number;
  registrationId: number;
  type: number;
  content: Buffer;
}

export interface SendMessagesRequest {
  timestamp: number;
  urgent: boolean;
  messages: OutgoingMessage[];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * `content` over `maxContentBytes` is 413; every other problem 400, naming the field (fields
 * inside the body are named from the body: `messages[0].content`). `field` names the body itself:
 * `body` over HTTP, `message` in a send frame.
 */
export function parseSendMessagesRequest(body: unknown, maxContentBytes: number, field = 'body'): SendMessagesRequest {
  const obj = requireObject(body, field);
  rejectUnknownFields(obj, ['timestamp', 'urgent', 'messages', 'online'], '');
  const timestamp = requireInt(obj.timestamp, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
  const list = requireArray(obj.messages, 'messages', MAX_DEVICE_ID);
  if (list.length === 0) throw new ValidationError('messages', 'must not be empty');
  const seen = new Set<number>();
  const messages = list.map((value, i): OutgoingMessage => {
    const field = `messages[${i}]`;
    const m = requireObject(value, field);
    rejectUnknownFields(m, ['deviceId', 'registrationId', 'type', 'content'], field);
    const deviceId = requireInt(m.deviceId, `${field}.deviceId`, 1, MAX_DEVICE_ID);
    if (seen.has(deviceId)) throw new ValidationError(`${field}.deviceId`, `device ${deviceId} appears twice`);
    seen.add(deviceId);
    if (typeof m.content !== 'string' || !BASE64.test(m.content))
      throw new ValidationError(`${field}.content`, 'must be standard padded base64');
    // Decoded size = 3/4 of the text less padding: check before decoding anything large.
    const size = (m.content.length / 4) * 3 - (m.content.endsWith('==') ? 2 : m.content.endsWith('=') ? 1 : 0);
    if (size > maxContentBytes)
      throw new ValidationError(`${field}.content`, `must be at most ${maxContentBytes} bytes`, 413, 'payload_too_large');
    if (size === 0) throw new ValidationError(`${field}.content`, 'must not be empty');
    return {
      deviceId,
      registrationId: requireInt(m.registrationId, `${field}.registrationId`, 0, MAX_REGISTRATION_ID),
      type: requireInt(m.type, `${field}.type`, 0, 255),
      content: Buffer.from(m.content, 'base64'),
    };
  });
  return { timestamp, urgent: optional(obj.urgent, (v) => requireBool(v, 'urgent')) ?? false, messages };
}

/** What a device receives over its WebSocket. */
export interface EnvelopeJson {
  id: string;
  type: number;
  source?: string;
  sourceDevice?: number;
  destinationDevice: number;
  clientTimestamp: number;
  serverTimestamp: number;
  content: string;
}

export interface SendMessagesResponse {
  serverTimestamp: number;
}

/** 409: the message list does not cover exactly the recipient's current devices. */
export interface MismatchedDevicesBody {
  error: 'mismatched_devices';
  message: string;
  missingDevices: number[];
  extraDevices: number[];
}
/** 410: registration ids that no longer match (the device was re-installed). */
export interface StaleDevicesBody {
  error: 'stale_devices';
  message: string;
  staleDevices: number[];
}

/** Client → server WebSocket frames. */
export interface AckFrame {
  type: 'ack';
  ids: string[];
}

export const MAX_ACK_IDS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Parses a client frame; null for anything that is not a well-formed ack. */
export function parseAckFrame(raw: string): AckFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  return ackFrameOf(value);
}

/** A parsed client frame as an ack; null for anything that is not a well-formed ack. */
export function ackFrameOf(value: unknown): AckFrame | null {
  if (typeof value !== 'object' || value === null) return null;
  const frame = value as { type?: unknown; ids?: unknown };
  if (frame.type !== 'ack' || !Array.isArray(frame.ids) || frame.ids.length > MAX_ACK_IDS) return null;
  if (!frame.ids.every((id) => typeof id === 'string' && UUID.test(id))) return null;
  return { type: 'ack', ids: frame.ids as string[] };
}
